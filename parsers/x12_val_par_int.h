/*
 * x12_val_par_int.h - what the validator's worker threads share between
 * the scheduling (x12_val_par.c) and the jobs (x12_val_job.c).  Not a
 * public API: see x12_validator_threads() in x12_validate.h.
 */
#ifndef X12_VAL_PAR_INT_H
#define X12_VAL_PAR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "x12_val_internal.h"

#define JOB_BYTES (256u << 10)
#define JOB_SEGMENTS 4096
#define SLOTS_PER_WORKER 48
#define MAX_WORKERS 16
#define DIAG_BUDGET (8u << 20) /* bytes of diagnostics held in waiting jobs */

/* Where the segment before the next one ended, as both sides count. */
typedef struct seg_chain {
    uint64_t end;     /* offset past its terminator */
    uint64_t seg_no;
    uint32_t seg_in_isa, seg_in_st;
    int after_envelope; /* it was an envelope segment */
} seg_chain;

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

/* ---- jobs (x12_val_job.c) ----------------------------------------------- */

/* The chain at a set's start: its ST follows from it. */
seg_chain xj_chain_start(const x12_pos *st);

/* Append a record to j: the set's start (its guide still to come: *at is
 * where to set it), the set's end (reported at *at), a segment of the set
 * (continuing c and *delims, as the worker will read them), a diagnostic
 * of the feeding thread (tx: an error of the set; counted: in the totals).
 * 0 when out of memory (nothing appended). */
int xj_put_begin(job *j, const x12_pos *st_pos, size_t *at);
void xj_set_guide(job *j, size_t at, const x12_guide *g);
int xj_put_end(job *j, const x12_pos *at);
int xj_put_segment(job *j, seg_chain *c, x12_delims *delims, const x12_segment *seg);
int xj_put_diag(job *j, const x12_diag *d, int tx, int counted);

/* Keep a diagnostic in j's output (counted: in the totals). */
void xj_keep(job *j, const x12_diag *d, int counted);

/* A worker's validator reports into the job it runs (ctx: the worker). */
void xj_worker_diag(void *ctx, const x12_diag *d);

/* Run j's records through w's validator, filling j's output. */
void xj_run(worker *w, job *j);

#endif
