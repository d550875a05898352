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
 * Which sets go to a worker: one whose backlog is shorter than a set takes
 * the next; otherwise the feeding thread validates the set itself, as it
 * would without threads, while the worker catches up.  Its diagnostics go
 * into a job too (a local one), so the order holds.
 *
 * A set stays on one worker (its loop state lives there); a long set is cut
 * into several jobs, which queue behind each other on that worker.  Jobs
 * are bounded (JOB_BYTES of records, job_segments segments) and so is their
 * number (slots), so memory does not grow with the file.
 */
#include <stdlib.h>
#include <string.h>

#include "x12_val_par_int.h"

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
        w->cur = j;
        pthread_mutex_unlock(&p->mu);
        xj_run(w, j);
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
     * feeding thread packs a set in a fraction of the time a worker takes
     * to validate it, so most sets go to a worker (three in five with one
     * worker on the benchmark files) and the others are validated here */
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
    p->chain = xj_chain_start(&v->st_pos);
    memset(&p->delims, 0, sizeof p->delims);
    if (!xj_put_begin(j, &v->st_pos, &p->begin_at)) {
        x12_diag d;
        xv_diag(v, &d, NULL, X12_SEV_FATAL, 1, "validate.nomem", "ST", NULL);
        x12_diag_msg(&d, "out of memory: the set was not validated");
        xv_par_diag(v, &d, 1, 1);
        return;
    }
}

int xv_par_guide(xv *v, const x12_guide *g)
{
    struct xv_par *p = v->par;
    if (!v->par_remote)
        return 0;
    if (p->cur && p->begin_at != SIZE_MAX)
        xj_set_guide(p->cur, p->begin_at, g);
    p->begin_at = SIZE_MAX;
    v->g = g; /* so that its segments come to xv_par_segment */
    return 1;
}

void xv_par_segment(xv *v, const x12_segment *seg)
{
    struct xv_par *p = v->par;
    if (!xj_put_segment(writing(p), &p->chain, &p->delims, seg)) {
        x12_diag d;
        xv_diag(v, &d, NULL, X12_SEV_FATAL, 1, "validate.nomem", NULL, NULL);
        x12_diag_msg(&d, "out of memory: this segment was not validated");
        xv_par_diag(v, &d, 1, 1);
    }
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
        xj_put_end(writing(p), v->cur); /* out of memory: the set ends with the job */
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
        xj_keep(j, d, counted);
        if (tx)
            v->tx_errors++;
    } else if (!xj_put_diag(j, d, tx, counted)) {
        /* no room to keep it in order: send it now rather than lose it */
        if (counted)
            xv_count(v, d->severity);
        if (v->fn)
            v->fn(v->ctx, d);
        return;
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
        w->v = x12_validator_new(v->file, xj_worker_diag, w);
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
