/*
 * reader_helpers.h - test helpers: run the tokenizer over a string or a file
 * and collect what it yields (segments as text, diagnostics) for asserts.
 */
#ifndef READER_HELPERS_H
#define READER_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x12_envelope.h"
#include "x12_reader.h"

#define TR_MAX 512

typedef struct tr_result {
    int nseg;
    char *seg[TR_MAX];        /* "TAG|e1|e2..." with '|' between elements */
    x12_pos pos[TR_MAX];
    int ndiag;
    x12_diag diag[64];
    int rc;                   /* last x12_next result */
    int more;                 /* segments read past TR_MAX */
    ch_error err;
    x12_delims delims[TR_MAX];
} tr_result;

static inline void tr_on_diag(void *ctx, const x12_diag *d)
{
    tr_result *t = ctx;
    if (t->ndiag < 64)
        t->diag[t->ndiag++] = *d;
}

static inline void tr_collect(tr_result *t, x12_reader *r)
{
    x12_segment s;
    while ((t->rc = x12_next(r, &s)) == X12_SEGMENT) {
        if (t->nseg >= TR_MAX) {
            t->more++; /* read on to the end; keep only the first TR_MAX */
            continue;
        }
        size_t cap = s.raw_len + 8;
        char *b = malloc(cap);
        size_t o = 0;
        o += (size_t)snprintf(b, cap, "%.*s", (int)s.tag.len, s.tag.p);
        for (unsigned i = 1; i <= s.nelem; i++) {
            x12_str e = x12_elem(&s, i);
            b[o++] = '|';
            memcpy(b + o, e.p, e.len);
            o += e.len;
        }
        b[o] = '\0';
        t->pos[t->nseg] = s.pos;
        t->delims[t->nseg] = *s.delims;
        t->seg[t->nseg++] = b;
    }
    t->err = *x12_reader_error(r);
}

/* Tokenize a memory buffer. */
static inline void tr_mem(tr_result *t, const char *data, size_t len, size_t max_segment)
{
    memset(t, 0, sizeof *t);
    x12_reader_opts o = {.max_segment = max_segment, .on_diag = tr_on_diag, .diag_ctx = t};
    x12_reader *r;
    x12_open_mem(&r, data, len, "mem", &o, NULL);
    tr_collect(t, r);
    x12_close(r);
}

/* Tokenize the same bytes through a file descriptor, read_size bytes a read. */
static inline void tr_fd(tr_result *t, const char *data, size_t len, size_t read_size,
                         size_t max_segment)
{
    memset(t, 0, sizeof *t);
    char path[] = "/tmp/ch-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    unlink(path);
    if (write(fd, data, len) != (ssize_t)len) {
        close(fd);
        return;
    }
    lseek(fd, 0, SEEK_SET);
    x12_reader_opts o = {.max_segment = max_segment, .read_size = read_size,
                         .on_diag = tr_on_diag, .diag_ctx = t};
    x12_reader *r;
    x12_open_fd(&r, fd, "fd", &o, NULL);
    tr_collect(t, r);
    x12_close(r);
    close(fd);
}

static inline void tr_free(tr_result *t)
{
    for (int i = 0; i < t->nseg; i++)
        free(t->seg[i]);
    t->nseg = 0;
}

/* Index of the first diagnostic with this code, or -1. */
static inline int tr_find(const tr_result *t, const char *code)
{
    for (int i = 0; i < t->ndiag; i++)
        if (t->diag[i].code && !strcmp(t->diag[i].code, code))
            return i;
    return -1;
}

/* A well-formed 5010 ISA with delimiters * ^ : ~ (106 bytes + terminator). */
#define TR_ISA "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*1200*^*00501*000000001*0*T*:~"

#endif
