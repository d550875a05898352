/* intake.c - see intake.h */
#include "intake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "encounter_check.h"
#include "log.h"
#include "spool.h"
#include "ydoc.h"

/* Files per ledger transaction.  Each commit is an fsync, and under the
 * journal traffic of thousands of renames an fsync costs tens of
 * milliseconds: fewer, larger commits are what keeps intake fast. */
#define CHUNK 4096
#define DEFAULT_MAX_BYTES (64u << 20)
#define MAX_JOBS 8

/* --- a growable text ------------------------------------------------------------ */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(text *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t k = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    if (t->n + k + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 512;
        while (cap < t->n + k + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p)
            return; /* the report is shorter; the file still fails */
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->n, buf, k);
    t->n += k;
    t->p[t->n] = '\0';
}

/* --- per file ----------------------------------------------------------------------- */

typedef struct item {
    long index;               /* in the file's list, -1 for a single encounter */
    unsigned line;            /* where it starts in the file */
    char *doc;                /* packed */
    size_t len;
    char hash[65];
    char encounter_id[51], payer[32];
    encounter_type type;
    int frequency;
    int64_t total;
    char service_date[9];
} item;

typedef struct file_job {
    char name[NAME_MAX + 1];  /* in the practice's inbound directory */
    item *items;
    size_t nitems, cap;
    unsigned units;           /* encounters in the file */
    unsigned bad_units;
    unsigned problems;        /* problem lines in report */
    text report;
    int gone;                 /* vanished before it was read */
    /* after the ledger */
    unsigned taken, duplicates;
    text taken_list;          /* "[0] RFM00000012" ... */
} file_job;

static void job_free(file_job *j)
{
    for (size_t i = 0; i < j->nitems; i++)
        free(j->items[i].doc);
    free(j->items);
    free(j->report.p);
    free(j->taken_list.p);
}

/* What a worker needs; read-only but for its own scratch space. */
typedef struct shared {
    int dirfd;                /* the inbound directory */
    const config *cfg;
    const config_practice *practice;
    const char *today;
    size_t max_bytes;
    file_job *jobs;
    size_t njobs;
    atomic_size_t next;
} shared;

typedef struct worker {
    shared *sh;
    file_job *job;            /* the file being read */
    encounter e;
    encounter_problems probs;
    pthread_t thread;
} worker;

static const char *unit_prefix(long index, char *buf, size_t size)
{
    if (index < 0)
        buf[0] = '\0';
    else
        snprintf(buf, size, "[%ld]", index);
    return buf;
}

/* A value that holds one of the payer's delimiters would break the file
 * (or, written anyway, inject segments): refuse it here, by field path. */
static void check_delimiters(const char *packed, size_t len, const x12_delims *d, encounter_problems *probs)
{
    const char *p = packed, *end = packed + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(le - p));
        if (eq)
            for (const char *v = eq + 1; v < le; v++)
                if (*v == d->element || *v == d->component || *v == d->segment ||
                    (d->repetition && *v == d->repetition)) {
                    char path[96];
                    snprintf(path, sizeof path, "%.*s", (int)(eq - p), p);
                    encounter_problem_add(probs, path, "holds '%c', which this payer's files use as a delimiter",
                                          *v);
                    break;
                }
        p = le + 1;
    }
}

/* Keep the first problem per field path: a value that could not be read is
 * not also "required". */
static void dedupe(encounter_problems *p)
{
    unsigned o = 0;
    for (unsigned i = 0; i < p->n; i++) {
        unsigned k = 0;
        while (k < o && strcmp(p->v[k].path, p->v[i].path))
            k++;
        if (k == o)
            p->v[o++] = p->v[i];
    }
    p->n = o;
}

static ch_code on_unit(void *vw, const ydoc_node *unit, long index)
{
    worker *w = vw;
    file_job *j = w->job;
    shared *sh = w->sh;
    encounter *e = &w->e;
    encounter_problems *probs = &w->probs;
    probs->n = probs->dropped = 0;
    j->units++;

    encounter_read(e, unit, probs);
    encounter_check(e, sh->today, probs);
    if (!e->practice[0])
        snprintf(e->practice, sizeof e->practice, "%s", sh->practice->id);
    else if (strcmp(e->practice, sh->practice->id))
        encounter_problem_add(probs, "practice", "'%s' is not the practice of the directory it was dropped in (%s)",
                              e->practice, sh->practice->id);
    const config_payer_link *link = e->payer[0] ? config_practice_payer(sh->practice, e->payer) : NULL;
    if (e->payer[0] && !link)
        encounter_problem_add(probs, "payer", "'%s' is not a payer of practice %s (see the configuration)", e->payer,
                              sh->practice->id);
    char *packed = NULL;
    size_t plen = 0;
    if (link) {
        const payer_profile *pp = link->profile;
        if (e->type != ENC_TYPE_NONE && !payer_profile_accepts(pp, e->type))
            encounter_problem_add(probs, "claim_type", "payer %s does not take %s claims", pp->name,
                                  encounter_type_name(e->type));
        payer_profile_check(pp, e, probs);
        if (encounter_pack(e, &packed, &plen, NULL) == CH_OK)
            check_delimiters(packed, plen, &pp->delims, probs);
    }
    dedupe(probs);

    char pre[32];
    unit_prefix(index, pre, sizeof pre);
    if (probs->n || probs->dropped || !packed) {
        j->bad_units++;
        encounter_problems_locate(probs, unit);
        for (unsigned i = 0; i < probs->n; i++) {
            const encounter_problem *q = &probs->v[i];
            const char *dot = pre[0] && q->path[0] && q->path[0] != '[' ? "." : "";
            text_add(&j->report, "%s:%u:%u: %s%s%s: %s\n", j->name, q->line ? q->line : unit->line,
                     q->line ? q->col : unit->col, pre, dot, q->path[0] || pre[0] ? q->path : "(document)", q->msg);
            j->problems++;
        }
        if (probs->dropped) {
            text_add(&j->report, "%s: %s and %u more problems\n", j->name, pre[0] ? pre : "(document)",
                     probs->dropped);
            j->problems++;
        }
        if (!probs->n && !probs->dropped) {
            text_add(&j->report, "%s:%u:%u: %s: out of memory while reading\n", j->name, unit->line, unit->col,
                     pre[0] ? pre : "(document)");
            j->problems++;
        }
        free(packed);
        encounter_clear(e);
        return CH_OK;
    }
    if (j->nitems == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 4;
        item *it = realloc(j->items, cap * sizeof *it);
        if (!it) {
            free(packed);
            encounter_clear(e);
            return CH_ERR_NOMEM;
        }
        j->items = it;
        j->cap = cap;
    }
    item *it = &j->items[j->nitems++];
    memset(it, 0, sizeof *it);
    it->index = index;
    it->line = unit->line;
    it->doc = packed;
    it->len = plen;
    encounter_hash(packed, plen, it->hash);
    snprintf(it->encounter_id, sizeof it->encounter_id, "%s", e->encounter_id);
    snprintf(it->payer, sizeof it->payer, "%s", e->payer);
    it->type = e->type;
    it->frequency = (int)e->frequency;
    it->total = e->total_charge;
    const char *sd = e->type == ENC_INSTITUTIONAL ? e->statement_from : e->nlines ? e->lines[0].date_from : "";
    snprintf(it->service_date, sizeof it->service_date, "%s", sd);
    encounter_clear(e);
    return CH_OK;
}

static ch_code read_all(int dirfd, const char *name, size_t max, char **buf, size_t *len, ch_error *err)
{
    *buf = NULL;
    *len = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ch_error_set(err, errno == ENOENT ? CH_ERR_NOTFOUND : CH_ERR_IO, "%s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "not a regular file");
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return ch_error_set(err, CH_ERR_LIMIT, "larger than %zu bytes", max);
    }
    size_t size = (size_t)st.st_size;
    char *b = malloc(size + 1);
    if (!b) {
        close(fd);
        return ch_error_set(err, CH_ERR_NOMEM, "out of memory");
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    b[got] = '\0';
    *buf = b;
    *len = got;
    return CH_OK;
}

static void check_file(worker *w, file_job *j)
{
    w->job = j;
    char *buf;
    size_t len;
    ch_error err;
    ch_code rc = read_all(w->sh->dirfd, j->name, w->sh->max_bytes, &buf, &len, &err);
    if (rc == CH_ERR_NOTFOUND) {
        j->gone = 1;
        return;
    }
    if (rc != CH_OK) {
        text_add(&j->report, "%s: cannot be read: %s\n", j->name, err.msg);
        j->problems++;
        return;
    }
    ch_error_clear(&err);
    rc = ydoc_each(buf, len, j->name, on_unit, w, &err);
    free(buf);
    if (rc != CH_OK && !err.msg[0])
        ch_error_set(&err, rc, "%s: %s while reading", j->name, ch_strerror(rc)); /* from on_unit */
    if (rc != CH_OK) {
        /* the message names file:line:col */
        text_add(&j->report, "%s%s\n", err.msg,
                 rc == CH_ERR_SYNTAX ? " (the file is not valid YAML or JSON)" : "");
        j->problems++;
    } else if (j->units == 0) {
        text_add(&j->report, "%s: holds no encounter\n", j->name);
        j->problems++;
    }
}

static void *worker_main(void *vw)
{
    worker *w = vw;
    shared *sh = w->sh;
    for (;;) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->njobs)
            break;
        check_file(w, &sh->jobs[i]);
    }
    return NULL;
}

/* --- the ledger and the moves, per chunk ------------------------------------------------ */

typedef struct run {
    int inbound_fd;
    const config *cfg;
    ledger *l;
    const intake_opts *o;
    intake_report *rep;
    const config_practice *practice;
    char inbound[PATH_MAX], failed[PATH_MAX], archive[PATH_MAX];
    char stamp[8];             /* HHMMSS of the run: names the archive directories */
    int archive_fd;            /* r->archive, the day's directory */
    unsigned ndirs;            /* archive directories made (by the one mover at a time) */
    const char *actor;
} run;

static ch_code record(run *r, file_job *jobs, size_t n, ch_error *err)
{
    ch_code rc = ledger_begin(r->l, err);
    if (rc != CH_OK)
        return rc;
    for (size_t f = 0; f < n && rc == CH_OK; f++) {
        file_job *j = &jobs[f];
        for (size_t i = 0; i < j->nitems && rc == CH_OK; i++) {
            item *it = &j->items[i];
            char source[NAME_MAX + 64];
            char pre[32];
            unit_prefix(it->index, pre, sizeof pre);
            /* "<practice>/<name><pre>", without printf: this runs per claim */
            size_t np = strnlen(r->practice->id, 32), nn = strlen(j->name), nx = strlen(pre);
            memcpy(source, r->practice->id, np);
            source[np] = '/';
            memcpy(source + np + 1, j->name, nn);
            memcpy(source + np + 1 + nn, pre, nx + 1);
            ledger_submission s = {
                .practice = r->practice->id,
                .payer = it->payer,
                .claim_type = encounter_type_x12(it->type),
                .encounter_id = it->encounter_id,
                .content_hash = it->hash,
                .frequency = it->frequency,
                .total_cents = it->total,
                .service_date = it->service_date,
                .doc = it->doc,
                .doc_len = it->len,
                .claim_prefix = r->practice->claim_prefix,
                .source = source,
                .actor = r->actor,
            };
            ledger_intake_result res;
            rc = ledger_claim_submit(r->l, &s, &res, err);
            if (rc != CH_OK)
                break;
            switch (res.outcome) {
            case LEDGER_NEW:
                r->rep->claims_new++;
                break;
            case LEDGER_REVISED:
                r->rep->claims_revised++;
                break;
            case LEDGER_REPLACEMENT:
                r->rep->claims_replacement++;
                break;
            case LEDGER_DUPLICATE:
                r->rep->duplicates++;
                j->duplicates++;
                break;
            case LEDGER_REFUSED:
                r->rep->refused++;
                text_add(&j->report, "%s:%u:1: %s%s%s\n", j->name, it->line, pre, pre[0] ? ": " : "", res.why);
                j->problems++;
                break;
            }
            /* the list is for the .error of a file of several encounters */
            int listed = j->units > 1;
            if (res.outcome == LEDGER_NEW || res.outcome == LEDGER_REVISED || res.outcome == LEDGER_REPLACEMENT) {
                j->taken++;
                if (listed)
                    text_add(&j->taken_list, "%s%s%s%s (%s)", j->taken > 1 ? ", " : "", pre, pre[0] ? " " : "",
                             res.pcn,
                             res.outcome == LEDGER_NEW       ? "new"
                             : res.outcome == LEDGER_REVISED ? "revised"
                                                             : "replacement");
            } else if (res.outcome == LEDGER_DUPLICATE && listed) {
                text_add(&j->taken_list, "%s%s%s%s (already taken)", j->taken + j->duplicates > 1 ? ", " : "", pre,
                         pre[0] ? " " : "", res.pcn);
            }
        }
    }
    if (rc != CH_OK) {
        ledger_rollback(r->l);
        return rc;
    }
    return ledger_commit(r->l, err);
}

static void error_text(run *r, file_job *j, text *t)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    text_add(t, "# clearinghouse intake %s: %s/%s was not taken (%u problem%s).\n", when, r->practice->id, j->name,
             j->problems, j->problems == 1 ? "" : "s");
    if (j->units > 1 && (j->taken || j->duplicates))
        text_add(t, "# Encounters of this file that are in the ledger all the same: %s.\n",
                 j->taken_list.p ? j->taken_list.p : "");
    text_add(t, "# Fix what is listed and drop the whole file into inbound/%s/ again (write it under another\n"
                "# name and rename it into place); encounters already taken are recognized, not taken twice.\n",
             r->practice->id);
    text_add(t, "%s", j->report.p ? j->report.p : "");
}

/* Files per archive directory.  A rename searches the target directory
 * twice (is the name taken? where does it go?): a directory that fits in
 * one block is searched without the hash index a larger one needs, which
 * made moving 100,000 files a fifth cheaper than with 4,096 per directory. */
#define FILES_PER_DIR 64

/* A new directory of the archive: archive/encounters/<practice>/<day>/<HHMMSS>-<n>/
 * (one that exists, of an earlier run in the same second, is shared). */
static ch_code archive_dir(run *r, char *path, size_t size, int *fd, ch_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "%s-%04u", r->stamp, r->ndirs++);
    snprintf(path, size, "%s/%s", r->archive, name);
    if (mkdirat(r->archive_fd, name, 0700) < 0 && errno != EEXIST)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    if ((*fd = openat(r->archive_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    return CH_OK;
}

/* Move the files of a recorded chunk: to the archive, or to failed/ with
 * their .error.  Runs on the mover thread, after the chunk's commit. */
static ch_code move_files(run *r, file_job *jobs, size_t n, ch_error *err)
{
    ch_code rc;
    char archive[PATH_MAX];
    int archive_fd = -1;
    unsigned in_dir = 0;
    for (size_t f = 0; f < n; f++) {
        file_job *j = &jobs[f];
        if (j->gone)
            continue;
        char final[PATH_MAX];
        intake_file_result fr = {r->practice->id, j->name, final, 0, j->units, j->taken, j->duplicates,
                                 j->problems, NULL};
        r->rep->files++;
        r->rep->encounters += j->units;
        r->rep->invalid += j->bad_units;
        if (j->problems) {
            text t = {NULL, 0, 0};
            error_text(r, j, &t);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", r->inbound, j->name);
            rc = spool_fail(path, r->failed, NULL, t.p ? t.p : "problems\n", final, sizeof final, err);
            free(t.p);
            if (rc != CH_OK)
                return rc;
            fr.failed = 1;
            char first[512];
            const char *nl = j->report.p ? strchr(j->report.p, '\n') : NULL;
            snprintf(first, sizeof first, "%.*s", nl ? (int)(nl - j->report.p) : 0, j->report.p ? j->report.p : "");
            fr.first_problem = first;
            r->rep->files_failed++;
            log_msg(LOG_WARNING, "intake: %s/%s: %u problem%s, moved to failed/ (%s)", r->practice->id, j->name,
                    j->problems, j->problems == 1 ? "" : "s", first);
            if (r->o->on_file)
                r->o->on_file(r->o->ctx, &fr);
        } else {
            if (archive_fd >= 0 && in_dir == FILES_PER_DIR) {
                close(archive_fd);
                archive_fd = -1;
            }
            if (archive_fd < 0) {
                if ((rc = archive_dir(r, archive, sizeof archive, &archive_fd, err)) != CH_OK)
                    return rc;
                in_dir = 0;
            }
            rc = spool_move_at(r->inbound_fd, j->name, archive_fd, archive, NULL, final, sizeof final, err);
            if (rc != CH_OK) {
                close(archive_fd);
                return rc;
            }
            in_dir++;
            r->rep->files_taken++;
            log_msg(LOG_DEBUG, "intake: %s/%s: %u encounter%s, %u claim%s taken, %u already in the ledger",
                    r->practice->id, j->name, j->units, j->units == 1 ? "" : "s", j->taken, j->taken == 1 ? "" : "s",
                    j->duplicates);
            if (r->o->on_file)
                r->o->on_file(r->o->ctx, &fr);
        }
    }
    /* No fsync of the directories here, on purpose: the claims are already
     * committed (and synced) in the ledger, and a move lost in a power cut
     * only brings a file back into inbound/, where the next intake finds
     * its encounters in the ledger and archives it again.  Syncing here
     * would cost a journal commit per chunk, under the ledger's own. */
    if (archive_fd >= 0)
        close(archive_fd);
    return CH_OK;
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (unsigned)n;
}

static void today_str(char out[9])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 9, "%Y%m%d", &tm);
}

typedef struct batchset {
    file_job *jobs;
    size_t n;
    shared sh;
    worker *w;
    unsigned nw;
    /* the mover of this chunk */
    run *r;
    pthread_t mover;
    int moving;
    ch_code move_rc;
    ch_error move_err;
} batchset;

static void start_workers(batchset *b, unsigned nw)
{
    b->nw = 0;
    for (unsigned i = 0; i < nw; i++) {
        worker *w = &b->w[i];
        w->sh = &b->sh;
        encounter_init(&w->e);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
        pthread_setname_np(w->thread, "intake-read"); /* for top and perf */
        b->nw++;
    }
    if (b->nw == 0) {
        /* no thread to be had: read in this one */
        worker_main(&b->w[0]);
    }
}

static void join_workers(batchset *b)
{
    for (unsigned i = 0; i < b->nw; i++)
        pthread_join(b->w[i].thread, NULL);
    b->nw = 0;
}

static void *mover_main(void *vb)
{
    batchset *b = vb;
    b->move_rc = move_files(b->r, b->jobs, b->n, &b->move_err);
    return NULL;
}

/* Move a recorded chunk's files, on a thread of their own when there is one:
 * a rename costs about as much as recording a claim, so the two overlap. */
static void start_mover(batchset *b, run *r)
{
    b->r = r;
    b->move_rc = CH_OK;
    b->moving = pthread_create(&b->mover, NULL, mover_main, b) == 0;
    if (b->moving)
        pthread_setname_np(b->mover, "intake-move");
    if (!b->moving)
        mover_main(b);
}

/* Wait for the chunk's mover, free its jobs; its error, if any. */
static ch_code finish_chunk(batchset *b, ch_error *err)
{
    if (b->moving)
        pthread_join(b->mover, NULL);
    b->moving = 0;
    for (size_t i = 0; i < b->n; i++)
        job_free(&b->jobs[i]);
    b->n = 0;
    ch_code rc = b->move_rc;
    b->move_rc = CH_OK;
    if (rc != CH_OK && err)
        *err = b->move_err;
    return rc;
}

/*
 * Three chunks in flight: workers read chunk i while this thread records
 * chunk i-1 in the ledger and a mover moves the files of chunk i-2.  A
 * chunk's files move only after its transaction committed.
 */
static ch_code practice_run(run *r, unsigned nw, const char *today, size_t max_bytes, ch_error *err)
{
    size_t chunk = r->o->chunk ? r->o->chunk : CHUNK;
    char **names = NULL;
    size_t nnames = 0;
    ch_code rc = spool_list(r->inbound, spool_is_encounter_name, &names, &nnames, err);
    if (rc != CH_OK || nnames == 0) {
        spool_list_free(names, nnames);
        return rc;
    }
    log_msg(LOG_INFO, "intake: %s: %zu file%s waiting", r->practice->id, nnames, nnames == 1 ? "" : "s");
    batchset sets[3];
    memset(sets, 0, sizeof sets);
    for (int k = 0; k < 3; k++) {
        sets[k].jobs = calloc(chunk, sizeof(file_job));
        sets[k].w = calloc(nw, sizeof(worker));
        if (!sets[k].jobs || !sets[k].w) {
            rc = ch_error_set(err, CH_ERR_NOMEM, "intake: out of memory");
            goto out;
        }
    }
    size_t pos = 0;
    batchset *parsed = NULL, *moving = NULL;
    for (unsigned i = 0; rc == CH_OK && (pos < nnames || parsed); i++) {
        batchset *b = NULL;
        if (pos < nnames) {
            b = &sets[i % 3];
            b->n = nnames - pos < chunk ? nnames - pos : chunk;
            for (size_t k = 0; k < b->n; k++) {
                file_job *j = &b->jobs[k];
                memset(j, 0, sizeof *j);
                snprintf(j->name, sizeof j->name, "%s", names[pos + k]);
            }
            pos += b->n;
            b->sh = (shared){r->inbound_fd, r->cfg, r->practice, today, max_bytes, b->jobs, b->n, 0};
            start_workers(b, nw);
        }
        if (parsed) {
            rc = record(r, parsed->jobs, parsed->n, err);
            if (moving) {
                ch_code mrc = finish_chunk(moving, rc == CH_OK ? err : NULL);
                if (rc == CH_OK)
                    rc = mrc;
                moving = NULL;
            }
            if (rc == CH_OK) {
                start_mover(parsed, r);
                moving = parsed;
            }
        }
        if (b)
            join_workers(b);
        parsed = b;
    }
    if (moving) {
        ch_code mrc = finish_chunk(moving, rc == CH_OK ? err : NULL);
        if (rc == CH_OK)
            rc = mrc;
    }
out:
    for (int k = 0; k < 3; k++) {
        join_workers(&sets[k]);
        if (sets[k].moving)
            finish_chunk(&sets[k], NULL);
        for (size_t i = 0; i < sets[k].n; i++)
            job_free(&sets[k].jobs[i]);
        free(sets[k].jobs);
        free(sets[k].w);
    }
    spool_list_free(names, nnames);
    return rc;
}

/* One intake at a time per spool: a second would read the same files. */
static ch_code lock_spool(const char *root, const char *name, int *fd, ch_error *err)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", root, name);
    *fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", p, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return ch_error_set(err, CH_ERR_BUSY, "%s: another process holds it (is another %s running?)", p,
                                name + 1);
        return ch_error_set(err, CH_ERR_IO, "%s: %s", p, strerror(e));
    }
    return CH_OK;
}

static int is_dir_name(const char *name) { return name[0] != '.'; }

/* A directory in inbound/ that is no practice of the configuration: its
 * files would wait there for ever without a word. */
static void warn_strangers(const config *cfg)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", cfg->spool, SPOOL_INBOUND);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_dir_name(de->d_name))
            continue;
        if (!config_practice_find(cfg, de->d_name))
            log_msg(LOG_WARNING, "intake: %s/%s is not the directory of a configured practice; its files are not read",
                    dir, de->d_name);
    }
    closedir(d);
}

ch_code intake_run(const config *cfg, ledger *l, const intake_opts *opts, intake_report *rep, ch_error *err)
{
    intake_opts dflt = {0};
    const intake_opts *o = opts ? opts : &dflt;
    memset(rep, 0, sizeof *rep);
    if (o->practice && !config_practice_find(cfg, o->practice))
        return ch_error_set(err, CH_ERR_NOTFOUND, "practice '%s' is not in %s", o->practice, cfg->path);
    ch_code rc = spool_init(cfg->spool, err);
    if (rc != CH_OK)
        return rc;
    int lockfd;
    if ((rc = lock_spool(cfg->spool, ".intake.lock", &lockfd, err)) != CH_OK)
        return rc;
    /* reference rows the claims point at */
    for (size_t i = 0; i < cfg->npractices && rc == CH_OK; i++)
        rc = ledger_practice_put(l, cfg->practices[i].id, cfg->practices[i].name, cfg->practices[i].npi, err);
    for (size_t i = 0; i < cfg->nprofiles && rc == CH_OK; i++)
        rc = ledger_payer_put(l, cfg->profiles[i]->name, cfg->profiles[i]->payer_id, cfg->profiles[i]->payer_name,
                              err);
    char today[9];
    if (o->today)
        snprintf(today, sizeof today, "%s", o->today);
    else
        today_str(today);
    unsigned nw = o->jobs ? (o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs) : cpu_count();
    size_t max_bytes = o->max_file_bytes ? o->max_file_bytes : DEFAULT_MAX_BYTES;
    char day[9];
    today_str(day);
    if (!o->practice)
        warn_strangers(cfg);
    for (size_t i = 0; i < cfg->npractices && rc == CH_OK; i++) {
        const config_practice *p = &cfg->practices[i];
        if (o->practice && strcmp(o->practice, p->id))
            continue;
        run r = {.inbound_fd = -1, .cfg = cfg, .l = l, .o = o, .rep = rep, .practice = p, .archive_fd = -1,
                 .actor = o->actor ? o->actor : "intake"};
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(r.stamp, sizeof r.stamp, "%H%M%S", &tm);
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "encounters/%s/%s", p->id, day);
        if ((rc = spool_dir(r.inbound, sizeof r.inbound, cfg->spool, SPOOL_INBOUND, p->id, err)) != CH_OK ||
            (rc = spool_dir(r.failed, sizeof r.failed, cfg->spool, SPOOL_FAILED, p->id, err)) != CH_OK ||
            (rc = spool_dir(r.archive, sizeof r.archive, cfg->spool, SPOOL_ARCHIVE, sub, err)) != CH_OK)
            break;
        r.inbound_fd = open(r.inbound, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r.archive_fd = open(r.archive, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.inbound_fd < 0)
            rc = ch_error_set(err, CH_ERR_IO, "%s: %s", r.inbound, strerror(errno));
        else if (r.archive_fd < 0)
            rc = ch_error_set(err, CH_ERR_IO, "%s: %s", r.archive, strerror(errno));
        else
            rc = practice_run(&r, nw, today, max_bytes, err);
        if (r.inbound_fd >= 0)
            close(r.inbound_fd);
        if (r.archive_fd >= 0)
            close(r.archive_fd);
    }
    if (rep->files)
        log_msg(LOG_INFO,
                "intake: %llu file%s, %llu encounter%s: %llu new claim%s, %llu revised, %llu replacement%s, "
                "%llu duplicate%s, %llu refused, %llu invalid; %llu file%s to failed/",
                (unsigned long long)rep->files, rep->files == 1 ? "" : "s", (unsigned long long)rep->encounters,
                rep->encounters == 1 ? "" : "s", (unsigned long long)rep->claims_new, rep->claims_new == 1 ? "" : "s",
                (unsigned long long)rep->claims_revised, (unsigned long long)rep->claims_replacement,
                rep->claims_replacement == 1 ? "" : "s", (unsigned long long)rep->duplicates,
                rep->duplicates == 1 ? "" : "s", (unsigned long long)rep->refused,
                (unsigned long long)rep->invalid, (unsigned long long)rep->files_failed,
                rep->files_failed == 1 ? "" : "s");
    close(lockfd);
    return rc;
}

/* --- checking a buffer without the ledger ------------------------------------------------ */

ch_code intake_check_buffer(const config *cfg, const char *practice, const char *name, const char *buf, size_t len,
                            const char *today, unsigned *count, char *report, size_t size)
{
    const config_practice *p = config_practice_find(cfg, practice);
    if (size)
        report[0] = '\0';
    *count = 0;
    if (!p) {
        snprintf(report, size, "practice '%s' is not configured", practice);
        return CH_ERR_NOTFOUND;
    }
    file_job *j = calloc(1, sizeof *j);
    worker *w = calloc(1, sizeof *w);
    if (!j || !w) {
        free(j);
        free(w);
        return CH_ERR_NOMEM;
    }
    snprintf(j->name, sizeof j->name, "%s", name);
    char t[9] = "";
    if (today)
        snprintf(t, sizeof t, "%s", today);
    else
        today_str(t);
    shared sh = {AT_FDCWD, cfg, p, t, DEFAULT_MAX_BYTES, j, 1, 0};
    w->sh = &sh;
    w->job = j;
    encounter_init(&w->e);
    ch_error err;
    ch_error_clear(&err);
    ch_code rc = ydoc_each(buf, len, name, on_unit, w, &err);
    if (rc != CH_OK && !err.msg[0])
        ch_error_set(&err, rc, "%s: %s while reading", name, ch_strerror(rc));
    if (rc != CH_OK) {
        text_add(&j->report, "%s%s\n", err.msg, rc == CH_ERR_SYNTAX ? " (the file is not valid YAML or JSON)" : "");
        j->problems++;
    } else if (!j->units) {
        text_add(&j->report, "%s: holds no encounter\n", name);
        j->problems++;
    }
    *count = j->units;
    if (size)
        snprintf(report, size, "%s", j->report.p ? j->report.p : "");
    rc = j->problems ? CH_ERR_INVALID : CH_OK;
    job_free(j);
    free(j);
    free(w);
    return rc;
}
