/*
 * cmd_rejects.c - `clearinghouse rejects`: the operator's worklist of
 * rejected and failed claims and failed batches, each with its reason in
 * words (see cmd_ops.h for the options and scope all operator commands share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "cmd_ops.h"
#include "commands.h"
#include "json_out.h"
#include "operator.h"
#include "x12_writer.h"

/* The reason a claim is on the worklist, as words: its last_error, else the
 * why of the event that put it in its state. */
typedef struct reason_ctx {
    const char *state;
    char why[512];
} reason_ctx;

static int on_reason_event(void *vc, const ledger_event *e)
{
    reason_ctx *r = vc;
    if (!strcmp(e->to_state, r->state) && e->why[0])
        snprintf(r->why, sizeof r->why, "%s", e->why);
    return 0;
}

static void claim_reason(ledger *l, const ledger_claim *c, char *buf, size_t size)
{
    if (c->last_error[0]) {
        snprintf(buf, size, "%s", c->last_error);
        return;
    }
    reason_ctx r = {ledger_state_name(c->state), ""};
    ledger_claim_events(l, c->id, on_reason_event, &r, NULL);
    snprintf(buf, size, "%s", r.why[0] ? r.why : "(no reason recorded)");
}

/* --- rejects ------------------------------------------------------------------------ */

typedef struct rej_ctx {
    int json;
    json_out j;
    ledger *led;
    const ledger_scope *scope;
    uint64_t claims, batches;
} rej_ctx;

static int on_reject(void *vc, const ledger_claim *c)
{
    rej_ctx *r = vc;
    char reason[512], total[32];
    claim_reason(r->led, c, reason, sizeof reason);
    x12_cents_str(c->total_cents, total);
    int64_t batch = c->batch_id;
    if (!batch)
        ledger_claim_last_batch(r->led, c->id, &batch, NULL);
    r->claims++;
    if (r->json) {
        json_obj_begin(&r->j);
        json_kv_int(&r->j, "id", c->id);
        json_kv_str(&r->j, "pcn", c->pcn);
        json_kv_str(&r->j, "practice", c->practice);
        json_kv_str(&r->j, "payer", c->payer);
        json_kv_str(&r->j, "type", c->claim_type);
        json_kv_str(&r->j, "state", ledger_state_name(c->state));
        json_kv_cents(&r->j, "total", c->total_cents);
        if (batch)
            json_kv_int(&r->j, "batch", batch);
        else {
            json_key(&r->j, "batch");
            json_null(&r->j);
        }
        json_kv_str(&r->j, "updated_at", c->updated_at);
        json_kv_str(&r->j, "reason", reason);
        json_obj_end(&r->j);
        return 0;
    }
    char b[24] = "-";
    if (batch)
        snprintf(b, sizeof b, "%" PRId64, batch);
    printf("%-8" PRId64 " %-20s %-12s %-14s %-8s %11s %-6s %s\n", c->id, c->pcn, c->practice, c->payer,
           ledger_state_name(c->state), total, b, c->updated_at);
    printf("    reason: %s\n", reason);
    return 0;
}

static int on_failed_batch(void *vc, const ledger_batch *b)
{
    rej_ctx *r = vc;
    /* on the worklist while it holds claims to replay */
    ops_count_ctx n = {0};
    if (ledger_batch_problem_claims(r->led, r->scope, b->id, ops_on_count, &n, NULL) != CH_OK || !n.n)
        return 0;
    r->batches++;
    char rejection[1024] = "";
    if (!b->error[0])
        ledger_batch_rejection(r->led, b->id, rejection, sizeof rejection, NULL);
    const char *why = b->error[0] ? b->error : rejection[0] ? rejection : "(no reason recorded)";
    if (r->json) {
        json_obj_begin(&r->j);
        json_kv_int(&r->j, "id", b->id);
        json_kv_str(&r->j, "practice", b->practice);
        json_kv_str(&r->j, "payer", b->payer);
        json_kv_str(&r->j, "type", b->claim_type);
        json_kv_str(&r->j, "state", b->state);
        json_kv_uint(&r->j, "claims", b->claim_count);
        json_kv_uint(&r->j, "to_replay", n.n);
        json_kv_str(&r->j, "file", b->file);
        json_kv_str(&r->j, "updated_at", b->updated_at);
        json_kv_str(&r->j, "reason", why);
        json_obj_end(&r->j);
        return 0;
    }
    printf("%-8" PRId64 " %-12s %-14s %-4s %-10s %5u %7llu  %s\n", b->id, b->practice, b->payer, b->claim_type,
           b->state, b->claim_count, (unsigned long long)n.n, b->updated_at);
    printf("    reason: %s\n", why);
    return 0;
}

static void rejects_help(void)
{
    printf("usage: clearinghouse rejects [--config FILE] [--operator NAME] [--practice P] [--json]\n\n"
           "The worklist: rejected and failed claims and failed batches (set aside by\n"
           "validation, or rejected by a payer's 999, while they still hold claims to replay)\n"
           "of the practices the operator may see, each with the reason in words (the\n"
           "ledger's last error, the event that put it there, the 999's errors).  Fix the\n"
           "cause, then `clearinghouse replay`.\n\n"
           "  --config FILE    the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME  who is asking (default $" OPERATOR_ENV ", else the Unix user)\n"
           "  --practice P     only this practice (one the operator may see)\n"
           "  --json           {\"claims\": [...], \"batches\": [...]}\n"
           "  --help           this text\n\n"
           "Exit status: 0 ok (also when the list is empty), 2 usage, not permitted,\n"
           "configuration or ledger error.\n");
}

int cmd_rejects(int argc, char **argv)
{
    ops_args o;
    int rc = ops_parse("rejects", argc, argv, 0, &o, rejects_help);
    if (rc >= 0)
        return rc;
    app a;
    ledger_scope scope;
    if ((rc = ops_open("rejects", &o, &a, &scope)) != EXIT_OK)
        return rc;
    rej_ctx r;
    memset(&r, 0, sizeof r);
    r.json = o.json;
    r.led = a.led;
    r.scope = &scope;
    ch_error err;
    ledger_filter f;
    memset(&f, 0, sizeof f);
    f.practice = o.practice;
    f.scope = &scope;
    if (r.json) {
        json_init_file(&r.j, stdout);
        json_obj_begin(&r.j);
        json_kv_str(&r.j, "operator", scope.operator_name);
        json_key(&r.j, "claims");
        json_arr_begin(&r.j);
    } else {
        printf("%-8s %-20s %-12s %-14s %-8s %11s %-6s %s\n", "CLAIM", "PCN", "PRACTICE", "PAYER", "STATE", "TOTAL",
               "BATCH", "UPDATED");
    }
    f.state = LEDGER_REJECTED;
    ch_code code = ledger_claims_each(a.led, &f, on_reject, &r, &err);
    if (code == CH_OK) {
        f.state = LEDGER_FAILED;
        code = ledger_claims_each(a.led, &f, on_reject, &r, &err);
    }
    if (r.json) {
        json_arr_end(&r.j);
        json_key(&r.j, "batches");
        json_arr_begin(&r.j);
    } else {
        printf("\n%-8s %-12s %-14s %-4s %-10s %5s %7s  %s\n", "BATCH", "PRACTICE", "PAYER", "TYPE", "STATE", "CLAIMS",
               "REPLAY", "UPDATED");
    }
    if (code == CH_OK)
        code = ledger_batches_scoped(a.led, &scope, o.practice, 1, on_failed_batch, &r, &err);
    if (r.json) {
        json_arr_end(&r.j);
        json_obj_end(&r.j);
        putchar('\n');
    } else if (code == CH_OK) {
        printf("\n%llu claim%s and %llu batch%s to look at\n", (unsigned long long)r.claims, r.claims == 1 ? "" : "s",
               (unsigned long long)r.batches, r.batches == 1 ? "" : "es");
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse rejects: %s\n", err.msg);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_TROUBLE;
}
