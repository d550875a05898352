/*
 * intake_read.c - reading and checking encounter files, on worker threads:
 * each file of a chunk is read whole, its encounters read and checked
 * (form, meaning, the practice's payers and their edits), and what is good
 * in it packed for the ledger; its problems become the lines of its .error.
 * Also intake_check_buffer(), the same checks on a document in memory.
 */
#include "intake_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ydoc.h"

void intake_text_add(text *t, const char *fmt, ...)
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

/* --- per file, on a worker thread --------------------------------------------------------- */

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
            intake_text_add(&j->report, "%s:%u:%u: %s%s%s: %s\n", j->name, q->line ? q->line : unit->line,
                            q->line ? q->col : unit->col, pre, dot, q->path[0] || pre[0] ? q->path : "(document)",
                            q->msg);
            j->problems++;
        }
        if (probs->dropped) {
            intake_text_add(&j->report, "%s: %s and %u more problems\n", j->name, pre[0] ? pre : "(document)",
                            probs->dropped);
            j->problems++;
        }
        if (!probs->n && !probs->dropped) {
            intake_text_add(&j->report, "%s:%u:%u: %s: out of memory while reading\n", j->name, unit->line,
                            unit->col, pre[0] ? pre : "(document)");
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
        intake_text_add(&j->report, "%s: cannot be read: %s\n", j->name, err.msg);
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
        intake_text_add(&j->report, "%s%s\n", err.msg,
                        rc == CH_ERR_SYNTAX ? " (the file is not valid YAML or JSON)" : "");
        j->problems++;
    } else if (j->units == 0) {
        intake_text_add(&j->report, "%s: holds no encounter\n", j->name);
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

/* --- the reader threads of a chunk ------------------------------------------------------- */

void intake_start_workers(batchset *b, unsigned nw)
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

void intake_join_workers(batchset *b)
{
    for (unsigned i = 0; i < b->nw; i++)
        pthread_join(b->w[i].thread, NULL);
    b->nw = 0;
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
        intake_today(t);
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
        intake_text_add(&j->report, "%s%s\n", err.msg,
                        rc == CH_ERR_SYNTAX ? " (the file is not valid YAML or JSON)" : "");
        j->problems++;
    } else if (!j->units) {
        intake_text_add(&j->report, "%s: holds no encounter\n", name);
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
