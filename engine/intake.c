/*
 * intake.c - the intake run (see intake.h): per practice, the files waiting
 * in inbound/ are taken in chunks, each read by the workers
 * (intake_read.c), recorded in one ledger transaction here, then moved by
 * a mover thread (intake_move.c); and the lock that keeps it to one at a
 * time per spool.
 */
#include "intake_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

/* Files per ledger transaction.  Each commit is an fsync, and under the
 * journal traffic of thousands of renames an fsync costs tens of
 * milliseconds: fewer, larger commits are what keeps intake fast. */
#define CHUNK 4096
#define MAX_JOBS 8

/* --- the ledger, per chunk ------------------------------------------------------------ */

/* Record the good encounters of a chunk's files in one transaction; what
 * the ledger refuses becomes a problem of its file. */
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
                intake_text_add(&j->report, "%s:%u:1: %s%s%s\n", j->name, it->line, pre, pre[0] ? ": " : "", res.why);
                j->problems++;
                break;
            }
            /* the list is for the .error of a file of several encounters */
            int listed = j->units > 1;
            if (res.outcome == LEDGER_NEW || res.outcome == LEDGER_REVISED || res.outcome == LEDGER_REPLACEMENT) {
                j->taken++;
                if (listed)
                    intake_text_add(&j->taken_list, "%s%s%s%s (%s)", j->taken > 1 ? ", " : "", pre,
                                    pre[0] ? " " : "", res.pcn,
                                    res.outcome == LEDGER_NEW       ? "new"
                                    : res.outcome == LEDGER_REVISED ? "revised"
                                                                    : "replacement");
            } else if (res.outcome == LEDGER_DUPLICATE && listed) {
                intake_text_add(&j->taken_list, "%s%s%s%s (already taken)",
                                j->taken + j->duplicates > 1 ? ", " : "", pre, pre[0] ? " " : "", res.pcn);
            }
        }
    }
    if (rc != CH_OK) {
        ledger_rollback(r->l);
        return rc;
    }
    return ledger_commit(r->l, err);
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (unsigned)n;
}

void intake_today(char out[9])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 9, "%Y%m%d", &tm);
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
            intake_start_workers(b, nw);
        }
        if (parsed) {
            rc = record(r, parsed->jobs, parsed->n, err);
            if (moving) {
                ch_code mrc = intake_finish_chunk(moving, rc == CH_OK ? err : NULL);
                if (rc == CH_OK)
                    rc = mrc;
                moving = NULL;
            }
            if (rc == CH_OK) {
                intake_start_mover(parsed, r);
                moving = parsed;
            }
        }
        if (b)
            intake_join_workers(b);
        parsed = b;
    }
    if (moving) {
        ch_code mrc = intake_finish_chunk(moving, rc == CH_OK ? err : NULL);
        if (rc == CH_OK)
            rc = mrc;
    }
out:
    for (int k = 0; k < 3; k++) {
        intake_join_workers(&sets[k]);
        if (sets[k].moving)
            intake_finish_chunk(&sets[k], NULL);
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
        intake_today(today);
    unsigned nw = o->jobs ? (o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs) : cpu_count();
    size_t max_bytes = o->max_file_bytes ? o->max_file_bytes : DEFAULT_MAX_BYTES;
    char day[9];
    intake_today(day);
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
