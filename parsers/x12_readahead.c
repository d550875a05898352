/*
 * x12_readahead.c - the tokenizer on a second thread (see x12_readahead.h).
 *
 * Batches are used round-robin: the reading thread fills batch i while the
 * caller works through batch i-1; a batch is either the producer's (being
 * filled) or, once marked full, the consumer's until it has handed out all
 * of it.  Records in a batch are 8-byte aligned:
 *
 *   SEG   header, [x12_pos + x12_delims when `full`], elem_end[nelem + 1], raw
 *   DIAG  header, x12_diag
 *   END   header, return code, error, final offset
 *
 * A segment that simply follows the one before (the common case) carries
 * only its byte offset; the consumer advances its copy of the position the
 * way the tokenizer does.  Anything else (an envelope, a new interchange)
 * carries the whole position and the delimiters.
 */
#include "x12_readahead.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>

enum { REC_SEG = 1, REC_DIAG, REC_END };

typedef struct rec_head {
    uint32_t kind;
    uint32_t size; /* of the whole record, a multiple of 8 */
} rec_head;

typedef struct rec_seg {
    rec_head h;
    uint32_t nelem, raw_len;
    uint64_t offset;
    uint32_t full, pad;
} rec_seg;

typedef struct rec_end {
    rec_head h;
    int rc;
    uint64_t offset;
    ch_error err;
} rec_end;

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)
#define POS_BYTES ALIGN8(sizeof(x12_pos))
#define DELIM_BYTES ALIGN8(sizeof(x12_delims))

typedef struct batch {
    unsigned char *buf;
    size_t used;
    int full; /* the consumer's (guarded by mu) */
} batch;

struct x12_ahead {
    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_full;
    pthread_t th;
    int started, stop;
    batch b[X12_AHEAD_BATCHES];
    size_t cap;
    /* producer side */
    x12_reader *r;
    unsigned pi;
    x12_pos prev;
    int have_prev;
    /* consumer side */
    unsigned ci;
    size_t at;
    int holding, done, rc;
    x12_pos cur;
    x12_delims delims;
    uint64_t offset;
    ch_error err;
    x12_diag_fn on_diag;
    void *diag_ctx;
};

/* ---- producer ------------------------------------------------------------ */

/* Hand batch pi to the consumer and wait for the next one to be free.
 * Returns 0 when asked to stop. */
static int publish(x12_ahead *a)
{
    pthread_mutex_lock(&a->mu);
    a->b[a->pi].full = 1;
    pthread_cond_signal(&a->cv_full);
    a->pi = (a->pi + 1) % X12_AHEAD_BATCHES;
    while (a->b[a->pi].full && !a->stop)
        pthread_cond_wait(&a->cv_free, &a->mu);
    int go = !a->stop;
    pthread_mutex_unlock(&a->mu);
    a->b[a->pi].used = 0;
    return go;
}

/* Room for a record of n bytes in the batch being filled; NULL on stop. */
static unsigned char *room(x12_ahead *a, size_t n)
{
    if (a->b[a->pi].used + n > a->cap && !publish(a))
        return NULL;
    batch *b = &a->b[a->pi];
    unsigned char *p = b->buf + b->used;
    b->used += n;
    return p;
}

/* The tokenizer's diagnostics are queued in order with the segments. */
static void put_diag(void *ctx, const x12_diag *d)
{
    x12_ahead *a = ctx;
    size_t n = sizeof(rec_head) + ALIGN8(sizeof *d);
    unsigned char *p = room(a, n);
    if (!p)
        return;
    rec_head h = {REC_DIAG, (uint32_t)n};
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, d, sizeof *d);
}

/* Whether pos is what the consumer will compute from the previous one. */
static int follows(const x12_pos *prev, const x12_pos *pos)
{
    return pos->seg_no == prev->seg_no + 1 && pos->seg_in_isa == prev->seg_in_isa + 1 &&
           pos->seg_in_st == prev->seg_in_st + (prev->seg_in_st ? 1u : 0u) &&
           pos->isa_index == prev->isa_index && pos->gs_index == prev->gs_index &&
           pos->st_index == prev->st_index;
}

static int put_seg(x12_ahead *a, const x12_segment *s)
{
    int full = !a->have_prev || !follows(&a->prev, &s->pos);
    size_t ee = (s->nelem + 1) * sizeof(uint32_t);
    size_t n = sizeof(rec_seg) + (full ? POS_BYTES + DELIM_BYTES : 0) + ALIGN8(ee + s->raw_len);
    unsigned char *p = room(a, n);
    if (!p)
        return 0;
    rec_seg h = {{REC_SEG, (uint32_t)n}, s->nelem, (uint32_t)s->raw_len, s->pos.offset, (uint32_t)full, 0};
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    if (full) {
        memcpy(p, &s->pos, sizeof s->pos);
        memcpy(p + POS_BYTES, s->delims, sizeof *s->delims);
        p += POS_BYTES + DELIM_BYTES;
    }
    memcpy(p, s->elem_end, ee);
    memcpy(p + ee, s->raw, s->raw_len);
    a->prev = s->pos;
    a->have_prev = 1;
    return 1;
}

static void *producer(void *arg)
{
    x12_ahead *a = arg;
    x12_segment seg;
    int got;
    while ((got = x12_next(a->r, &seg)) == X12_SEGMENT)
        if (!put_seg(a, &seg))
            return NULL;
    unsigned char *p = room(a, ALIGN8(sizeof(rec_end)));
    if (!p)
        return NULL;
    rec_end e;
    memset(&e, 0, sizeof e);
    e.h.kind = REC_END;
    e.h.size = (uint32_t)ALIGN8(sizeof e);
    e.rc = got;
    e.offset = x12_reader_offset(a->r);
    e.err = *x12_reader_error(a->r);
    memcpy(p, &e, sizeof e);
    pthread_mutex_lock(&a->mu);
    a->b[a->pi].full = 1;
    pthread_cond_signal(&a->cv_full);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- consumer ------------------------------------------------------------ */

int x12_ahead_next(x12_ahead *a, x12_segment *seg)
{
    for (;;) {
        if (a->done)
            return a->rc;
        if (!a->holding) {
            pthread_mutex_lock(&a->mu);
            while (!a->b[a->ci].full)
                pthread_cond_wait(&a->cv_full, &a->mu);
            pthread_mutex_unlock(&a->mu);
            a->holding = 1;
            a->at = 0;
        }
        batch *b = &a->b[a->ci];
        if (a->at >= b->used) {
            /* all handed out (the caller is done with the last one): free it */
            pthread_mutex_lock(&a->mu);
            b->full = 0;
            pthread_cond_signal(&a->cv_free);
            pthread_mutex_unlock(&a->mu);
            a->holding = 0;
            a->ci = (a->ci + 1) % X12_AHEAD_BATCHES;
            continue;
        }
        unsigned char *p = b->buf + a->at;
        rec_head h;
        memcpy(&h, p, sizeof h);
        a->at += h.size;
        if (h.kind == REC_DIAG) {
            if (a->on_diag)
                a->on_diag(a->diag_ctx, (const x12_diag *)(p + sizeof h));
            continue;
        }
        if (h.kind == REC_END) {
            rec_end e;
            memcpy(&e, p, sizeof e);
            a->done = 1;
            a->rc = e.rc;
            a->err = e.err;
            a->offset = e.offset;
            return a->rc;
        }
        rec_seg rs;
        memcpy(&rs, p, sizeof rs);
        p += sizeof rs;
        if (rs.full) {
            memcpy(&a->cur, p, sizeof a->cur);
            memcpy(&a->delims, p + POS_BYTES, sizeof a->delims);
            p += POS_BYTES + DELIM_BYTES;
        } else {
            /* as the tokenizer counts a segment inside an envelope */
            a->cur.offset = rs.offset;
            a->cur.seg_no++;
            a->cur.seg_in_isa++;
            if (a->cur.seg_in_st)
                a->cur.seg_in_st++;
        }
        const uint32_t *ee = (const uint32_t *)p;
        seg->elem_end = ee;
        seg->nelem = rs.nelem;
        seg->raw = (const char *)p + (rs.nelem + 1) * sizeof(uint32_t);
        seg->raw_len = rs.raw_len;
        seg->tag.p = seg->raw;
        seg->tag.len = ee[0];
        seg->delims = &a->delims;
        seg->pos = a->cur;
        a->offset = rs.offset + rs.raw_len + 1;
        return X12_SEGMENT;
    }
}

/* ---- open / close -------------------------------------------------------- */

static void free_all(x12_ahead *a)
{
    for (int i = 0; i < X12_AHEAD_BATCHES; i++)
        free(a->b[i].buf);
    x12_close(a->r);
    free(a);
}

ch_code x12_ahead_open(x12_ahead **out, int fd, const char *name, const x12_reader_opts *opts,
                       ch_error *err)
{
    *out = NULL;
    x12_ahead *a = calloc(1, sizeof *a);
    if (!a)
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory for the read-ahead", name);
    x12_reader_opts ro;
    memset(&ro, 0, sizeof ro);
    if (opts)
        ro = *opts;
    a->on_diag = ro.on_diag;
    a->diag_ctx = ro.diag_ctx;
    ro.on_diag = put_diag;
    ro.diag_ctx = a;
    size_t maxseg = ro.max_segment ? ro.max_segment : X12_DEFAULT_MAX_SEGMENT;
    if (maxseg > X12_READ_BUF)
        maxseg = X12_READ_BUF;
    /* one batch holds at least one largest segment with its offsets */
    a->cap = X12_AHEAD_BATCH + maxseg + (X12_MAX_ELEMENTS + 1) * sizeof(uint32_t) + sizeof(x12_diag) + 4096;
    ch_code rc = x12_open_fd(&a->r, fd, name, &ro, err);
    if (rc != CH_OK) {
        free(a);
        return rc;
    }
    for (int i = 0; i < X12_AHEAD_BATCHES; i++)
        if (!(a->b[i].buf = malloc(a->cap))) {
            free_all(a);
            return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory for the read-ahead", name);
        }
    int ok = pthread_mutex_init(&a->mu, NULL) == 0;
    int ok_free = ok && pthread_cond_init(&a->cv_free, NULL) == 0;
    int ok_full = ok_free && pthread_cond_init(&a->cv_full, NULL) == 0;
    if (!ok_full || pthread_create(&a->th, NULL, producer, a) != 0) {
        if (ok_full)
            pthread_cond_destroy(&a->cv_full);
        if (ok_free)
            pthread_cond_destroy(&a->cv_free);
        if (ok)
            pthread_mutex_destroy(&a->mu);
        free_all(a);
        return ch_error_set(err, CH_ERR_INTERNAL, "%s: cannot start the read-ahead thread", name);
    }
    a->started = 1;
    *out = a;
    return CH_OK;
}

const ch_error *x12_ahead_error(const x12_ahead *a) { return &a->err; }
uint64_t x12_ahead_offset(const x12_ahead *a) { return a->offset; }

void x12_ahead_close(x12_ahead *a)
{
    if (!a)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_broadcast(&a->cv_free);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->th, NULL);
        pthread_cond_destroy(&a->cv_free);
        pthread_cond_destroy(&a->cv_full);
        pthread_mutex_destroy(&a->mu);
    }
    free_all(a);
}
