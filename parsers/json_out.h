/*
 * json_out.h - a small streaming JSON writer.
 *
 * Writes either into a caller's fixed buffer (truncating safely; json_len()
 * tells how much would have been written) or straight to a FILE.  Commas and
 * nesting are tracked here so callers only say what comes next.  Strings are
 * escaped per RFC 8259; bytes >= 0x80 are passed through (UTF-8).  Money is
 * written from integer cents without floating point.
 */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_out {
    char *buf;
    size_t size, len;
    FILE *fp;
    int depth;
    uint64_t has_items; /* bit d: the container at depth d has an item */
    int after_key;
} json_out;

void json_init(json_out *j, char *buf, size_t size);
void json_init_file(json_out *j, FILE *fp);
size_t json_len(const json_out *j);

void json_obj_begin(json_out *j);
void json_obj_end(json_out *j);
void json_arr_begin(json_out *j);
void json_arr_end(json_out *j);
void json_key(json_out *j, const char *key);

void json_str(json_out *j, const char *s);
void json_strn(json_out *j, const char *s, size_t n);
void json_uint(json_out *j, uint64_t v);
void json_int(json_out *j, int64_t v);
void json_bool(json_out *j, int v);
void json_null(json_out *j);
/* A value that is already JSON text (e.g. from x12_diag_json). */
void json_raw(json_out *j, const char *text);
/* cents as a JSON number with two decimals: 12345 -> 123.45 */
void json_cents(json_out *j, int64_t cents);

void json_kv_str(json_out *j, const char *key, const char *s);
void json_kv_strn(json_out *j, const char *key, const char *s, size_t n);
void json_kv_uint(json_out *j, const char *key, uint64_t v);
void json_kv_int(json_out *j, const char *key, int64_t v);
void json_kv_bool(json_out *j, const char *key, int v);
void json_kv_cents(json_out *j, const char *key, int64_t cents);

#endif
