/*
 * cmd_replay.c - `clearinghouse replay`: rejected or failed claims back to
 * queued, one claim or every one of a batch (see cmd_ops.h for the options
 * and scope all operator commands share).
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

/* --- replay ------------------------------------------------------------------------- */

typedef struct replay_ctx {
    ledger *led;
    const ledger_scope *scope;
    int json;
    json_out j;
    uint64_t moved;
    ch_code rc;
    ch_error *err;
} replay_ctx;

static ch_code replay_one(replay_ctx *r, const ledger_claim *c)
{
    int64_t batch = 0;
    ch_code rc = ledger_claim_last_batch(r->led, c->id, &batch, r->err);
    if (rc != CH_OK)
        return rc;
    char why[256];
    if (batch)
        snprintf(why, sizeof why, "replay of claim %" PRId64 " from batch %" PRId64 " by operator %s", c->id, batch,
                 operator_actor(r->scope));
    else
        snprintf(why, sizeof why, "replay of claim %" PRId64 " (never batched) by operator %s", c->id,
                 operator_actor(r->scope));
    rc = ledger_claim_move(r->led, c->id, LEDGER_QUEUED, 0, operator_actor(r->scope), why, r->err);
    if (rc != CH_OK)
        return rc;
    r->moved++;
    if (r->json) {
        json_obj_begin(&r->j);
        json_kv_int(&r->j, "id", c->id);
        json_kv_str(&r->j, "pcn", c->pcn);
        json_kv_str(&r->j, "practice", c->practice);
        json_kv_str(&r->j, "from", ledger_state_name(c->state));
        if (batch)
            json_kv_int(&r->j, "batch", batch);
        json_kv_str(&r->j, "why", why);
        json_obj_end(&r->j);
    } else {
        printf("claim %" PRId64 " (%s, %s): %s -> queued: %s\n", c->id, c->pcn, c->practice,
               ledger_state_name(c->state), why);
    }
    return CH_OK;
}

static int on_replay_claim(void *vc, const ledger_claim *c)
{
    replay_ctx *r = vc;
    r->rc = replay_one(r, c);
    return r->rc != CH_OK;
}

static void replay_help(void)
{
    printf("usage: clearinghouse replay (--claim ID | --batch ID) [--config FILE] [--operator NAME]\n"
           "                            [--practice P] [--json]\n\n"
           "Sends rejected or failed claims again after the cause was fixed: each goes back to\n"
           "queued, so the next `clearinghouse batch` puts it in a new file with new control\n"
           "numbers.  Its history records the replay (\"replay of claim N from batch M by\n"
           "operator X\").  A corrected encounter dropped into inbound/ again already revises\n"
           "and re-queues its claim at intake; replay is for the claims whose fix was\n"
           "elsewhere (enrollment, payer profile, the payer's side).\n\n"
           "  --claim ID       this claim (rejected or failed)\n"
           "  --batch ID       every rejected or failed claim of this batch\n"
           "  --config FILE    the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME  who is replaying (default $" OPERATOR_ENV ", else the Unix user)\n"
           "  --practice P     the claim or batch must be of this practice\n"
           "  --json           {\"replayed\": [...]}\n"
           "  --help           this text\n\n"
           "Exit status: 0 replayed (or nothing to replay in the batch), 2 usage, not found,\n"
           "not permitted, a claim that is not rejected or failed, configuration or ledger error.\n");
}

int cmd_replay(int argc, char **argv)
{
    ops_args o;
    int rc = ops_parse("replay", argc, argv, 1, &o, replay_help);
    if (rc >= 0)
        return rc;
    if (!o.claim == !o.batch)
        return cli_usage_error("replay", "give --claim ID or --batch ID");
    app a;
    ledger_scope scope;
    if ((rc = ops_open("replay", &o, &a, &scope)) != EXIT_OK)
        return rc;
    ch_error err;
    replay_ctx r;
    memset(&r, 0, sizeof r);
    r.led = a.led;
    r.scope = &scope;
    r.json = o.json;
    r.err = &err;
    ch_code code = CH_OK;
    if (o.claim) {
        ledger_claim c;
        if ((rc = ops_get_claim("replay", &a, &scope, &o, &c)) != EXIT_OK) {
            app_close(&a);
            return rc;
        }
        if (c.state == LEDGER_QUEUED) {
            printf("claim %" PRId64 " (%s) is queued already: the next batch sends it\n", c.id, c.pcn);
            app_close(&a);
            return EXIT_OK;
        }
        if (c.state != LEDGER_REJECTED && c.state != LEDGER_FAILED) {
            fprintf(stderr,
                    "clearinghouse replay: claim %" PRId64 " is %s: only rejected or failed claims are replayed"
                    "%s\n",
                    c.id, ledger_state_name(c.state),
                    c.state == LEDGER_ACCEPTED || c.state == LEDGER_PAID || c.state == LEDGER_PARTIAL ||
                            c.state == LEDGER_DENIED
                        ? " (use `clearinghouse correct` or `void` for a claim the payer has)"
                        : "");
            app_close(&a);
            return EXIT_TROUBLE;
        }
        if (r.json) {
            json_init_file(&r.j, stdout);
            json_obj_begin(&r.j);
            json_key(&r.j, "replayed");
            json_arr_begin(&r.j);
        }
        if ((code = ledger_begin(a.led, &err)) == CH_OK) {
            code = replay_one(&r, &c);
            code = code == CH_OK ? ledger_commit(a.led, &err) : (ledger_rollback(a.led), code);
        }
    } else {
        ledger_batch b;
        code = ledger_batch_get_scoped(a.led, &scope, o.batch, &b, &err);
        if (code == CH_OK && o.practice && strcmp(b.practice, o.practice))
            code = ch_error_set(&err, CH_ERR_NOTFOUND, "no batch %" PRId64 " of practice %s", o.batch, o.practice);
        if (code != CH_OK) {
            fprintf(stderr, "clearinghouse replay: %s\n", err.msg);
            app_close(&a);
            return EXIT_TROUBLE;
        }
        if (r.json) {
            json_init_file(&r.j, stdout);
            json_obj_begin(&r.j);
            json_kv_int(&r.j, "batch", b.id);
            json_key(&r.j, "replayed");
            json_arr_begin(&r.j);
        }
        if ((code = ledger_begin(a.led, &err)) == CH_OK) {
            code = ledger_batch_problem_claims(a.led, &scope, b.id, on_replay_claim, &r, &err);
            if (code == CH_OK)
                code = r.rc;
            code = code == CH_OK ? ledger_commit(a.led, &err) : (ledger_rollback(a.led), code);
        }
        if (code == CH_OK && !r.json)
            printf("batch %" PRId64 ": %llu claim%s replayed\n", b.id, (unsigned long long)r.moved,
                   r.moved == 1 ? "" : "s");
    }
    if (r.json) {
        json_arr_end(&r.j);
        json_kv_str(&r.j, "error", code == CH_OK ? "" : err.msg);
        json_obj_end(&r.j);
        putchar('\n');
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse replay: %s\n", err.msg);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_TROUBLE;
}
