/*
 * reconcile.c - see reconcile.h: the reconciler (one per spool at a time:
 * its lock, and the report temporaries a dead run left), one file's reading
 * (what kind it is, its payer, one ledger transaction for the whole file,
 * its diagnostics and worklist items) and a run's finish (its posting
 * reports, with those a stopped run left unwritten).  What a file is read
 * with lives next door: the 835's posting in reconcile_835.c, the 999's and
 * 277CA's in reconcile_ack.c, the matching of a claim in reconcile_match.c.
 */
#include "reconcile.h"
#include "reconcile_int.h"
#include "reconcile_report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack_999_reader.h"
#include "log.h"
#include "remit_835.h"
#include "sha256.h"
#include "spool.h"
#include "status_277ca_reader.h"

/* --- what reading a file shares (reconcile_int.h) ------------------------------- */

void rcn_worklist(file_ctx *f, const char *kind, int64_t claim_id, const char *practice, const char *reference,
                  int64_t amount, const char *fmt, ...)
{
    if (f->fatal != CH_OK)
        return;
    ledger_work_item w;
    memset(&w, 0, sizeof w);
    snprintf(w.kind, sizeof w.kind, "%s", kind);
    snprintf(w.practice, sizeof w.practice, "%s", practice && practice[0] ? practice : f->practice);
    snprintf(w.payer, sizeof w.payer, "%s", f->prof ? f->prof->name : "");
    w.claim_id = claim_id;
    w.remittance_id = f->remit_id;
    snprintf(w.file, sizeof w.file, "%s", f->path);
    snprintf(w.reference, sizeof w.reference, "%s", reference ? reference : "");
    w.amount_cents = amount;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.reason, sizeof w.reason, fmt, ap);
    va_end(ap);
    ch_code rc = ledger_worklist_add(f->r->l, &w, &f->ferr);
    if (rc != CH_OK)
        f->fatal = rc;
    else
        f->res->worklist++;
}

static void on_diag(void *ctx, const x12_diag *d)
{
    file_ctx *f = ctx;
    if (d->severity < X12_SEV_ERROR)
        return;
    f->res->errors++;
    if (d->level == 3 || (d->code && !strncmp(d->code, "835.balance", 11)))
        f->res->balance_errors++;
    if (f->ndiag_kept < 3) {
        /* the code, place and message in words: never the value found (PHI) */
        snprintf(f->first_diag[f->ndiag_kept++], sizeof f->first_diag[0], "%s at segment %llu: %s",
                 d->code ? d->code : "x12", (unsigned long long)d->pos.seg_no, d->msg);
    }
}

/* --- files ----------------------------------------------------------------------------- */

/* The interchange's sender and receiver ("QQ:ID") and the first ST01. */
static void sniff(const char *buf, size_t len, char *st01, size_t st01_size, char *sender, char *receiver)
{
    st01[0] = sender[0] = receiver[0] = '\0';
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\r' || buf[i] == '\n' || buf[i] == '\t'))
        i++;
    if (len - i < 106 || strncmp(buf + i, "ISA", 3))
        return;
    const char *isa = buf + i;
    char es = isa[3];
    /* the 16 ISA elements */
    const char *el[17];
    unsigned ne = 0;
    size_t k = 3;
    while (k < len - i && ne < 17) {
        if (isa[k] == es) {
            el[ne++] = isa + k + 1;
            if (ne == 16)
                break;
        }
        k++;
    }
    if (ne < 16)
        return;
    const char *end16 = el[15] + 1; /* ISA16 is one character */
    if ((size_t)(end16 - buf) >= len)
        return;
    char ss = *end16;
    char q[4], id[20];
#define ELEM(n, out)                                                             \
    do {                                                                         \
        const char *s_ = el[(n)-1];                                              \
        size_t m_ = strcspn(s_, (char[]){es, '\0'});                             \
        if (m_ >= sizeof(out))                                                   \
            m_ = sizeof(out) - 1;                                                \
        memcpy(out, s_, m_);                                                     \
        out[m_] = '\0';                                                          \
        while (m_ && out[m_ - 1] == ' ')                                         \
            out[--m_] = '\0';                                                    \
    } while (0)
    ELEM(5, q);
    ELEM(6, id);
    snprintf(sender, 40, "%s:%s", q, id);
    ELEM(7, q);
    ELEM(8, id);
    snprintf(receiver, 40, "%s:%s", q, id);
#undef ELEM
    /* the first ST */
    const char *p = end16;
    const char *lim = buf + len;
    while (p && p < lim) {
        p = memchr(p, ss, (size_t)(lim - p));
        if (!p)
            break;
        p++;
        while (p < lim && (*p == '\r' || *p == '\n'))
            p++;
        if (lim - p > 3 && p[0] == 'S' && p[1] == 'T' && p[2] == es) {
            size_t m = 0;
            p += 3;
            while (p + m < lim && p[m] != es && p[m] != ss && m + 1 < st01_size)
                m++;
            memcpy(st01, p, m);
            st01[m] = '\0';
            return;
        }
    }
}

/* Under the lock no other reconciliation is alive: a report's temporary
 * file in SPOOL/reports/<practice>/ is a dead run's, whose postings the
 * ledger still holds as unreported (see reconcile_finish). */
static void sweep_report_temporaries(const config *cfg)
{
    for (size_t i = 0; i < cfg->npractices; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", cfg->spool, SPOOL_REPORTS, cfg->practices[i].id);
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t n = strlen(de->d_name);
            if (strncmp(de->d_name, ".posting-", 9) || n < 13 || strcmp(de->d_name + n - 4, ".tmp"))
                continue;
            if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                log_msg(LOG_WARNING, "reconcile: removed %s/%s, left by a run that was stopped", dir, de->d_name);
        }
        closedir(d);
    }
}

ch_code reconcile_new(reconciler **out, const config *cfg, ledger *l, const reconcile_opts *opts, ch_error *err)
{
    *out = NULL;
    reconciler *r = calloc(1, sizeof *r);
    if (!r)
        return ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    r->cfg = cfg;
    r->l = l;
    if (opts)
        r->opts = *opts;
    if (!r->opts.actor)
        r->opts.actor = "reconcile";
    match_rules_init(&r->dflt);
    encounter_init(&r->enc);
    /* One reconciler at a time per spool (the daemon's and an operator's):
     * the reports of a run that died are written by the next, which must
     * not take a live run's postings for those. */
    char lock[4096];
    snprintf(lock, sizeof lock, "%s/.reconcile.lock", cfg->spool);
    ch_code rc = spool_init(cfg->spool, err);
    if (rc == CH_OK && (r->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        rc = ch_error_set(err, CH_ERR_IO, "%s: %s", lock, strerror(errno));
    if (rc == CH_OK && flock(r->lockfd, LOCK_EX | LOCK_NB) < 0) {
        log_msg(LOG_INFO, "reconcile: waiting for another reconcile of %s to finish", cfg->spool);
        while (flock(r->lockfd, LOCK_EX) < 0 && errno == EINTR)
            ;
    }
    if (rc != CH_OK) {
        r->lockfd = -1;
        reconcile_free(r);
        return rc;
    }
    sweep_report_temporaries(cfg);
    *out = r;
    return CH_OK;
}

void reconcile_free(reconciler *r)
{
    if (!r)
        return;
    match_rules_free(&r->dflt);
    encounter_clear(&r->enc);
    reconcile_report_discard(r->rep);
    free(r->keyed);
    free(r->posted);
    if (r->lockfd >= 0)
        close(r->lockfd); /* and the lock with it */
    free(r);
}

ch_code reconcile_file(reconciler *r, const char *path, const char *payer, reconcile_file_result *res, ch_error *err)
{
    memset(res, 0, sizeof *res);
    snprintf(res->path, sizeof res->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "%s: not a regular file", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (len && map == MAP_FAILED)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    if (len)
        madvise(map, len, MADV_SEQUENTIAL);
    const char *buf = len ? map : "";
    sha256_hex_of(buf, len, res->sha256);

    file_ctx *f = calloc(1, sizeof *f);
    if (!f) {
        if (len)
            munmap(map, len);
        return ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    }
    f->r = r;
    f->res = res;
    f->path = path;
    f->payer_hint = payer;
    f->rules = &r->dflt;
    if (r->rep)
        reconcile_report_mark(r->rep); /* a failure below takes the file's postings back */
    size_t posted_mark = r->nposted;
    char st01[8];
    sniff(buf, len, st01, sizeof st01, f->isa_sender, f->isa_receiver);
    ch_code rc = CH_OK;
    if (!strcmp(st01, "999"))
        snprintf(res->kind, sizeof res->kind, "999");
    else if (!strcmp(st01, "277"))
        snprintf(res->kind, sizeof res->kind, "277CA");
    else if (!strcmp(st01, "835"))
        snprintf(res->kind, sizeof res->kind, "835");
    else {
        rc = ch_error_set(err, CH_ERR_SYNTAX, "%s: not a 999, 277CA or 835 (%s)", path,
                          st01[0] ? "transaction set" : "no ISA and ST found");
        goto out;
    }
    if (payer) {
        const payer_profile *pp = config_profile(r->cfg, payer);
        if (!pp) {
            rc = ch_error_set(err, CH_ERR_CONFIG, "%s: payer '%s' is not configured", path, payer);
            goto out;
        }
        snprintf(res->payer, sizeof res->payer, "%s", payer);
    }
    if ((rc = ledger_begin(r->l, err)) != CH_OK)
        goto out;
    if (payer)
        rcn_use_payer(f, config_profile(r->cfg, payer));
    else if (strcmp(res->kind, "835")) {
        const char *id = strchr(f->isa_sender, ':');
        const char *ids[] = {id ? id + 1 : f->isa_sender};
        const payer_profile *pp = rcn_find_payer(r->cfg, ids, 1);
        if (pp)
            rcn_use_payer(f, pp);
    }
    ch_code rrc = CH_OK;
    ch_error rerr;
    memset(&rerr, 0, sizeof rerr);
    if (!strcmp(res->kind, "999")) {
        ack_999_events ev = {.set = rcn_on_999_set, .ctx = f};
        rrc = ack_999_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    } else if (!strcmp(res->kind, "277CA")) {
        status_277_events ev = {.level = rcn_on_277_level, .claim = rcn_on_277_claim, .ctx = f};
        rrc = status_277_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    } else {
        remit_835_events ev = {.payment = rcn_on_835_payment, .claim = rcn_on_835_claim, .plb = rcn_on_835_plb, .payment_end = rcn_on_835_payment_end,
                               .ctx = f};
        rrc = remit_835_read_mem(buf, len, path, &ev, on_diag, f, NULL, &rerr);
    }
    if (f->fatal != CH_OK) {
        ledger_rollback(r->l);
        /* nothing of the file was posted: forget its remittances */
        rc = ch_error_set(err, f->fatal, "%s: %s (nothing of the file was posted)", path, f->ferr.msg);
        goto out;
    }
    if (rrc == CH_ERR_NOMEM) {
        ledger_rollback(r->l);
        rc = ch_error_set(err, rrc, "%s: %s", path, rerr.msg);
        goto out;
    }
    /* a file that broke the rules: posted as far as readable, and flagged */
    if (rrc != CH_OK || res->errors > res->balance_errors) {
        res->flagged = 1;
        rcn_worklist(f, "invalid", 0, NULL, res->sha256, 0, "%s %s: %u error%s in the file%s%s%s%s; what was readable was posted",
                 res->kind, path, res->errors, res->errors == 1 ? "" : "s", rrc != CH_OK ? ", reading stopped: " : "",
                 rrc != CH_OK ? rerr.msg : "", f->ndiag_kept ? "; first: " : "", f->ndiag_kept ? f->first_diag[0] : "");
    }
    if (res->balance_errors)
        res->flagged = 1;
    if (f->fatal == CH_OK)
        rc = ledger_commit(r->l, err);
    else {
        ledger_rollback(r->l);
        rc = ch_error_set(err, f->fatal, "%s: %s", path, f->ferr.msg);
    }
    if (rc == CH_OK)
        log_msg(LOG_INFO, "reconciled %s (%s): %u claims, %u posted, %u unmatched, %u ambiguous, %u worklist", path,
                res->kind, res->claims, res->posted, res->unmatched, res->ambiguous, res->worklist);
out:
    if (rc != CH_OK && r->rep)
        reconcile_report_drop(r->rep); /* nothing of the file was posted: not in the reports */
    if (rc != CH_OK)
        r->nposted = posted_mark;
    free(f->doc);
    free(f);
    if (len)
        munmap(map, len);
    return rc;
}

/* Remittances committed by a run that died before its reports were in place. */
typedef struct orphans {
    reconciler *r;
    int64_t *v;
    size_t n, cap;
    int nomem;
} orphans;

static int on_unreported(void *ctx, int64_t id)
{
    orphans *o = ctx;
    for (size_t i = 0; i < o->r->nposted; i++)
        if (o->r->posted[i] == id)
            return 0; /* this run's: its postings are in the reports already */
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        int64_t *v = realloc(o->v, cap * sizeof *v);
        if (!v) {
            o->nomem = 1;
            return 1;
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = id;
    return 0;
}

static int on_stored(void *ctx, const ledger_posting *p)
{
    reconcile_report_add_stored(ctx, p);
    return 0;
}

/* Their postings into this run's reports, read back from the ledger. */
static ch_code add_orphans(reconciler *r, orphans *o, ch_error *err)
{
    ch_code rc = ledger_remittances_unreported(r->l, on_unreported, o, err);
    if (rc == CH_OK && o->nomem)
        rc = ch_error_set(err, CH_ERR_NOMEM, "reconcile: out of memory");
    if (rc != CH_OK || !o->n)
        return rc;
    log_msg(LOG_WARNING,
            "reconcile: %zu remittance%s posted by an earlier run that stopped before its posting reports; "
            "their postings are in this run's reports",
            o->n, o->n == 1 ? "" : "s");
    if (!r->rep && (rc = reconcile_report_open(&r->rep, r->cfg->spool, r->opts.reports_dir, err)) != CH_OK)
        return rc;
    for (size_t i = 0; i < o->n && rc == CH_OK; i++)
        rc = ledger_postings_each(r->l, o->v[i], on_stored, r->rep, err);
    return rc;
}

ch_code reconcile_finish(reconciler *r, void (*on_report)(void *ctx, const char *practice, const char *path),
                         void *ctx, ch_error *err)
{
    ch_code rc = r->rep_rc;
    if (rc != CH_OK && err)
        *err = r->rep_err;
    orphans o = {r, NULL, 0, 0, 0};
    ch_error e2;
    if (rc == CH_OK && !r->opts.no_reports)
        rc = add_orphans(r, &o, err ? err : &e2);
    ch_code rc2 = reconcile_report_finish(r->rep, on_report, ctx, rc == CH_OK ? err : NULL);
    r->rep = NULL;
    r->rep_rc = CH_OK;
    if (rc == CH_OK)
        rc = rc2;
    /* The reports are in place (or not wanted): this run's remittances and
     * the orphans are reported.  A crash before this line writes them again
     * next time: a report twice rather than none. */
    if (rc == CH_OK) {
        rc = ledger_remittances_reported(r->l, r->posted, r->nposted, err);
        if (rc == CH_OK)
            rc = ledger_remittances_reported(r->l, o.v, o.n, err);
        if (rc == CH_OK)
            r->nposted = 0;
    }
    free(o.v);
    return rc;
}
