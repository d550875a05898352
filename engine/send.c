/* send.c - see send.h */
#include "send.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"
#include "spool.h"
#include "transport.h"

#define ACTOR "send"

const char *send_status_name(send_status s)
{
    static const char *const names[] = {"sent", "found", "retry", "waiting", "held", "failed", "skipped"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

/* The test hook (send.h): die here as kill -9 would kill us. */
static void crash_point(const char *where)
{
    const char *at = getenv("CH_TEST_CRASH_AT");
    if (!at || !*at)
        return;
    if (!strcmp(at, where) || (!strcmp(at, "after_rename") && !strcmp(where, "after_upload"))) {
        fflush(NULL);
        kill(getpid(), SIGKILL);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static uint64_t next_rand(uint64_t *state)
{
    /* splitmix64: jitter only */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

ch_code send_local_dirs(const config *cfg, const transport_config *tc, ch_error *err)
{
    if (tc->kind != TRANSPORT_DIR)
        return CH_OK;
    const char *dirs[] = {tc->dir.upload_dir, tc->dir.response_dir, tc->dir.archive_dir};
    size_t sl = strlen(cfg->spool);
    for (int i = 0; i < 3; i++) {
        const char *d = dirs[i];
        if (!d[0] || strncmp(d, cfg->spool, sl) || d[sl] != '/' || strstr(d, "/../"))
            continue; /* not ours to create (a mounted share must be there already) */
        ch_code rc = spool_mkdirs(d, err);
        if (rc != CH_OK)
            return rc;
    }
    return CH_OK;
}

int send_can_upload(const transport_config *tc)
{
    switch (tc->kind) {
    case TRANSPORT_DIR: return tc->dir.upload_dir[0] != '\0';
    case TRANSPORT_SFTP: return tc->sftp.upload_dir[0] != '\0';
    case TRANSPORT_HTTPS: return tc->https.upload_url[0] != '\0';
    default: return 0;
    }
}

/* --- one payer --------------------------------------------------------------------- */

typedef struct item {
    ledger_batch b;
    ledger_send_info x;
} item;

typedef struct items {
    item *v;
    size_t n, cap;
    ch_code rc;
} items;

static int gather(void *ctx, const ledger_batch *b, const ledger_send_info *x)
{
    items *it = ctx;
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 8;
        item *v = realloc(it->v, cap * sizeof *v);
        if (!v) {
            it->rc = CH_ERR_NOMEM;
            return 1;
        }
        it->v = v;
        it->cap = cap;
    }
    it->v[it->n].b = *b;
    it->v[it->n].x = *x;
    it->n++;
    return 0;
}

typedef struct run {
    const config *cfg;
    ledger *led;
    const send_opts *o;
    send_report *rep;
    int64_t wait_left_ms;
    uint64_t rng;
    transport *t;
    const transport_config *tc;
    int stop_payer;            /* a refusal: the payer's other batches wait */
    char stop_why[1024];
} run;

static void report(run *r, const item *it, send_status st, unsigned attempts, int64_t next_ms, const char *why)
{
    char path[PATH_MAX + 4200];
    snprintf(path, sizeof path, "%s/%s", r->cfg->spool, it->b.file);
    send_batch_result res = {
        .payer = it->b.payer,
        .batch_id = it->b.id,
        .file = path,
        .remote_name = it->x.remote_name,
        .status = st,
        .attempts = attempts,
        .max_attempts = r->tc ? (unsigned)r->tc->retry_attempts : 0,
        .next_attempt_ms = next_ms,
        .bytes = it->b.bytes,
        .why = why ? why : "",
    };
    switch (st) {
    case SEND_SENT: r->rep->sent++, r->rep->bytes += it->b.bytes; break;
    case SEND_FOUND: r->rep->found++; break;
    case SEND_RETRY: r->rep->retry++; break;
    case SEND_WAITING: r->rep->waiting++; break;
    case SEND_HELD: r->rep->held++; break;
    case SEND_FAILED: r->rep->failed++; break;
    case SEND_SKIPPED: r->rep->skipped++; break;
    }
    log_level lv = st == SEND_SENT || st == SEND_FOUND || st == SEND_WAITING ? LOG_INFO
                   : st == SEND_RETRY                                     ? LOG_WARN
                                                                          : LOG_ERROR;
    LOG(lv, "send.batch", LOG_STR("payer", it->b.payer), LOG_INT("batch", it->b.id),
        LOG_STR("remote_file", it->x.remote_name), LOG_STR("status", send_status_name(st)),
        LOG_INT("attempts", attempts), LOG_STR("why", why ? why : ""));
    if (r->o->on_batch)
        r->o->on_batch(r->o->ctx, &res);
}

/* The batch's remote name: {batch} is its file's name without ".x12". */
static ch_code decide_name(run *r, item *it, ch_error *err)
{
    const char *base = strrchr(it->b.file, '/');
    base = base ? base + 1 : it->b.file;
    char id[256];
    snprintf(id, sizeof id, "%s", base);
    size_t n = strlen(id);
    if (n > 4 && !strcmp(id + n - 4, ".x12"))
        id[n - 4] = '\0';
    ch_code rc = transport_remote_name(r->tc, id, time(NULL), it->x.remote_name, sizeof it->x.remote_name, err);
    if (rc == CH_OK && !transport_name_ok(it->x.remote_name))
        rc = ch_error_set(err, CH_ERR_CONFIG, "payer %s: file_name gives an unusable name '%s'", r->tc->payer,
                          it->x.remote_name);
    return rc;
}

/*
 * One batch, to the end of what this run can do for it.  Returns CH_OK
 * unless the ledger fails.
 */
static ch_code send_one(run *r, item *it, ch_error *err)
{
    char path[PATH_MAX + 4200];
    snprintf(path, sizeof path, "%s/%s", r->cfg->spool, it->b.file);
    unsigned attempts = it->x.attempts;
    unsigned limit = (unsigned)r->tc->retry_attempts;
    int check = !strcmp(it->b.state, "sending");
    ch_error e;
    ch_code rc;

    if (!check) {
        if ((rc = decide_name(r, it, &e)) != CH_OK) {
            report(r, it, SEND_SKIPPED, 0, 0, e.msg);
            r->stop_payer = 1;
            snprintf(r->stop_why, sizeof r->stop_why, "%s", e.msg);
            return CH_OK;
        }
        rc = ledger_batch_start_send(r->led, it->b.id, it->x.remote_name, ACTOR, &e);
        if (rc == CH_ERR_INVALID)
            return CH_OK; /* someone else moved it meanwhile */
        if (rc == CH_ERR_EXISTS) { /* another batch of the payer has that name */
            it->x.remote_name[0] = '\0';
            report(r, it, SEND_SKIPPED, 0, 0, e.msg);
            return CH_OK;
        }
        if (rc != CH_OK) {
            *err = e;
            return rc;
        }
        crash_point("after_sending");
    } else if (!it->x.remote_name[0]) {
        /* cannot happen through start_send; never guess a name to check */
        snprintf(e.msg, sizeof e.msg, "payer %s: batch %" PRId64 " is in sending without a remote name",
                 it->b.payer, it->b.id);
        report(r, it, SEND_HELD, attempts, 0, e.msg);
        return ledger_batch_send_note(r->led, it->b.id, e.msg, err);
    }

    for (;;) {
        ch_code tc_rc = CH_OK;
        if (check) {
            int64_t due = it->x.next_attempt_ms - now_ms();
            if (due > 0) {
                if (due > r->wait_left_ms) {
                    report(r, it, SEND_WAITING, attempts, it->x.next_attempt_ms, it->b.error);
                    return CH_OK;
                }
                sleep_ms(due);
                r->wait_left_ms -= due;
            }
            transport_delivery d = TRANSPORT_NOT_DELIVERED;
            ch_error_clear(&e);
            tc_rc = transport_check_delivered(r->t, path, it->x.remote_name, &d, &e);
            if (tc_rc == CH_OK && d == TRANSPORT_DELIVERED) {
                if ((rc = ledger_batch_sent(r->led, it->b.id, ACTOR, err)) != CH_OK)
                    return rc;
                report(r, it, SEND_FOUND, attempts, 0, "found delivered on the payer's side");
                return CH_OK;
            }
            if (tc_rc == CH_OK && d == TRANSPORT_DELIVERY_UNKNOWN) {
                char why[1200];
                snprintf(why, sizeof why, "held for an operator: %s", e.msg);
                if ((rc = ledger_batch_send_note(r->led, it->b.id, why, err)) != CH_OK)
                    return rc;
                report(r, it, SEND_HELD, attempts, 0, why);
                return CH_OK;
            }
        }
        if (tc_rc == CH_OK) {
            ch_error_clear(&e);
            tc_rc = transport_put(r->t, path, it->x.remote_name, &e);
            if (tc_rc == CH_OK) {
                crash_point("after_upload");
                if ((rc = ledger_batch_sent(r->led, it->b.id, ACTOR, err)) != CH_OK)
                    return rc;
                report(r, it, SEND_SENT, attempts, 0, NULL);
                return CH_OK;
            }
        }
        /* a failed attempt (the check or the upload) */
        attempts++;
        int retryable = transport_retryable(r->t);
        char why[1200];
        snprintf(why, sizeof why, "attempt %u of %u: %s", attempts, limit, e.msg);
        if (retryable && attempts < limit) {
            int64_t delay = transport_retry_delay(attempts, r->tc->retry_base_ms, r->tc->retry_max_ms,
                                                  next_rand(&r->rng));
            int64_t next = now_ms() + delay;
            if ((rc = ledger_batch_send_failed(r->led, it->b.id, attempts, next, why, err)) != CH_OK)
                return rc;
            LOG(LOG_WARN, "send.attempt", LOG_STR("payer", it->b.payer), LOG_INT("batch", it->b.id),
                LOG_INT("attempt", attempts), LOG_INT("retry_in_ms", delay), LOG_STR("why", e.msg));
            it->x.next_attempt_ms = next;
            snprintf(it->b.error, sizeof it->b.error, "%s", why);
            /* no budget at all: one attempt per batch in this run */
            if (delay > r->wait_left_ms || r->wait_left_ms <= 0) {
                report(r, it, SEND_RETRY, attempts, next, why);
                return CH_OK;
            }
            check = 1; /* the check before each retry: never deliver twice */
            continue;
        }
        if (!retryable && attempts < limit)
            snprintf(why, sizeof why, "%s (not retried: it will not fix itself)", e.msg);
        /* the attempt count and the reason, then failed: one transaction */
        if ((rc = ledger_begin(r->led, err)) != CH_OK)
            return rc;
        if ((rc = ledger_batch_send_failed(r->led, it->b.id, attempts, 0, why, err)) != CH_OK ||
            (rc = ledger_batch_send_give_up(r->led, it->b.id, ACTOR, why, err)) != CH_OK ||
            (rc = ledger_commit(r->led, err)) != CH_OK) {
            ledger_rollback(r->led);
            return rc;
        }
        report(r, it, SEND_FAILED, attempts, 0, why);
        if (!retryable && (tc_rc == CH_ERR_DENIED || tc_rc == CH_ERR_CONFIG)) {
            r->stop_payer = 1;
            snprintf(r->stop_why, sizeof r->stop_why, "not tried after batch %" PRId64 " was refused: %s",
                     it->b.id, e.msg);
        }
        return CH_OK;
    }
}

static ch_code send_payer(run *r, const char *payer, items *it, ch_error *err)
{
    r->rep->payers++;
    const payer_profile *p = config_profile(r->cfg, payer);
    r->tc = p ? p->transport : NULL;
    r->t = NULL;
    r->stop_payer = 0;
    ch_error e;
    ch_error_clear(&e);
    if (!p)
        ch_error_set(&e, CH_ERR_CONFIG, "payer %s: no profile loaded (is a practice enrolled with it?)", payer);
    else if (!r->tc)
        ch_error_set(&e, CH_ERR_CONFIG, "payer %s: the profile has no transport: section", payer);
    else if (!send_can_upload(r->tc))
        ch_error_set(&e, CH_ERR_CONFIG, "payer %s: the transport has no upload location", payer);
    else if (send_local_dirs(r->cfg, r->tc, &e) == CH_OK)
        transport_open(r->tc, &r->t, &e);
    if (!r->t) {
        for (size_t i = 0; i < it->n; i++)
            report(r, &it->v[i], SEND_SKIPPED, it->v[i].x.attempts, 0, e.msg);
        return CH_OK;
    }
    progress pg;
    char label[64];
    snprintf(label, sizeof label, "send %s", payer);
    progress_start(&pg, label, it->n);
    ch_code rc = CH_OK;
    for (size_t i = 0; i < it->n && rc == CH_OK; i++) {
        progress_update(&pg, i);
        if (r->stop_payer) {
            progress_end(&pg);
            report(r, &it->v[i], SEND_SKIPPED, it->v[i].x.attempts, 0, r->stop_why);
            continue;
        }
        rc = send_one(r, &it->v[i], err);
        progress_end(&pg);
    }
    progress_update(&pg, it->n);
    progress_end(&pg);
    transport_close(r->t);
    r->t = NULL;
    return rc;
}

ch_code send_run(const config *cfg, ledger *led, const send_opts *o, send_report *rep, ch_error *err)
{
    memset(rep, 0, sizeof *rep);
    ch_error_clear(err);
    run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.led = led;
    r.o = o;
    r.rep = rep;
    r.wait_left_ms = o->max_wait_ms < 0 ? 60000 : o->max_wait_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r.rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);

    items all = {0};
    ch_code rc = ledger_batches_to_send(led, o->payer, gather, &all, err);
    if (rc == CH_OK && all.rc != CH_OK)
        rc = ch_error_set(err, all.rc, "send: out of memory");
    /* payer by payer, in the order the batches came (sending first, oldest first) */
    for (size_t i = 0; i < all.n && rc == CH_OK; i++) {
        const char *payer = all.v[i].b.payer;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(all.v[k].b.payer, payer);
        if (seen)
            continue;
        items mine = {0};
        for (size_t k = i; k < all.n; k++)
            if (!strcmp(all.v[k].b.payer, payer) && gather(&mine, &all.v[k].b, &all.v[k].x))
                break;
        if (mine.rc != CH_OK)
            rc = ch_error_set(err, mine.rc, "send: out of memory");
        else
            rc = send_payer(&r, payer, &mine, err);
        free(mine.v);
    }
    free(all.v);
    return rc;
}
