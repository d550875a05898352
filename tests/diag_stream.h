/*
 * diag_stream.h - validator diagnostics as one comparable text, and the
 * byte mutations the differential validator tests share
 * (test_validate_fast.c: fast paths against full checks;
 * test_validate_par.c: worker threads against one thread).
 */
#ifndef TESTS_DIAG_STREAM_H
#define TESTS_DIAG_STREAM_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tu.h"
#include "x12_diag.h"

typedef struct sink {
    char *buf;
    size_t len, cap;
} sink;

static inline void put(sink *s, const char *text)
{
    size_t n = strlen(text);
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        cr_assert_not_null(s->buf);
    }
    memcpy(s->buf + s->len, text, n + 1);
    s->len += n;
}

static inline void on_diag(void *ctx, const x12_diag *d)
{
    char line[1024];
    snprintf(line, sizeof line,
             "%s:%llu/%llu/%u/%u/%u/%u/%u/%s/%s/%s|%d|%d|%s|%s|%s|%s|%d|%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|%u\n",
             d->file ? d->file : "-", (unsigned long long)d->pos.offset, (unsigned long long)d->pos.seg_no, d->pos.seg_in_isa,
             d->pos.seg_in_st, d->pos.isa_index, d->pos.gs_index, d->pos.st_index, d->pos.isa13,
             d->pos.gs06, d->pos.st02, (int)d->severity, d->level, d->code, d->tag,
             d->loop_id ? d->loop_id : "-", d->loop_name ? d->loop_name : "-", d->elem, d->comp, d->rep,
             d->found, d->expected, d->msg, d->ik3, d->ik4, d->ik5, d->ak9, d->ta1, d->ele_ref);
    put(ctx, line);
}

static inline uint64_t rng(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* A copy of p with one to three bytes replaced, deleted or inserted. */
static inline char *mutate(const char *p, size_t len, uint64_t *st, size_t *out_len)
{
    static const char pool[] = "0123456789ABCDEFHIKLMNOPRSTUXZ*:^~>|.- \x01\x1f\x7f\n";
    char *m = malloc(len + 4);
    cr_assert_not_null(m);
    memcpy(m, p, len);
    size_t n = len;
    unsigned edits = 1 + (unsigned)(rng(st) % 3);
    for (unsigned k = 0; k < edits && n > 110; k++) {
        /* mostly past the ISA, so most mutants are still read */
        size_t at = 106 + (size_t)(rng(st) % (n - 106));
        char ch = pool[rng(st) % (sizeof pool - 1)];
        switch (rng(st) % 4) {
        case 0:
            memmove(m + at, m + at + 1, n - at - 1);
            n--;
            break;
        case 1:
            memmove(m + at + 1, m + at, n - at);
            m[at] = ch;
            n++;
            break;
        default:
            m[at] = ch;
            break;
        }
    }
    *out_len = n;
    return m;
}

/* Calls fn for every file of tests/corpus/{837p,837i,835,999,277ca,bad}
 * (its text NUL-terminated, freed after the call); returns how many. */
typedef void (*ds_file_fn)(const char *path, const char *text, size_t len, unsigned index,
                           void *ctx);
static inline unsigned ds_each_corpus_file(ds_file_fn fn, void *ctx)
{
    static const char *const dirs[] = {"837p", "837i", "835", "999", "277ca", "bad"};
    unsigned files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/tests/corpus/%s", tu_root(), dirs[d]);
        DIR *dp = opendir(dir);
        cr_assert_not_null(dp, "%s", dir);
        struct dirent *de;
        while ((de = readdir(dp))) {
            if (de->d_name[0] == '.')
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            size_t len;
            char *text = tu_read(path, &len);
            if (!text)
                continue;
            fn(path, text, len, ++files, ctx);
            free(text);
        }
        closedir(dp);
    }
    return files;
}

#endif
