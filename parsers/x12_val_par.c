/*
 * x12_val_par.c - transaction sets validated on worker threads.
 *
 * The thread that feeds the validator keeps what spans sets: the tokenizer,
 * the envelope checker, the guide choice and the counts.  What it would
 * have done inside a set it writes, in order, into a job instead: the set's
 * start, each segment (its bytes, element ends, tokenizer classification
 * and position), each diagnostic of its own, the set's end.  A worker runs
 * the job through its own validator state (x12_val_loops.c and the rest,
 * unchanged) and collects the diagnostics it finds, with those written in
 * the job, in the order a single thread would have sent them.  The feeding
 * thread sends every job's diagnostics in job order, so the report is the
 * same line for line (tests/test_validate_par.c runs both ways).
 *
 * A set stays on one worker (its loop state lives there); a long set is cut
 * into several jobs, which queue behind each other on that worker.  Jobs
 * are bounded (JOB_BYTES of records, job_segments segments) and so is their
 * number (slots), so memory does not grow with the file.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "x12_val_internal.h"

#define JOB_BYTES (256u << 10)
#define JOB_SEGMENTS 4096
#define SLOTS_PER_WORKER 48
#define MAX_WORKERS 16
#define DIAG_BUDGET (8u << 20) /* bytes of diagnostics held in waiting jobs */

enum { R_BEGIN = 1, R_SEG, R_SEGPOS, R_DIAG, R_END };

/* Every record starts with kind and size (bytes to the next record, a
 * multiple of 16). */
typedef struct rec_head {
    uint8_t kind;
    uint8_t flags;
    uint16_t nelem;
    uint32_t size;
} rec_head;

/* A segment whose position follows from the one before it as the reader
 * moves it (not an envelope segment, nor the one after one: numbers one up,
 * a gap of few bytes) and whose delimiters are the same: R_SEG, small, as
 * most are.  Then elem_end[nelem + 1] as bytes
 * (raw_len < 256) or 16-bit numbers; with X12_CLS_COMP the cbits words;
 * the raw bytes. */
typedef struct rec_seg {
    rec_head h;       /* flags: x12_segment.cls */
    uint16_t raw_len;
    uint8_t gap;      /* bytes between the previous segment's terminator and it */
    uint8_t pad_;
} rec_seg;

/* Any other: R_SEGPOS, with what R_SEG leaves out.  Then elem_end[nelem + 1]
 * (32-bit); with X12_CLS_COMP the cbits words; the raw bytes. */
typedef struct rec_segpos {
    rec_head h;       /* flags: x12_segment.cls */
    uint32_t raw_len;
    x12_delims delims;
    x12_pos pos;
} rec_segpos;

/* Where the segment before the next one ended, as both sides count. */
typedef struct seg_chain {
    uint64_t end;     /* offset past its terminator */
    uint64_t seg_no;
    uint32_t seg_in_isa, seg_in_st;
    int after_envelope; /* it was an envelope segment */
} seg_chain;

typedef struct rec_begin {
    rec_head h;
    const x12_guide *g; /* NULL: the set is only counted */
    x12_pos st_pos;
} rec_begin;

typedef struct rec_diag {
    rec_head h;       /* flags: DIAG_TX | DIAG_COUNTED */
    x12_diag d;
} rec_diag;
enum { DIAG_TX = 1, DIAG_COUNTED = 2 };

typedef struct rec_end {
    rec_head h;
    x12_pos at;       /* where the set's end is reported */
} rec_end;

#define RAW_PAD 16 /* readable bytes after a job's records (see x12_segment.padded:
                    * before a segment's bytes there is its record) */
_Static_assert(RAW_PAD >= X12_SEG_PAD, "segments in a job are padded as the reader's");

/* A diagnostic ready to send. */
typedef struct out_diag {
    x12_diag d;
    int counted;
} out_diag;

/* The fields the feeding thread writes and those a worker writes are kept
 * on separate cache lines: sharing one cost a tenth of the time. */
#define LINE 64

typedef struct job {
    /* the feeding thread's */
    unsigned char *buf;
    size_t len, cap;
    unsigned nseg;
    int worker;           /* -1: not chosen yet */
    int local;            /* the feeding thread's own: it fills out itself */
    int submitted;        /* handed to its worker (or, local, complete) */
    struct job *next;     /* in its worker's queue */
    /* the worker's (the feeding thread's, for a local job) */
    _Alignas(LINE) out_diag *out;
    size_t nout, capout;
    unsigned lost;        /* diagnostics that found no memory */
    unsigned sets_bad, sets_unchecked;
    atomic_int done;
} job;

typedef struct worker {
    /* the worker's own */
    seg_chain chain;      /* of the set being validated */
    x12_segment seg;      /* its last segment (R_SEG: the position goes on) */
    x12_delims delims;    /* of the segment being validated */
    xv *v;                /* its own validator state */
    uint32_t ends[X12_MAX_ELEMENTS + 1 + 16];
    uint64_t cbits[X12_CLS_MAX / 64 + 1];
    /* shared, under the mutex (backlog: atomic) */
    _Alignas(LINE) struct xv_par *p;
    pthread_t tid;
    int started;
    job *cur;             /* the job being worked on */
    job *head, *tail;     /* queued */
    unsigned queued;
    atomic_uint backlog;  /* segments given to it and not yet validated */
    pthread_cond_t wake;
} worker;

struct xv_par {
    xv *main;
    unsigned nworkers, nslots, job_segments;
    worker *w[MAX_WORKERS];
    job *slots;           /* a ring, in file order */
    unsigned head, count; /* the oldest not yet sent; slots in use */
    job *cur;             /* being written, or NULL */
    int set_worker;       /* the open set's worker, -1 none */
    size_t begin_at;      /* offset in cur of an R_BEGIN whose guide is not
                           * known yet, or SIZE_MAX */
    seg_chain chain;      /* of the open set, as its worker will count */
    x12_delims delims;    /* the open set's, as its worker knows them */
    unsigned rr;          /* where the next least-loaded search starts */
    unsigned set_segments; /* segments of the open set so far */
    unsigned avg_set;     /* segments per set, a running average */
    unsigned in_use;      /* slots that may be in use: fewer when the
                           * file makes many diagnostics (see window()) */
    unsigned diag_rate;   /* diagnostics per 1000 segments, a running
                           * average over the workers' jobs */
    pthread_mutex_t mu;   /* the queues, worker.cur, stop */
    pthread_cond_t done;  /* a job is done */
    int stop;
};

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

/* n bytes more at the end of j (n a multiple of 16), head filled in; NULL
 * when out of memory. */
static void *append(job *j, size_t n, int kind)
{
    /* RAW_PAD more: the last segment's bytes may be read past in blocks */
    if (j->len + n + RAW_PAD > j->cap) {
        size_t cap = j->cap ? j->cap : JOB_BYTES + 4096;
        while (j->len + n + RAW_PAD > cap)
            cap *= 2;
        unsigned char *b = realloc(j->buf, cap);
        if (!b)
            return NULL;
        j->buf = b;
        j->cap = cap;
    }
    rec_head *h = (rec_head *)(void *)(j->buf + j->len);
    memset(h, 0, sizeof *h);
    h->kind = (uint8_t)kind;
    h->size = (uint32_t)n;
    j->len += n;
    return h;
}

/* ---- the workers --------------------------------------------------------- */

static void keep(job *j, const x12_diag *d, int counted)
{
    if (j->nout == j->capout) {
        size_t cap = j->capout ? j->capout * 2 : 64;
        out_diag *o = realloc(j->out, cap * sizeof *o);
        if (!o) {
            j->lost++;
            return;
        }
        j->out = o;
        j->capout = cap;
    }
    j->out[j->nout].d = *d;
    j->out[j->nout].counted = counted;
    j->nout++;
}

/* The worker validator's own diagnostics, under the feeding validator's
 * file name (the worker's copy of it is freed first). */
static void worker_diag(void *ctx, const x12_diag *d)
{
    worker *w = ctx;
    x12_diag c = *d;
    c.file = w->p->main->file;
    keep(w->cur, &c, 1);
}

static const uint64_t no_bits[X12_CLS_MAX / 64 + 1];

/* Element ends of a segment shorter than 256 bytes as bytes, and back.
 * 16 at a time: the reader's elem_end has X12_MAX_ELEMENTS + 1 entries and
 * worker.ends 16 more; a job has RAW_PAD bytes after its records, and each
 * record's bytes are written in order, so writing up to 15 past them is
 * overwritten or unused. */
static inline void ends_narrow(unsigned char *q, const uint32_t *e, size_t ne)
{
#ifdef __SSE2__
    for (size_t i = 0; i < ne; i += 16) {
        const __m128i *s = (const __m128i *)(const void *)(e + i);
        __m128i ab = _mm_packs_epi32(_mm_loadu_si128(s), _mm_loadu_si128(s + 1));
        __m128i cd = _mm_packs_epi32(_mm_loadu_si128(s + 2), _mm_loadu_si128(s + 3));
        _mm_storeu_si128((__m128i *)(void *)(q + i), _mm_packus_epi16(ab, cd));
    }
#else
    for (size_t i = 0; i < ne; i++)
        q[i] = (unsigned char)e[i];
#endif
}

static inline void ends_widen(uint32_t *e, const unsigned char *q, size_t ne)
{
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    for (size_t i = 0; i < ne; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + i));
        __m128i lo = _mm_unpacklo_epi8(x, zero), hi = _mm_unpackhi_epi8(x, zero);
        __m128i *d = (__m128i *)(void *)(e + i);
        _mm_storeu_si128(d, _mm_unpacklo_epi16(lo, zero));
        _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(lo, zero));
        _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(hi, zero));
        _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(hi, zero));
    }
#else
    for (size_t i = 0; i < ne; i++)
        e[i] = q[i];
#endif
}

/* The segment's bytes to q: in 16-byte blocks when the segment is padded
 * (the bytes after it may be read) and short. */
static inline void copy_raw(unsigned char *q, const x12_segment *seg)
{
#ifdef __SSE2__
    if (seg->padded && seg->raw_len <= 128) {
        for (size_t i = 0; i < seg->raw_len; i += 16)
            _mm_storeu_si128((__m128i *)(void *)(q + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(seg->raw + i)));
        return;
    }
#endif
    memcpy(q, seg->raw, seg->raw_len);
}

/* Whether a segment with this tag moves the reader's envelope numbers. */
static inline int envelope_tag(x12_str t)
{
    if (t.len == 2)
        return (t.p[0] == 'S' || t.p[0] == 'G') && (t.p[1] == 'T' || t.p[1] == 'E' || t.p[1] == 'S');
    return t.len == 3 && t.p[0] == 'I' && (t.p[1] == 'S' || t.p[1] == 'E') && t.p[2] == 'A';
}

/* The chain at a set's start: its ST follows from it. */
static seg_chain chain_start(const x12_pos *st)
{
    return (seg_chain){st->offset, st->seg_no - 1, st->seg_in_isa - 1, 0, 1};
}

/* Rebuild the segment of the record at h into seg (views into the job). */
static void unpack(worker *w, const rec_head *h, x12_segment *seg)
{
    const unsigned char *q;
    size_t ne = (size_t)h->nelem + 1, raw_len;
    seg_chain *c = &w->chain;
    if (h->kind == R_SEG) {
        const rec_seg *rs = (const rec_seg *)h;
        raw_len = rs->raw_len;
        /* seg->pos is the previous segment's: the reader moves the same
         * four numbers and nothing else */
        seg->pos.offset = c->end + rs->gap;
        seg->pos.seg_no = c->seg_no + 1;
        seg->pos.seg_in_isa = c->seg_in_isa + 1;
        seg->pos.seg_in_st = c->seg_in_st + 1;
        q = (const unsigned char *)(rs + 1);
        if (raw_len < 256) {
            ends_widen(w->ends, q, ne);
            q += ne;
        } else {
            for (size_t i = 0; i < ne; i++)
                w->ends[i] = (uint32_t)q[2 * i] | (uint32_t)q[2 * i + 1] << 8;
            q += 2 * ne;
        }
    } else {
        const rec_segpos *rp = (const rec_segpos *)h;
        raw_len = rp->raw_len;
        seg->pos = rp->pos;
        w->delims = rp->delims;
        q = (const unsigned char *)(rp + 1);
        memcpy(w->ends, q, ne * sizeof *w->ends);
        q += ne * sizeof *w->ends;
    }
    seg->cls = h->flags;
    seg->cbits = no_bits;
    if (seg->cls & X12_CLS_COMP) {
        size_t nb = (raw_len / 64 + 1) * sizeof(uint64_t);
        memcpy(w->cbits, q, nb);
        seg->cbits = w->cbits;
        q += nb;
    }
    seg->raw = (const char *)q;
    seg->raw_len = raw_len;
    seg->nelem = h->nelem;
    seg->elem_end = w->ends;
    seg->tag.p = seg->raw;
    seg->tag.len = w->ends[0];
    seg->delims = &w->delims;
    seg->padded = 1;
    c->end = seg->pos.offset + raw_len + 1;
    c->seg_no = seg->pos.seg_no;
    c->seg_in_isa = seg->pos.seg_in_isa;
    c->seg_in_st = seg->pos.seg_in_st;
}

static void run_job(worker *w, job *j)
{
    xv *v = w->v;
    w->cur = j;
    j->nout = 0;
    j->lost = 0;
    j->sets_bad = 0;
    unsigned unchecked0 = v->nsets_unchecked;
    x12_pos end_at;
    for (size_t at = 0; at < j->len;) {
        const rec_head *h = (const rec_head *)(const void *)(j->buf + at);
        /* the records were written on another core: ask for them early */
        __builtin_prefetch(j->buf + at + 512);
        at += h->size;
        switch (h->kind) {
        case R_BEGIN: {
            const rec_begin *b = (const rec_begin *)h;
            v->in_tx = 1;
            v->tx_errors = 0;
            v->st_pos = b->st_pos;
            v->cur = &v->st_pos;
            v->top = -1;
            v->g = NULL;
            w->chain = chain_start(&b->st_pos);
            if (b->g)
                xv_set_begin(v, b->g); /* sets v->g, unless out of memory */
            break;
        }
        case R_SEG:
        case R_SEGPOS:
            unpack(w, h, &w->seg);
            v->cur = &w->seg.pos;
            if (v->in_tx && v->g)
                xv_loops_segment(v, &w->seg);
            break;
        case R_DIAG: {
            const rec_diag *d = (const rec_diag *)h;
            keep(j, &d->d, (d->h.flags & DIAG_COUNTED) != 0);
            if ((d->h.flags & DIAG_TX) && v->in_tx)
                v->tx_errors++;
            break;
        }
        case R_END:
            end_at = ((const rec_end *)h)->at;
            v->cur = &end_at;
            if (v->in_tx && v->g)
                xv_loops_end(v, NULL);
            if (v->in_tx && v->tx_errors)
                j->sets_bad++;
            v->in_tx = 0;
            v->g = NULL;
            break;
        default:
            at = j->len; /* not a record of ours: cannot happen */
            break;
        }
    }
    j->sets_unchecked = v->nsets_unchecked - unchecked0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct xv_par *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!w->head && !p->stop)
            pthread_cond_wait(&w->wake, &p->mu);
        if (!w->head)
            break;
        job *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        w->cur = j;
        pthread_mutex_unlock(&p->mu);
        run_job(w, j);
        atomic_fetch_sub_explicit(&w->backlog, j->nseg, memory_order_relaxed);
        pthread_mutex_lock(&p->mu);
        w->cur = NULL;
        atomic_store_explicit(&j->done, 1, memory_order_release);
        pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the feeding thread -------------------------------------------------- */

/* How many slots may be in use: a worker's job keeps every diagnostic it
 * finds until the jobs before it are sent, so a file with many problems
 * gets fewer jobs waiting, to keep them within DIAG_BUDGET. */
static void window(struct xv_par *p)
{
    uint64_t per_job = (uint64_t)p->job_segments * (p->diag_rate ? p->diag_rate : 1) / 1000 *
                       sizeof(out_diag);
    uint64_t n = per_job ? DIAG_BUDGET / per_job : p->nslots;
    p->in_use = n < 2 ? 2 : n > p->nslots ? p->nslots : (unsigned)n;
}

/* Send the diagnostics of the oldest job, which is done, and free its slot. */
static void deliver_head(struct xv_par *p)
{
    xv *v = p->main;
    job *j = &p->slots[p->head];
    for (size_t i = 0; i < j->nout; i++) {
        const out_diag *o = &j->out[i];
        if (o->counted) {
            if (o->d.severity == X12_SEV_WARNING)
                v->nwarn++;
            else
                v->nerr++;
        }
        if (v->fn)
            v->fn(v->ctx, &o->d);
    }
    if (j->lost) {
        x12_diag d;
        x12_diag_init(&d, v->file, j->nout ? &j->out[j->nout - 1].d.pos : v->cur, X12_SEV_FATAL,
                      1, "validate.nomem");
        x12_diag_msg(&d, "out of memory: %u problems found after this one could not be reported",
                     j->lost);
        v->nerr++;
        if (v->fn)
            v->fn(v->ctx, &d);
    }
    v->nsets_bad += j->sets_bad;
    v->nsets_unchecked += j->sets_unchecked;
    if (!j->local && j->nseg) {
        unsigned rate = (unsigned)(j->nout * 1000 / j->nseg);
        p->diag_rate = (3 * p->diag_rate + rate) / 4;
        window(p);
    }
    if (j->capout > 256) {
        free(j->out); /* a burst of problems: do not keep its memory */
        j->out = NULL;
        j->capout = 0;
    }
    j->len = 0;
    j->nseg = 0;
    j->nout = 0;
    j->lost = 0;
    j->sets_bad = j->sets_unchecked = 0;
    j->worker = -1;
    j->local = 0;
    j->submitted = 0;
    atomic_store_explicit(&j->done, 0, memory_order_relaxed);
    p->head = (p->head + 1) % p->nslots;
    p->count--;
}

/* Send what is done, oldest first; with wait, at least the oldest. */
static void deliver(struct xv_par *p, int wait)
{
    while (p->count && p->slots[p->head].submitted) {
        job *j = &p->slots[p->head];
        if (!atomic_load_explicit(&j->done, memory_order_acquire)) {
            if (!wait)
                return;
            pthread_mutex_lock(&p->mu);
            while (!atomic_load_explicit(&j->done, memory_order_acquire))
                pthread_cond_wait(&p->done, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        deliver_head(p);
        wait = 0;
    }
}

/* Hand the job being written to its worker; a local one is complete. */
static void submit(struct xv_par *p)
{
    job *j = p->cur;
    if (!j)
        return;
    p->cur = NULL;
    p->begin_at = SIZE_MAX;
    if (j->local) {
        j->submitted = 1;
        atomic_store_explicit(&j->done, 1, memory_order_relaxed);
        deliver(p, 0);
        return;
    }
    worker *w = p->w[j->worker];
    atomic_fetch_add_explicit(&w->backlog, j->nseg, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    j->submitted = 1;
    j->next = NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&p->mu);
    deliver(p, 0);
}

/* The job to write into: the current one, or a fresh slot (once the oldest
 * job is sent, when every slot is in use).  It is the open set's worker's,
 * or local. */
static job *writing(struct xv_par *p)
{
    if (p->cur)
        return p->cur;
    while (p->count >= p->in_use)
        deliver(p, 1);
    job *j = &p->slots[(p->head + p->count) % p->nslots];
    p->count++;
    j->worker = p->set_worker;
    j->local = p->set_worker < 0;
    p->cur = j;
    return j;
}

/* The worker with the least backlog, if it is short enough to take a set;
 * else -1 (the feeding thread validates the set). */
static int pick_worker(struct xv_par *p)
{
    int best = -1;
    /* a worker whose backlog is less than a set takes the next: the
     * feeding thread packs a set in about a third of the time a worker
     * takes to validate it, so two sets in three go to a worker and the
     * third is validated here while the worker catches up */
    unsigned least = p->avg_set < p->job_segments ? p->job_segments : p->avg_set;
    if (least > p->in_use / 2 * p->job_segments)
        least = p->in_use / 2 * p->job_segments;
    for (unsigned k = 0; k < p->nworkers; k++) {
        unsigned i = (p->rr + k) % p->nworkers;
        unsigned load = atomic_load_explicit(&p->w[i]->backlog, memory_order_relaxed);
        if (load < least) {
            least = load;
            best = (int)i;
        }
    }
    p->rr = (p->rr + 1) % p->nworkers;
    return best;
}

void xv_par_begin(xv *v)
{
    struct xv_par *p = v->par;
    /* one set per job, so that a job has one worker (or none) */
    if (p->cur && (p->cur->len || p->cur->nout))
        submit(p);
    if (p->cur) {
        p->cur = NULL; /* empty: its slot is taken again below */
        p->count--;
    }
    p->set_worker = pick_worker(p);
    v->par_remote = p->set_worker >= 0;
    job *j = writing(p);
    if (!v->par_remote)
        return;
    rec_begin *b = append(j, align16(sizeof *b), R_BEGIN);
    if (!b) {
        x12_diag d;
        xv_diag(v, &d, NULL, X12_SEV_FATAL, 1, "validate.nomem", "ST", NULL);
        x12_diag_msg(&d, "out of memory: the set was not validated");
        xv_par_diag(v, &d, 1, 1);
        return;
    }
    b->g = NULL;
    b->st_pos = v->st_pos;
    p->chain = chain_start(&v->st_pos);
    memset(&p->delims, 0, sizeof p->delims);
    p->begin_at = (size_t)((unsigned char *)b - j->buf);
}

int xv_par_guide(xv *v, const x12_guide *g)
{
    struct xv_par *p = v->par;
    if (!v->par_remote)
        return 0;
    if (p->cur && p->begin_at != SIZE_MAX)
        ((rec_begin *)(void *)(p->cur->buf + p->begin_at))->g = g;
    p->begin_at = SIZE_MAX;
    v->g = g; /* so that its segments come to xv_par_segment */
    return 1;
}

void xv_par_segment(xv *v, const x12_segment *seg)
{
    struct xv_par *p = v->par;
    job *j = writing(p);
    seg_chain *c = &p->chain;
    const x12_pos *ps = &seg->pos;
    size_t ne = (size_t)seg->nelem + 1;
    unsigned cls = seg->padded ? seg->cls : 0;
    size_t nb = (cls & X12_CLS_COMP) ? (seg->raw_len / 64 + 1) * sizeof(uint64_t) : 0;
    int env = envelope_tag(seg->tag);
    /* small when its position follows (an envelope segment, or the one after
     * one, may change what the set's segments share) */
    int small = !env && !c->after_envelope && ps->seg_no == c->seg_no + 1 &&
                ps->seg_in_isa == c->seg_in_isa + 1 && ps->seg_in_st == c->seg_in_st + 1 &&
                ps->offset >= c->end && ps->offset - c->end < 256 && seg->nelem < 256 &&
                seg->raw_len < 65536 && !memcmp(&p->delims, seg->delims, sizeof p->delims);
    unsigned char *q;
    if (small) {
        size_t wide = seg->raw_len < 256 ? 1 : 2;
        rec_seg *rs = append(j, align16(sizeof *rs + ne * wide + nb + seg->raw_len), R_SEG);
        if (!rs)
            goto nomem;
        rs->h.flags = (uint8_t)cls;
        rs->h.nelem = (uint16_t)seg->nelem;
        rs->raw_len = (uint16_t)seg->raw_len;
        rs->gap = (uint8_t)(ps->offset - c->end);
        q = (unsigned char *)(rs + 1);
        const uint32_t *e = seg->elem_end;
        if (wide == 1)
            ends_narrow(q, e, ne);
        else
            for (size_t i = 0; i < ne; i++) {
                q[2 * i] = (unsigned char)e[i];
                q[2 * i + 1] = (unsigned char)(e[i] >> 8);
            }
        q += ne * wide;
    } else {
        rec_segpos *rp = append(j, align16(sizeof *rp + ne * sizeof(uint32_t) + nb + seg->raw_len),
                                R_SEGPOS);
        if (!rp)
            goto nomem;
        rp->h.flags = (uint8_t)cls;
        rp->h.nelem = (uint16_t)seg->nelem;
        rp->raw_len = (uint32_t)seg->raw_len;
        rp->delims = *seg->delims;
        rp->pos = *ps;
        p->delims = *seg->delims;
        q = (unsigned char *)(rp + 1);
        memcpy(q, seg->elem_end, ne * sizeof(uint32_t));
        q += ne * sizeof(uint32_t);
    }
    if (nb) {
        memcpy(q, seg->cbits, nb);
        q += nb;
    }
    copy_raw(q, seg);
    c->end = ps->offset + seg->raw_len + 1;
    c->seg_no = ps->seg_no;
    c->seg_in_isa = ps->seg_in_isa;
    c->seg_in_st = ps->seg_in_st;
    c->after_envelope = env;
    return;
nomem:;
    x12_diag d;
    xv_diag(v, &d, NULL, X12_SEV_FATAL, 1, "validate.nomem", NULL, NULL);
    x12_diag_msg(&d, "out of memory: this segment was not validated");
    xv_par_diag(v, &d, 1, 1);
}

void xv_par_placed(xv *v)
{
    struct xv_par *p = v->par;
    job *j = p->cur;
    p->set_segments++;
    /* a full job goes; its set goes on in the next, on the same thread */
    if (j && (++j->nseg >= p->job_segments || j->len >= JOB_BYTES))
        submit(p);
}

void xv_par_end(xv *v)
{
    struct xv_par *p = v->par;
    if (v->par_remote) {
        rec_end *e = append(writing(p), align16(sizeof *e), R_END);
        if (e)
            e->at = *v->cur;
    }
    p->set_worker = -1;
    v->par_remote = 0;
    p->avg_set = p->avg_set ? (3 * p->avg_set + p->set_segments) / 4 : p->set_segments;
    p->set_segments = 0;
}

void xv_par_diag(xv *v, const x12_diag *d, int tx, int counted)
{
    struct xv_par *p = v->par;
    job *j = writing(p);
    if (j->local) {
        keep(j, d, counted);
        if (tx)
            v->tx_errors++;
    } else {
        rec_diag *r = append(j, align16(sizeof *r), R_DIAG);
        if (!r) {
            /* no room to keep it in order: send it now rather than lose it */
            if (counted)
                xv_count(v, d->severity);
            if (v->fn)
                v->fn(v->ctx, d);
            return;
        }
        r->h.flags = (uint8_t)((tx ? DIAG_TX : 0) | (counted ? DIAG_COUNTED : 0));
        r->d = *d;
    }
    /* bounded also where no set is (not while a set's start waits for its
     * guide: its worker would read it first) */
    if ((j->len >= JOB_BYTES || j->nout >= JOB_SEGMENTS) && p->begin_at == SIZE_MAX)
        submit(p);
}

void xv_par_finish(xv *v)
{
    struct xv_par *p = v->par;
    if (p->cur && (p->cur->len || p->cur->nout)) {
        submit(p);
    } else if (p->cur) {
        p->cur = NULL; /* the last slot, unused */
        p->count--;
    }
    while (p->count)
        deliver(p, 1);
}

/* ---- life ---------------------------------------------------------------- */

/* n zeroed bytes on whole cache lines (see LINE), or NULL. */
static void *zalloc_lines(size_t n)
{
    n = (n + LINE - 1) / LINE * LINE;
    void *m = aligned_alloc(LINE, n);
    if (m)
        memset(m, 0, n);
    return m;
}

ch_code x12_validator_threads(x12_validator *v, unsigned threads, unsigned job_segments,
                              ch_error *err)
{
    const x12_env_events *ev = &v->user_ev;
    if (v->par || v->nsets || ev->isa_open || ev->gs_open || ev->st_open || ev->st_close ||
        ev->gs_close || ev->isa_close)
        return ch_error_set(err, CH_ERR_USAGE,
                            "validation threads are set before the first segment, and not with "
                            "envelope events");
    if (threads < 1)
        return CH_OK;
    if (threads > MAX_WORKERS)
        threads = MAX_WORKERS;
    struct xv_par *p = zalloc_lines(sizeof *p);
    job *slots = zalloc_lines((size_t)threads * SLOTS_PER_WORKER * sizeof *slots);
    if (!p || !slots) {
        free(p);
        free(slots);
        return ch_error_set(err, CH_ERR_NOMEM, "out of memory for validation threads");
    }
    p->main = v;
    p->nworkers = threads;
    p->nslots = threads * SLOTS_PER_WORKER;
    p->slots = slots;
    p->job_segments = job_segments ? job_segments : JOB_SEGMENTS;
    p->diag_rate = 1000; /* until jobs tell: one per segment */
    window(p);
    p->set_worker = -1;
    p->begin_at = SIZE_MAX;
    for (unsigned i = 0; i < p->nslots; i++)
        slots[i].worker = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done, NULL);
    v->par = p;
    ch_code rc = CH_OK;
    for (unsigned i = 0; i < threads && rc == CH_OK; i++) {
        worker *w = p->w[i] = zalloc_lines(sizeof *w);
        if (!w) {
            rc = ch_error_set(err, CH_ERR_NOMEM, "out of memory for validation threads");
            break;
        }
        w->p = p;
        pthread_cond_init(&w->wake, NULL);
        w->v = x12_validator_new(v->file, worker_diag, w);
        if (!w->v) {
            rc = ch_error_set(err, CH_ERR_NOMEM, "out of memory for validation threads");
            break;
        }
        w->v->full = v->full;
        int e = pthread_create(&w->tid, NULL, worker_main, w);
        if (e) {
            rc = ch_error_set(err, CH_ERR_IO, "cannot start a validation thread: %s", strerror(e));
            break;
        }
        w->started = 1;
    }
    if (rc != CH_OK)
        xv_par_free(v); /* back to one thread */
    return rc;
}

void xv_par_free(xv *v)
{
    struct xv_par *p = v->par;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    for (unsigned i = 0; i < p->nworkers; i++)
        if (p->w[i])
            pthread_cond_signal(&p->w[i]->wake);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++) {
        worker *w = p->w[i];
        if (!w)
            continue;
        if (w->started)
            pthread_join(w->tid, NULL);
        pthread_cond_destroy(&w->wake);
        x12_validator_free(w->v);
        free(w);
    }
    for (unsigned i = 0; i < p->nslots; i++) {
        free(p->slots[i].buf);
        free(p->slots[i].out);
    }
    free(p->slots);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->done);
    free(p);
    v->par = NULL;
}
