/* batch.c - see batch.h */
#include "batch.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"
#include "log.h"
#include "spool.h"

typedef struct run {
    const config *cfg;
    ledger *l;
    const batch_opts *o;
    batch_report *rep;
    const char *actor;
    ch_code deferred;          /* an error of one group, returned at the end */
    ch_error deferred_err;
} run;

/* --- one file --------------------------------------------------------------------------- */

static void report_failure(run *r, const char *practice, const char *payer, int64_t id, const char *pcn,
                           const char *why)
{
    r->rep->claims_failed++;
    log_msg(LOG_WARNING, "batch: claim %s (%" PRId64 ") failed: %s", pcn, id, why);
    if (r->o->on_failed) {
        batch_claim_failure f = {practice, payer, pcn, id, why};
        r->o->on_failed(r->o->ctx, &f);
    }
}

/* Move a written file aside with the reason beside it, under its final
 * name (".x.x12.tmp" is kept as "x.x12"). */
static void set_aside(run *r, const char *payer, const char *path, const char *reason, char *final, size_t size)
{
    char dir[PATH_MAX], sub[PATH_MAX], name[NAME_MAX + 1];
    ch_error e;
    snprintf(sub, sizeof sub, "discarded/%s", payer);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(name, sizeof name, "%s", base[0] == '.' ? base + 1 : base);
    size_t n = strlen(name);
    if (n > 4 && !strcmp(name + n - 4, ".tmp"))
        name[n - 4] = '\0';
    final[0] = '\0';
    if (spool_dir(dir, sizeof dir, r->cfg->spool, SPOOL_ARCHIVE, sub, &e) != CH_OK ||
        spool_fail(path, dir, name, reason, final, size, &e) != CH_OK)
        log_msg(LOG_ERROR, "batch: cannot set %s aside: %s", path, e.msg);
}

/*
 * The first half of a file: in one ledger transaction, the next queued
 * claims of the group are rendered (those that fail go to the worklist),
 * control numbers allocated and the batch recorded ("writing") with its
 * claims batched.  f->batch_id is 0 when there is no file to write (no
 * claim left, or all failed).  *more is set when the group may have more
 * queued claims.
 */
static ch_code prepare(run *r, batch_file *f, chunk *helper, const ledger_group *g, int *more, ch_error *err)
{
    chunk *ch = f->ch;
    *more = 0;
    f->batch_id = 0;
    batch_chunk_reset(ch);
    const payer_profile *pp = ch->ctx.profile;
    ch_code rc = ledger_begin(r->l, err);
    if (rc != CH_OK)
        return rc;
    ledger_filter lf = {.practice = g->practice, .payer = g->payer, .claim_type = g->claim_type,
                        .state = LEDGER_QUEUED, .limit = pp->claims_per_file, .with_doc = 1};
    rc = ledger_claims_each(r->l, &lf, batch_chunk_collect, ch, err);
    if (rc == CH_OK && ch->fatal == CH_OK)
        batch_chunk_render(ch, helper);
    if (rc == CH_OK && ch->fatal != CH_OK)
        rc = ch_error_set(err, ch->fatal, "%s", ch->fatal_err.msg);
    for (size_t i = 0; i < ch->nf && rc == CH_OK; i++)
        rc = ledger_claim_move(r->l, ch->f[i].id, LEDGER_FAILED, 0, r->actor, ch->f[i].why, err);
    if (rc != CH_OK) {
        ledger_rollback(r->l);
        return rc;
    }
    if (ch->n == 0) {
        if ((rc = ledger_commit(r->l, err)) != CH_OK)
            return rc;
        for (size_t i = 0; i < ch->nf; i++)
            report_failure(r, g->practice, g->payer, ch->f[i].id, ch->f[i].pcn, ch->f[i].why);
        *more = ch->fetched > 0;
        return CH_OK;
    }

    /* control numbers are committed before the file exists: never reused */
    const config_payer_link *link = ch->ctx.link;
    char sender[32], receiver[32];
    snprintf(sender, sizeof sender, "%s:%s", link->submitter_qual, link->submitter_id);
    snprintf(receiver, sizeof receiver, "%s:%s", pp->isa07, pp->isa08);
    uint64_t isa13 = 0, gs06 = 0, st02 = 0;
    ledger_batch *b = calloc(1, sizeof *b);
    if (!b) {
        ledger_rollback(r->l);
        return ch_error_set(err, CH_ERR_NOMEM, "batch: out of memory");
    }
    int64_t *ids = malloc(ch->n * sizeof *ids);
    if (!ids)
        rc = ch_error_set(err, CH_ERR_NOMEM, "batch: out of memory");
    if (rc == CH_OK)
        rc = ledger_control_next(r->l, sender, receiver, LEDGER_ISA13, 1, &isa13, err);
    if (rc == CH_OK)
        rc = ledger_control_next(r->l, sender, receiver, LEDGER_GS06, 1, &gs06, err);
    if (rc == CH_OK)
        rc = ledger_control_next(r->l, sender, receiver, LEDGER_ST02, ch->nst, &st02, err);
    snprintf(f->name, sizeof f->name, "%s-%s-%09" PRIu64 ".x12", g->claim_type, g->practice, isa13);
    if (rc == CH_OK) {
        snprintf(b->practice, sizeof b->practice, "%s", g->practice);
        snprintf(b->payer, sizeof b->payer, "%s", g->payer);
        snprintf(b->claim_type, sizeof b->claim_type, "%s", g->claim_type);
        snprintf(b->sender, sizeof b->sender, "%s", sender);
        snprintf(b->receiver, sizeof b->receiver, "%s", receiver);
        b->isa13 = isa13;
        b->gs06 = gs06;
        b->st02_first = st02;
        b->st_count = ch->nst;
        b->claim_count = (unsigned)ch->n;
        b->total_cents = ch->total;
        snprintf(b->file, sizeof b->file, "%s/%s/%s", SPOOL_OUTBOUND, g->payer, f->name);
        rc = ledger_batch_create(r->l, b, err);
    }
    if (rc == CH_OK) {
        char why[256];
        snprintf(why, sizeof why, "batch %" PRId64 ": %s", b->id, f->name);
        for (size_t i = 0; i < ch->n; i++)
            ids[i] = ch->c[i].id;
        rc = ledger_batch_add_claims(r->l, b->id, ids, ch->n, r->actor, why, err);
    }
    free(ids);
    if (rc == CH_OK)
        rc = ledger_commit(r->l, err);
    else
        ledger_rollback(r->l);
    int64_t id = b->id;
    free(b);
    if (rc != CH_OK)
        return rc;
    for (size_t i = 0; i < ch->nf; i++)
        report_failure(r, g->practice, g->payer, ch->f[i].id, ch->f[i].pcn, ch->f[i].why);
    f->batch_id = id;
    f->isa13 = isa13;
    f->gs06 = gs06;
    f->st02 = st02;
    snprintf(f->tmp, sizeof f->tmp, "%s/.%s.tmp", f->outdir, f->name);
    snprintf(f->final, sizeof f->final, "%s/%s", f->outdir, f->name);
    f->validate = r->o->validate ? r->o->validate : batch_validate_file;
    *more = ch->fetched >= pp->claims_per_file;
    return CH_OK;
}

/*
 * The second half, once the file was written and checked (batch_file_wait):
 * clean and in place, the batch and its claims are ready.  Not clean: the
 * claims a problem points at go to failed with the problem; the rest go
 * back to queued (*requeued is set) and into a later file; the written file
 * is set aside in archive/discarded/<payer>/ with a .error.
 */
static ch_code settle(run *r, batch_file *f, const ledger_group *g, int *requeued, ch_error *err)
{
    chunk *ch = f->ch;
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/%s/%s", SPOOL_OUTBOUND, g->payer, f->name);
    ch_code rc;
    if (f->rc != CH_OK) {
        /* could not write or read it: the claims go back, the batch is dropped */
        if (err)
            *err = f->err;
        ch_error e2;
        char why[CH_ERROR_MSG + 64];
        snprintf(why, sizeof why, "batch %" PRId64 " not written: %s", f->batch_id, f->err.msg);
        char aside[PATH_MAX];
        if (access(f->tmp, F_OK) == 0)
            set_aside(r, g->payer, f->tmp, why, aside, sizeof aside);
        if (ledger_begin(r->l, &e2) == CH_OK) {
            if (ledger_batch_move_claims(r->l, f->batch_id, LEDGER_BATCHED, LEDGER_QUEUED, 0, r->actor, why, NULL,
                                         &e2) == CH_OK &&
                ledger_batch_update(r->l, f->batch_id, "discarded", f->bytes, NULL, why, &e2) == CH_OK)
                ledger_commit(r->l, &e2);
            else
                ledger_rollback(r->l);
        }
        return f->rc;
    }

    if (f->val.errors == 0) {
        if (!f->renamed) {
            /* the batch stays "writing": the next run settles it */
            if (err)
                *err = f->place_err;
            return f->place_rc;
        }
        char why[256];
        snprintf(why, sizeof why, "batch %" PRId64 ": %s validated", f->batch_id, f->name);
        uint64_t moved = 0;
        if ((rc = ledger_begin(r->l, err)) == CH_OK) {
            rc = ledger_batch_update(r->l, f->batch_id, "ready", f->bytes, f->hash, NULL, err);
            if (rc == CH_OK)
                rc = ledger_batch_move_claims(r->l, f->batch_id, LEDGER_BATCHED, LEDGER_READY, 1, r->actor, why,
                                              &moved, err);
            if (rc == CH_OK)
                rc = ledger_commit(r->l, err);
            else
                ledger_rollback(r->l);
        }
        if (rc == CH_OK) {
            r->rep->files++;
            r->rep->transactions += ch->nst;
            r->rep->claims += ch->n;
            r->rep->bytes += f->bytes;
            r->rep->total_cents += ch->total;
            log_msg(LOG_INFO, "batch: %s: %zu claim%s in %u transaction set%s, batch %" PRId64, file, ch->n,
                    ch->n == 1 ? "" : "s", ch->nst, ch->nst == 1 ? "" : "s", f->batch_id);
            if (r->o->on_file) {
                batch_file_result fr = {g->practice, g->payer, g->claim_type, f->final, f->batch_id, f->isa13,
                                        (unsigned)ch->n, ch->nst, ch->total, f->bytes, 0};
                r->o->on_file(r->o->ctx, &fr);
            }
        }
        return rc;
    }

    char why[600];
    snprintf(why, sizeof why, "batch %" PRId64 " discarded: its file check found %u problem%s", f->batch_id,
             f->val.errors, f->val.errors == 1 ? "" : "s");
    char aside[PATH_MAX];
    const blame *bl = &f->bl;
    set_aside(r, g->payer, f->tmp, bl->report[0] ? bl->report : why, aside, sizeof aside);
    if ((rc = ledger_begin(r->l, err)) != CH_OK)
        return rc;
    for (size_t i = 0; i < ch->n && rc == CH_OK; i++)
        if (ch->c[i].blamed)
            rc = ledger_claim_move(r->l, ch->c[i].id, LEDGER_FAILED, 0, r->actor, ch->c[i].why, err);
    if (rc == CH_OK)
        rc = ledger_batch_move_claims(r->l, f->batch_id, LEDGER_BATCHED, LEDGER_QUEUED, 0, r->actor, why, NULL, err);
    if (rc == CH_OK)
        rc = ledger_batch_update(r->l, f->batch_id, "discarded", f->bytes, f->hash,
                                 bl->file_problems ? bl->file_first : why, err);
    if (rc == CH_OK)
        rc = ledger_commit(r->l, err);
    else
        ledger_rollback(r->l);
    if (rc != CH_OK)
        return rc;
    r->rep->discarded++;
    log_msg(LOG_WARNING, "batch: %s: %s", f->name, why);
    for (size_t i = 0; i < ch->n; i++)
        if (ch->c[i].blamed)
            report_failure(r, g->practice, g->payer, ch->c[i].id, ch->c[i].pcn, ch->c[i].why);
    if (r->o->on_file) {
        batch_file_result fr = {g->practice, g->payer, g->claim_type, aside, f->batch_id, f->isa13,
                                (unsigned)ch->n, ch->nst, ch->total, f->bytes, 1};
        r->o->on_file(r->o->ctx, &fr);
    }
    if (bl->file_problems)
        /* a problem no claim explains is the engine's own: stop this group
         * rather than write the same broken file again */
        return ch_error_set(err, CH_ERR_INTERNAL, "batch %" PRId64 ": %s", f->batch_id, bl->file_first);
    *requeued = 1;
    return CH_OK;
}

/*
 * Files of a group, two at a time: while one file is written, checked and
 * renamed into place on a thread of its own, this thread records the next
 * one in the ledger, then settles the first.  Each file's claims are still
 * batched in a transaction before its file exists, and made ready in one
 * after it is in place.
 */
static ch_code group_run(run *r, const ledger_group *g, ch_error *err)
{
    const config_practice *pr = config_practice_find(r->cfg, g->practice);
    const config_payer_link *link = pr ? config_practice_payer(pr, g->payer) : NULL;
    if (!link)
        return ch_error_set(err, CH_ERR_CONFIG, "%llu queued claim%s of practice %s for payer %s: %s is not "
                            "configured; they stay queued",
                            (unsigned long long)g->count, g->count == 1 ? "" : "s", g->practice, g->payer,
                            pr ? "the payer" : "the practice");
    batch_file *files = calloc(2, sizeof *files);
    if (!files)
        return ch_error_set(err, CH_ERR_NOMEM, "batch: out of memory");
    ch_code rc = spool_dir(files[0].outdir, sizeof files[0].outdir, r->cfg->spool, SPOOL_OUTBOUND, g->payer, err);
    memcpy(files[1].outdir, files[0].outdir, sizeof files[1].outdir);
    encounter_type type = !strcmp(g->claim_type, "837I") ? ENC_INSTITUTIONAL : ENC_PROFESSIONAL;
    for (int k = 0; k < 2 && rc == CH_OK; k++)
        if (!(files[k].ch = batch_chunk_new(r->cfg, r->o, pr, link, type)))
            rc = ch_error_set(err, CH_ERR_NOMEM, "batch: out of memory");
    /* renders half of each file's claims on a thread (none: all on this one) */
    chunk *helper = rc == CH_OK ? batch_chunk_new(r->cfg, r->o, pr, link, type) : NULL;
    batch_file *prev = NULL; /* being written, or written and not yet settled */
    int more = 1;
    /* each round sends claims out of queued (into a file or onto the
     * worklist), so this ends; the bound is a guard against a bug */
    for (unsigned round = 0; rc == CH_OK && (more || prev) && round < 100000; round++) {
        batch_file *cur = NULL;
        if (more) {
            cur = &files[round % 2];
            rc = prepare(r, cur, helper, g, &more, err);
            if (rc != CH_OK || !cur->batch_id)
                cur = NULL;
        }
        if (prev) {
            /* one file on its thread at a time: a validator need not be reentrant */
            batch_file_wait(prev);
            if (cur)
                batch_file_start(cur);
            int requeued = 0;
            ch_code src = settle(r, prev, g, &requeued, rc == CH_OK ? err : NULL);
            if (requeued)
                more = 1;
            if (rc == CH_OK)
                rc = src;
        } else if (cur) {
            batch_file_start(cur);
        }
        prev = cur;
    }
    if (prev) {
        /* stopped by an error with a file on its way: finish it all the same */
        batch_file_wait(prev);
        int requeued = 0;
        settle(r, prev, g, &requeued, NULL);
    }
    for (int k = 0; k < 2; k++)
        batch_chunk_free(files[k].ch);
    batch_chunk_free(helper);
    free(files);
    return rc;
}

/* --- settling batches a crash left behind ------------------------------------------------ */

typedef struct idlist {
    int64_t *v;
    size_t n, cap;
} idlist;

static int collect(void *vl, const ledger_batch *b)
{
    idlist *l = vl;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        int64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return 1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = b->id;
    return 0;
}

static void count_only(void *vb, const x12_diag *d)
{
    (void)d;
    (void)vb;
}

static ch_code recover(run *r, ch_error *err)
{
    idlist ids = {NULL, 0, 0};
    ch_code rc = ledger_batches_each(r->l, "writing", collect, &ids, err);
    ledger_batch *b = calloc(1, sizeof *b);
    if (!b) {
        free(ids.v);
        return ch_error_set(err, CH_ERR_NOMEM, "batch: out of memory");
    }
    for (size_t i = 0; i < ids.n && rc == CH_OK; i++) {
        if ((rc = ledger_batch_get(r->l, ids.v[i], b, err)) != CH_OK)
            break;
        char final[PATH_MAX], tmp[PATH_MAX];
        snprintf(final, sizeof final, "%s/%s", r->cfg->spool, b->file);
        const char *slash = strrchr(final, '/');
        snprintf(tmp, sizeof tmp, "%.*s/.%s.tmp", (int)(slash - final), final, slash + 1);
        batch_validation val = {0, 0, 0};
        ch_error verr;
        int good = 0;
        if (access(final, F_OK) == 0) {
            batch_validate_fn validate = r->o->validate ? r->o->validate : batch_validate_file;
            good = validate(final, count_only, NULL, &val, &verr) == CH_OK && val.errors == 0;
        }
        char why[256];
        if ((rc = ledger_begin(r->l, err)) != CH_OK)
            break;
        if (good) {
            struct stat st;
            uint64_t bytes = stat(final, &st) == 0 ? (uint64_t)st.st_size : 0;
            snprintf(why, sizeof why, "batch %" PRId64 ": %s validated after an interrupted run", b->id, b->file);
            rc = ledger_batch_update(r->l, b->id, "ready", bytes, NULL, NULL, err);
            if (rc == CH_OK)
                rc = ledger_batch_move_claims(r->l, b->id, LEDGER_BATCHED, LEDGER_READY, 1, r->actor, why, NULL, err);
        } else {
            snprintf(why, sizeof why, "batch %" PRId64 " was interrupted before its file was complete", b->id);
            rc = ledger_batch_move_claims(r->l, b->id, LEDGER_BATCHED, LEDGER_QUEUED, 0, r->actor, why, NULL, err);
            if (rc == CH_OK)
                rc = ledger_batch_update(r->l, b->id, "discarded", 0, NULL, why, err);
        }
        if (rc == CH_OK)
            rc = ledger_commit(r->l, err);
        else
            ledger_rollback(r->l);
        if (rc != CH_OK)
            break;
        if (!good) {
            char aside[PATH_MAX];
            if (access(final, F_OK) == 0)
                set_aside(r, b->payer, final, why, aside, sizeof aside);
            if (access(tmp, F_OK) == 0)
                set_aside(r, b->payer, tmp, why, aside, sizeof aside);
        }
        r->rep->recovered++;
        log_msg(LOG_WARNING, "batch: %s", why);
    }
    free(b);
    free(ids.v);
    return rc;
}

ch_code batch_run(const config *cfg, ledger *l, const batch_opts *opts, batch_report *rep, ch_error *err)
{
    batch_opts dflt = {0};
    const batch_opts *o = opts ? opts : &dflt;
    memset(rep, 0, sizeof *rep);
    ch_code rc = spool_init(cfg->spool, err);
    if (rc != CH_OK)
        return rc;
    char lock[PATH_MAX];
    snprintf(lock, sizeof lock, "%s/.batch.lock", cfg->spool);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", lock, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return ch_error_set(err, e == EWOULDBLOCK ? CH_ERR_BUSY : CH_ERR_IO, "%s: %s", lock,
                            e == EWOULDBLOCK ? "another batch run holds it" : strerror(e));
    }
    run r = {cfg, l, o, rep, o->actor ? o->actor : "batch", CH_OK, {CH_OK, ""}};
    rc = recover(&r, err);
    ledger_group *groups = NULL;
    size_t ng = 0;
    if (rc == CH_OK)
        rc = ledger_queued_groups(l, &groups, &ng, err);
    for (size_t i = 0; i < ng && rc == CH_OK; i++) {
        const ledger_group *g = &groups[i];
        if ((o->practice && strcmp(o->practice, g->practice)) || (o->payer && strcmp(o->payer, g->payer)))
            continue;
        ch_error gerr;
        ch_code grc = group_run(&r, g, &gerr);
        if (grc == CH_ERR_CONFIG || grc == CH_ERR_INTERNAL) {
            /* this group cannot go on; the others can */
            log_msg(LOG_ERROR, "batch: %s", gerr.msg);
            if (r.deferred == CH_OK) {
                r.deferred = grc;
                r.deferred_err = gerr;
            }
        } else if (grc != CH_OK) {
            rc = grc;
            if (err)
                *err = gerr;
        }
    }
    free(groups);
    close(fd);
    if (rc == CH_OK && r.deferred != CH_OK) {
        if (err)
            *err = r.deferred_err;
        rc = r.deferred;
    }
    return rc;
}
