/* json_out.c - see json_out.h */
#include "json_out.h"

#include <inttypes.h>
#include <string.h>

void json_init(json_out *j, char *buf, size_t size)
{
    memset(j, 0, sizeof *j);
    j->buf = buf;
    j->size = size;
    if (buf && size)
        buf[0] = '\0';
}

void json_init_file(json_out *j, FILE *fp)
{
    memset(j, 0, sizeof *j);
    j->fp = fp;
}

size_t json_len(const json_out *j) { return j->len; }

static void put(json_out *j, const char *s, size_t n)
{
    if (j->fp) {
        fwrite(s, 1, n, j->fp);
    } else if (j->buf && j->len + 1 < j->size) {
        size_t room = j->size - 1 - j->len;
        memcpy(j->buf + j->len, s, n < room ? n : room);
        j->buf[j->len + (n < room ? n : room)] = '\0';
    }
    j->len += n;
}

static void sep(json_out *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0 && j->depth < 64) {
        if (j->has_items & (1ull << j->depth))
            put(j, ",", 1);
        j->has_items |= 1ull << j->depth;
    }
}

static void open_(json_out *j, char c)
{
    sep(j);
    put(j, &c, 1);
    j->depth++;
    if (j->depth < 64)
        j->has_items &= ~(1ull << j->depth);
}

static void close_(json_out *j, char c)
{
    put(j, &c, 1);
    if (j->depth > 0)
        j->depth--;
}

void json_obj_begin(json_out *j) { open_(j, '{'); }
void json_obj_end(json_out *j) { close_(j, '}'); }
void json_arr_begin(json_out *j) { open_(j, '['); }
void json_arr_end(json_out *j) { close_(j, ']'); }

static void raw_str(json_out *j, const char *s, size_t n)
{
    put(j, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c);
            esc = tmp;
        }
        if (esc) {
            put(j, s + i - run, run);
            run = 0;
            put(j, esc, strlen(esc));
        } else {
            run++;
        }
    }
    put(j, s + n - run, run);
    put(j, "\"", 1);
}

void json_key(json_out *j, const char *key)
{
    sep(j);
    raw_str(j, key, strlen(key));
    put(j, ":", 1);
    j->after_key = 1;
}

void json_strn(json_out *j, const char *s, size_t n)
{
    sep(j);
    raw_str(j, s, n);
}

void json_str(json_out *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_strn(j, s, strlen(s));
}

void json_uint(json_out *j, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    sep(j);
    put(j, b, (size_t)n);
}

void json_int(json_out *j, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    sep(j);
    put(j, b, (size_t)n);
}

void json_bool(json_out *j, int v)
{
    sep(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(json_out *j)
{
    sep(j);
    put(j, "null", 4);
}

void json_raw(json_out *j, const char *text)
{
    sep(j);
    put(j, text, strlen(text));
}

void json_cents(json_out *j, int64_t cents)
{
    char b[32];
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    int n = snprintf(b, sizeof b, "%s%" PRIu64 ".%02u", cents < 0 ? "-" : "", a / 100,
                     (unsigned)(a % 100));
    sep(j);
    put(j, b, (size_t)n);
}

void json_kv_str(json_out *j, const char *k, const char *s) { json_key(j, k); json_str(j, s); }
void json_kv_strn(json_out *j, const char *k, const char *s, size_t n) { json_key(j, k); json_strn(j, s, n); }
void json_kv_uint(json_out *j, const char *k, uint64_t v) { json_key(j, k); json_uint(j, v); }
void json_kv_int(json_out *j, const char *k, int64_t v) { json_key(j, k); json_int(j, v); }
void json_kv_bool(json_out *j, const char *k, int v) { json_key(j, k); json_bool(j, v); }
void json_kv_cents(json_out *j, const char *k, int64_t c) { json_key(j, k); json_cents(j, c); }
