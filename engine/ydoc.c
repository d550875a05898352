/* ydoc.c - see ydoc.h */
#include "ydoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "ydoc_fast.h"

/* --- arena --------------------------------------------------------------- */

/* Nodes of one document are many and small and die together: a bump
 * allocator over 64 KiB chunks makes building and freeing a tree cheap. */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk;

typedef struct arena {
    chunk *head;
} arena;

#define CHUNK_SIZE (64u << 10)

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->used = 0;
        c->size = size;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Free all chunks but one, which is kept (emptied) for reuse. */
static void arena_reset(arena *a)
{
    chunk *c = a->head;
    if (!c)
        return;
    chunk *keep = c;
    for (c = c->next; c;) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    /* keep the first-allocated standard-size chunk if the head is oversized */
    keep->next = NULL;
    keep->used = 0;
    a->head = keep;
}

static void arena_free(arena *a)
{
    for (chunk *c = a->head; c;) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
}

struct ydoc {
    arena a;
    ydoc_node *root;
};

/* --- builder ------------------------------------------------------------- */

typedef struct frame {
    ydoc_node *node;
    ydoc_node **kids; /* children collected so far (heap, reused) */
    size_t n, cap;
} frame;

typedef struct builder {
    const char *name;
    arena *a;
    frame stack[YDOC_MAX_DEPTH + 1];
    int depth;          /* frames in use */
    size_t nodes;       /* nodes in the current unit */
    int each;           /* streaming: deliver units */
    int root_is_seq;    /* each-mode: the document root is a list being split */
    ydoc_node split_root;
    long item_index;
    ydoc_each_fn fn;
    void *ctx;
    ydoc_node *root;    /* single-document mode: the finished root */
    ch_error *err;
} builder;

/* Where an event starts, 0-based as libyaml's marks. */
typedef struct mark {
    unsigned long line, col;
} mark;

static mark mark_of(const yaml_mark_t *m) { return (mark){(unsigned long)m->line, (unsigned long)m->column}; }

static ch_code at(builder *b, const mark *m, ch_code code, const char *what)
{
    return ch_error_set(b->err, code, "%s:%lu:%lu: %s", b->name, m->line + 1, m->col + 1, what);
}

static ch_code nomem(builder *b) { return ch_error_set(b->err, CH_ERR_NOMEM, "%s: out of memory", b->name); }

static int push_kid(frame *f, ydoc_node *n)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        ydoc_node **k = realloc(f->kids, cap * sizeof *k);
        if (!k)
            return -1;
        f->kids = k;
        f->cap = cap;
    }
    f->kids[f->n++] = n;
    return 0;
}

/* A node is complete: attach it to its parent, or deliver it. */
static ch_code finished(builder *b, ydoc_node *n, const mark *m)
{
    if (b->depth == 0) {
        b->root = n;
        if (b->each) {
            ch_code rc = b->fn(b->ctx, n, -1);
            arena_reset(b->a);
            b->nodes = 0;
            return rc;
        }
        return CH_OK;
    }
    frame *f = &b->stack[b->depth - 1];
    if (b->each && b->root_is_seq && b->depth == 1) {
        ch_code rc = b->fn(b->ctx, n, b->item_index++);
        arena_reset(b->a);
        b->nodes = 0;
        return rc;
    }
    if (f->node->kind == YDOC_MAP && f->n % 2 == 0) {
        /* n is a key */
        if (n->kind != YDOC_SCALAR)
            return at(b, m, CH_ERR_SYNTAX, "a key must be a plain value, not a list or mapping");
        if (f->n / 2 >= YDOC_MAX_KEYS)
            return at(b, m, CH_ERR_LIMIT, "more than 1000 keys in one mapping");
        for (size_t i = 0; i < f->n; i += 2)
            if (f->kids[i]->len == n->len && !memcmp(f->kids[i]->str, n->str, n->len)) {
                char msg[200];
                snprintf(msg, sizeof msg, "key '%.64s' appears twice in this mapping", n->str);
                return at(b, m, CH_ERR_SYNTAX, msg);
            }
    }
    if (push_kid(f, n))
        return nomem(b);
    return CH_OK;
}

static ydoc_node *new_node(builder *b, ydoc_kind k, const mark *m)
{
    if (++b->nodes > YDOC_MAX_NODES) {
        at(b, m, CH_ERR_LIMIT, "more than " "200000" " values in one document");
        return NULL;
    }
    ydoc_node *n = arena_alloc(b->a, sizeof *n);
    if (!n) {
        nomem(b);
        return NULL;
    }
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->col + 1;
    return n;
}

static ch_code on_scalar(builder *b, const mark *m, const char *str, size_t len, int plain)
{
    ydoc_node *n = new_node(b, YDOC_SCALAR, m);
    if (!n)
        return b->err ? b->err->code : CH_ERR_NOMEM;
    char *s = arena_alloc(b->a, len + 1);
    if (!s)
        return nomem(b);
    memcpy(s, str, len);
    s[len] = '\0';
    n->str = s;
    n->len = len;
    n->plain = plain;
    return finished(b, n, m);
}

static ch_code on_start(builder *b, const mark *m, int seq)
{
    if (b->depth >= YDOC_MAX_DEPTH)
        return at(b, m, CH_ERR_LIMIT, "nested more than 32 levels deep");
    ydoc_node *n;
    if (b->each && b->depth == 0 && seq) {
        /* split this list: its items are delivered one by one */
        b->root_is_seq = 1;
        b->item_index = 0;
        memset(&b->split_root, 0, sizeof b->split_root);
        b->split_root.kind = YDOC_SEQ;
        n = &b->split_root;
    } else {
        n = new_node(b, seq ? YDOC_SEQ : YDOC_MAP, m);
        if (!n)
            return b->err ? b->err->code : CH_ERR_NOMEM;
    }
    frame *f = &b->stack[b->depth++];
    f->node = n;
    f->n = 0;
    return CH_OK;
}

static ch_code on_end(builder *b, const mark *m)
{
    frame *f = &b->stack[--b->depth];
    ydoc_node *n = f->node;
    if (n == &b->split_root) {
        b->root_is_seq = 0;
        return CH_OK;
    }
    n->n = n->kind == YDOC_MAP ? f->n / 2 : f->n;
    if (f->n) {
        n->items = arena_alloc(b->a, f->n * sizeof *n->items);
        if (!n->items)
            return nomem(b);
        memcpy(n->items, f->kids, f->n * sizeof *n->items);
    }
    return finished(b, n, m);
}

static ch_code on_event(builder *b, const yaml_event_t *e)
{
    mark m = mark_of(&e->start_mark);
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        return at(b, &m, CH_ERR_SYNTAX, "aliases (*name) are not supported");
    case YAML_SCALAR_EVENT:
        return on_scalar(b, &m, (const char *)e->data.scalar.value, e->data.scalar.length,
                         e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        return on_start(b, &m, e->type == YAML_SEQUENCE_START_EVENT);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b, &m);
    default:
        return CH_OK;
    }
}

/* The events of the fast scanner, through the same builder. */
static ch_code replay(builder *b, const yf_events *ev)
{
    ch_code rc = CH_OK;
    for (size_t i = 0; i < ev->n && rc == CH_OK; i++) {
        const yf_event *e = &ev->v[i];
        mark m = {e->line, e->col};
        switch ((yf_type)e->type) {
        case YF_SCALAR:
            rc = on_scalar(b, &m, e->str, e->len, e->plain);
            break;
        case YF_SEQ_START:
        case YF_MAP_START:
            rc = on_start(b, &m, e->type == YF_SEQ_START);
            break;
        case YF_END:
            rc = on_end(b, &m);
            break;
        }
    }
    return rc;
}

static void free_stack(builder *b)
{
    for (int i = 0; i <= YDOC_MAX_DEPTH; i++) {
        free(b->stack[i].kids);
        b->stack[i].kids = NULL;
    }
}

static int fast_off; /* tests: libyaml for everything */

void ydoc_fast(int on) { fast_off = !on; }

static ch_code run(builder *b, const char *buf, size_t len)
{
    if (!fast_off && len <= YDOC_FAST_MAX_BYTES) {
        yf_events ev = {NULL, 0, 0};
        int ok = ydoc_fast_scan(buf, len, &ev);
        ch_code rc = ok ? replay(b, &ev) : CH_OK;
        free(ev.v);
        if (ok) {
            free_stack(b);
            return rc;
        }
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return nomem(b);
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    ch_code rc = CH_OK;
    int docs = 0;
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s%s%s", p.problem ? p.problem : "malformed",
                     p.context ? " " : "", p.context ? p.context : "");
            mark m = mark_of(&p.problem_mark);
            rc = at(b, &m, p.error == YAML_MEMORY_ERROR ? CH_ERR_NOMEM : CH_ERR_SYNTAX, msg);
            break;
        }
        yaml_event_type_t t = e.type;
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1 && !b->each)
            rc = at(b, &(mark){(unsigned long)e.start_mark.line, (unsigned long)e.start_mark.column}, CH_ERR_SYNTAX,
                    "more than one document (---) in the file");
        else
            rc = on_event(b, &e);
        yaml_event_delete(&e);
        if (rc != CH_OK || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    free_stack(b);
    return rc;
}

ch_code ydoc_parse(ydoc **out, const char *buf, size_t len, const char *name, ch_error *err)
{
    *out = NULL;
    ydoc *d = calloc(1, sizeof *d);
    if (!d)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", name);
    builder b;
    memset(&b, 0, sizeof b);
    b.name = name;
    b.a = &d->a;
    b.err = err;
    ch_code rc = run(&b, buf, len);
    if (rc != CH_OK) {
        ydoc_free(d);
        return rc;
    }
    d->root = b.root;
    *out = d;
    return CH_OK;
}

ch_code ydoc_each(const char *buf, size_t len, const char *name, ydoc_each_fn fn, void *ctx,
                  ch_error *err)
{
    arena a = {NULL};
    builder b;
    memset(&b, 0, sizeof b);
    b.name = name;
    b.a = &a;
    b.err = err;
    b.each = 1;
    b.fn = fn;
    b.ctx = ctx;
    ch_code rc = run(&b, buf, len);
    arena_free(&a);
    return rc;
}

ch_code ydoc_load(ydoc **out, const char *path, size_t max_bytes, ch_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return ch_error_set(err, CH_ERR_LIMIT, "%s: larger than %zu bytes", path, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return ch_error_set(err, CH_ERR_IO, "%s: %s", path, r < 0 ? strerror(e) : "file shrank while read");
        }
        got += (size_t)r;
    }
    close(fd);
    ch_code rc = ydoc_parse(out, buf, size, path, err);
    free(buf);
    return rc;
}

const ydoc_node *ydoc_root(const ydoc *d) { return d ? d->root : NULL; }

void ydoc_free(ydoc *d)
{
    if (!d)
        return;
    arena_free(&d->a);
    free(d);
}

const ydoc_node *ydoc_get(const ydoc_node *map, const char *key)
{
    if (!map || map->kind != YDOC_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const ydoc_node *k = map->items[2 * i];
        if (k->len == kl && !memcmp(k->str, key, kl))
            return map->items[2 * i + 1];
    }
    return NULL;
}

int ydoc_is_null(const ydoc_node *n)
{
    if (!n)
        return 1;
    if (n->kind != YDOC_SCALAR || !n->plain)
        return 0;
    return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") || !strcmp(n->str, "Null") ||
           !strcmp(n->str, "NULL");
}

const char *ydoc_kind_name(const ydoc_node *n)
{
    if (!n)
        return "nothing";
    return n->kind == YDOC_MAP ? "a mapping" : n->kind == YDOC_SEQ ? "a list" : "a value";
}

const ydoc_node *ydoc_find(const ydoc_node *root, const char *path)
{
    const ydoc_node *n = root;
    const char *p = path;
    while (n && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (*end != ']' || n->kind != YDOC_SEQ || i >= n->n)
                return NULL;
            n = n->items[i];
            p = end + 1;
            continue;
        }
        size_t k = strcspn(p, ".[");
        char key[128];
        if (k >= sizeof key)
            return NULL;
        memcpy(key, p, k);
        key[k] = '\0';
        n = ydoc_get(n, key);
        p += k;
    }
    return n;
}

/* --- settings helpers -------------------------------------------------------- */

ch_code ydoc_error(ch_error *err, const ydoc_node *n, const char *file, const char *path, const char *key,
                   const char *fmt, ...)
{
    char msg[CH_ERROR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char where[160];
    snprintf(where, sizeof where, "%s%s%s", path ? path : "", path && path[0] && key && key[0] ? "." : "",
             key ? key : "");
    if (n)
        return ch_error_set(err, CH_ERR_CONFIG, "%s:%u: %s%s%s", file, n->line, where, where[0] ? ": " : "", msg);
    return ch_error_set(err, CH_ERR_CONFIG, "%s: %s%s%s", file, where, where[0] ? ": " : "", msg);
}

ch_code ydoc_only_keys(const ydoc_node *map, const char *const *allowed, const char *file, const char *path,
                       ch_error *err)
{
    if (!map)
        return CH_OK;
    if (map->kind != YDOC_MAP)
        return ydoc_error(err, map, file, path, NULL, "expected a mapping, found %s", ydoc_kind_name(map));
    for (size_t i = 0; i < map->n; i++) {
        const ydoc_node *k = map->items[2 * i];
        const char *const *a = allowed;
        while (*a && strcmp(*a, k->str))
            a++;
        if (!*a)
            return ydoc_error(err, k, file, path, k->str, "unknown setting");
    }
    return CH_OK;
}

ch_code ydoc_str(const ydoc_node *map, const char *key, char *dst, size_t size, int required, const char *file,
                 const char *path, ch_error *err)
{
    const ydoc_node *v = ydoc_get(map, key);
    dst[0] = '\0';
    if (ydoc_is_null(v)) {
        if (required)
            return ydoc_error(err, map, file, path, key, "required");
        return CH_OK;
    }
    if (v->kind != YDOC_SCALAR)
        return ydoc_error(err, v, file, path, key, "expected a value, found %s", ydoc_kind_name(v));
    if (v->len >= size)
        return ydoc_error(err, v, file, path, key, "longer than %zu characters", size - 1);
    memcpy(dst, v->str, v->len + 1);
    return CH_OK;
}

ch_code ydoc_uint(const ydoc_node *map, const char *key, unsigned long min, unsigned long max, unsigned long dflt,
                  unsigned long *out, const char *file, const char *path, ch_error *err)
{
    const ydoc_node *v = ydoc_get(map, key);
    *out = dflt;
    if (ydoc_is_null(v))
        return CH_OK;
    char *end;
    errno = 0;
    unsigned long x = v->kind == YDOC_SCALAR && v->str[0] >= '0' && v->str[0] <= '9' ? strtoul(v->str, &end, 10) : 0;
    if (v->kind != YDOC_SCALAR || v->str[0] < '0' || v->str[0] > '9' || *end || errno || x < min || x > max)
        return ydoc_error(err, v, file, path, key, "expected a whole number from %lu to %lu", min, max);
    *out = x;
    return CH_OK;
}

ch_code ydoc_bool(const ydoc_node *map, const char *key, int dflt, int *out, const char *file, const char *path,
                  ch_error *err)
{
    const ydoc_node *v = ydoc_get(map, key);
    *out = dflt;
    if (ydoc_is_null(v))
        return CH_OK;
    if (v->kind == YDOC_SCALAR) {
        if (!strcmp(v->str, "true") || !strcmp(v->str, "yes") || !strcmp(v->str, "on")) {
            *out = 1;
            return CH_OK;
        }
        if (!strcmp(v->str, "false") || !strcmp(v->str, "no") || !strcmp(v->str, "off")) {
            *out = 0;
            return CH_OK;
        }
    }
    return ydoc_error(err, v, file, path, key, "expected true or false");
}
