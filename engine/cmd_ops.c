/*
 * cmd_ops.c - the operator's commands: `rejects`, `replay`, `correct`,
 * `void` and `status`.
 *
 * Each one runs as an operator (--operator, CH_OPERATOR or the Unix user,
 * see operator.h) and hands the operator's scope to the ledger, which never
 * reads a claim or batch of a practice outside it.  A --practice outside the
 * scope is refused ("not permitted", exit 2), and a claim or batch id
 * outside it reads as not found, the same as one that does not exist.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "commands.h"
#include "encounter.h"
#include "json_out.h"
#include "operator.h"
#include "x12_writer.h"

/* --- shared options --------------------------------------------------------------- */

typedef struct ops_args {
    const char *config, *operator_name, *practice;
    int64_t claim, batch;
    int json;
} ops_args;

static int parse_id(const char *cmd, const char *opt, const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!s[0] || *end || v < 1)
        return cli_usage_error(cmd, "%s needs a positive number", opt);
    *out = (int64_t)v;
    return 0;
}

/* Options: --config --operator --practice --json, and --claim / --batch when
 * ids is set.  Returns -1 to go on, else the exit status (help, usage). */
static int ops_parse(const char *cmd, int argc, char **argv, int ids, ops_args *a, void (*help)(void))
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"practice", required_argument, NULL, 'p'},
                                         {"claim", required_argument, NULL, 'C'},
                                         {"batch", required_argument, NULL, 'B'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:p:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case 'o':
            a->operator_name = optarg;
            break;
        case 'p':
            a->practice = optarg;
            break;
        case 'C':
        case 'B':
            if (!ids)
                return cli_usage_error(cmd, "unknown option");
            if (parse_id(cmd, ch == 'C' ? "--claim" : "--batch", optarg, ch == 'C' ? &a->claim : &a->batch))
                return EXIT_TROUBLE;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error(cmd, "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* app_open, the operator's scope and the --practice check. */
static int ops_open(const char *cmd, const ops_args *o, app *a, ledger_scope *scope)
{
    int rc = app_open(a, cmd, o->config);
    if (rc != EXIT_OK)
        return rc;
    operator_scope(a->cfg, cmd, o->operator_name, scope);
    if ((rc = operator_practice_check(a->cfg, cmd, scope, o->practice)) != 0) {
        app_close(a);
        return rc;
    }
    return EXIT_OK;
}

static int copy_claim(void *ctx, const ledger_claim *c)
{
    *(ledger_claim *)ctx = *c;
    ((ledger_claim *)ctx)->doc = NULL;
    ((ledger_claim *)ctx)->doc_len = 0;
    return 1;
}

/* The claim asked for, inside scope and --practice; prints why not. */
static int get_claim(const char *cmd, app *a, const ledger_scope *scope, const ops_args *o, ledger_claim *c)
{
    ch_error err;
    ch_code rc = ledger_claim_get(a->led, scope, o->claim, 0, copy_claim, c, &err);
    if (rc == CH_OK && o->practice && strcmp(c->practice, o->practice))
        rc = ch_error_set(&err, CH_ERR_NOTFOUND, "no claim %" PRId64 " of practice %s", o->claim, o->practice);
    if (rc != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        return EXIT_TROUBLE;
    }
    return EXIT_OK;
}

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

typedef struct count_ctx {
    uint64_t n;
} count_ctx;

static int on_count(void *vc, const ledger_claim *c)
{
    (void)c;
    ((count_ctx *)vc)->n++;
    return 0;
}

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
    count_ctx n = {0};
    if (ledger_batch_problem_claims(r->led, r->scope, b->id, on_count, &n, NULL) != CH_OK || !n.n)
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
        if ((rc = get_claim("replay", &a, &scope, &o, &c)) != EXIT_OK) {
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

/* --- correct / void ------------------------------------------------------------------- */

typedef struct doc_ctx {
    encounter *e;
    ch_code rc;
    ch_error *err;
} doc_ctx;

static int on_doc(void *vc, const ledger_claim *c)
{
    doc_ctx *d = vc;
    d->rc = c->doc ? encounter_unpack(d->e, c->doc, c->doc_len, d->err)
                   : ch_error_set(d->err, CH_ERR_NOTFOUND, "claim %" PRId64 " has no stored encounter", c->id);
    return 1;
}

static int went_out(ledger_state s)
{
    return s == LEDGER_SENT || s == LEDGER_ACKNOWLEDGED || s == LEDGER_ACCEPTED || s == LEDGER_PAID ||
           s == LEDGER_PARTIAL || s == LEDGER_DENIED;
}

static void amend_help(const char *cmd)
{
    int v = !strcmp(cmd, "void");
    printf("usage: clearinghouse %s --claim ID [--config FILE] [--operator NAME] [--practice P] [--json]\n\n",
           cmd);
    if (v)
        printf("Voids a claim the payer has: a new claim with frequency 8 (void/cancel of prior\n"
               "claim) built from the claim's stored encounter, with REF*F8 = the payer's claim\n"
               "number, queued for the next batch.\n");
    else
        printf("Replaces a claim the payer has: a new claim with frequency 7 (replacement of\n"
               "prior claim) built from the claim's stored encounter, with REF*F8 = the payer's\n"
               "claim number, queued for the next batch.  To change the encounter itself, drop the\n"
               "corrected encounter with frequency: replacement and payer_claim_number into\n"
               "inbound/ instead.\n");
    printf("The new claim records the one it replaces; the original goes to void when the\n"
           "ledger allows it from its state (paid, partial, denied), else its history notes\n"
           "the %s.  Refused when the payer has not given the claim a number yet.\n\n"
           "  --claim ID       the claim\n"
           "  --config FILE    the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME  who is asking (default $" OPERATOR_ENV ", else the Unix user)\n"
           "  --practice P     the claim must be of this practice\n"
           "  --json           the new claim as a JSON object\n"
           "  --help           this text\n\n"
           "Exit status: 0 the new claim is queued (or was already), 2 usage, not found, not\n"
           "permitted, no payer claim number, a claim that cannot be %s, ledger error.\n",
           v ? "void" : "replacement", v ? "voided" : "replaced");
}

static void correct_help(void)
{
    amend_help("correct");
}

static void void_help(void)
{
    amend_help("void");
}

static int amend(const char *cmd, int argc, char **argv, encounter_frequency freq)
{
    ops_args o;
    int rc = ops_parse(cmd, argc, argv, 1, &o, freq == ENC_VOID ? void_help : correct_help);
    if (rc >= 0)
        return rc;
    if (!o.claim || o.batch)
        return cli_usage_error(cmd, "give --claim ID");
    app a;
    ledger_scope scope;
    if ((rc = ops_open(cmd, &o, &a, &scope)) != EXIT_OK)
        return rc;
    ledger_claim c;
    if ((rc = get_claim(cmd, &a, &scope, &o, &c)) != EXIT_OK) {
        app_close(&a);
        return rc;
    }
    const char *what = freq == ENC_VOID ? "void" : "replacement";
    ch_error err;
    char number[64];
    int64_t by = 0;
    if (ledger_claim_payer_number(a.led, c.id, number, sizeof number, &err) != CH_OK ||
        ledger_claim_replaced_by(a.led, c.id, &by, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        app_close(&a);
        return EXIT_TROUBLE;
    }
    const char *refuse = NULL;
    char msg[512];
    if (c.state == LEDGER_VOID || c.frequency == ENC_VOID) {
        snprintf(msg, sizeof msg, "claim %" PRId64 " is %s: there is nothing left to %s", c.id,
                 c.frequency == ENC_VOID ? "a void" : "void already", freq == ENC_VOID ? "void" : "replace");
        refuse = msg;
    } else if (by) {
        snprintf(msg, sizeof msg, "claim %" PRId64 " was replaced by claim %" PRId64 "; %s claim %" PRId64 " instead",
                 c.id, by, cmd, by);
        refuse = msg;
    } else if (!number[0]) {
        snprintf(msg, sizeof msg,
                 "claim %" PRId64 " (%s) has no payer claim number yet: a %s names the payer's claim number "
                 "(REF*F8), which the payer sends when it accepts the claim (277CA); %s",
                 c.id, c.pcn, what,
                 c.state == LEDGER_REJECTED || c.state == LEDGER_FAILED
                     ? "this claim never reached the payer: fix it and `clearinghouse replay` it"
                     : "wait for the payer's acknowledgement");
        refuse = msg;
    } else if (!went_out(c.state)) {
        snprintf(msg, sizeof msg, "claim %" PRId64 " is %s: only a claim the payer has can get a %s", c.id,
                 ledger_state_name(c.state), what);
        refuse = msg;
    }
    const config_practice *pr = config_practice_find(a.cfg, c.practice);
    if (!refuse && !pr) {
        snprintf(msg, sizeof msg, "practice %s of claim %" PRId64 " is no longer configured", c.practice, c.id);
        refuse = msg;
    }
    if (refuse) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, refuse);
        app_close(&a);
        return EXIT_TROUBLE;
    }

    /* the stored encounter, as a replacement or void of the payer's claim */
    encounter *e = calloc(1, sizeof *e);
    if (!e) {
        fprintf(stderr, "clearinghouse %s: out of memory\n", cmd);
        app_close(&a);
        return EXIT_TROUBLE;
    }
    doc_ctx d = {e, CH_OK, &err};
    ch_code code = ledger_claim_get(a.led, &scope, c.id, 1, on_doc, &d, &err);
    if (code == CH_OK)
        code = d.rc;
    char *packed = NULL;
    size_t plen = 0;
    char hash[65];
    if (code == CH_OK) {
        e->frequency = freq;
        snprintf(e->payer_claim_number, sizeof e->payer_claim_number, "%s", number);
        if (e->type == ENC_INSTITUTIONAL && strlen(e->type_of_bill) == 4)
            e->type_of_bill[3] = (char)('0' + (int)freq);
        code = encounter_pack(e, &packed, &plen, &err);
    }
    ledger_intake_result res;
    memset(&res, 0, sizeof res);
    if (code == CH_OK) {
        encounter_hash(packed, plen, hash);
        char source[160];
        snprintf(source, sizeof source, "`%s --claim %" PRId64 "` by operator %s", cmd, c.id,
                 operator_actor(&scope));
        ledger_submission s = {
            .practice = c.practice,
            .payer = c.payer,
            .claim_type = c.claim_type,
            .encounter_id = c.encounter_id,
            .content_hash = hash,
            .frequency = (int)freq,
            .total_cents = c.total_cents,
            .service_date = c.service_date,
            .doc = packed,
            .doc_len = plen,
            .claim_prefix = pr->claim_prefix,
            .source = source,
            .actor = operator_actor(&scope),
        };
        if ((code = ledger_begin(a.led, &err)) == CH_OK) {
            code = ledger_claim_submit(a.led, &s, &res, &err);
            if (code == CH_OK && res.outcome == LEDGER_REPLACEMENT) {
                char why[256];
                snprintf(why, sizeof why, "%s by claim %s (%" PRId64 ", frequency %d) by operator %s",
                         freq == ENC_VOID ? "voided" : "replaced", res.pcn, res.claim_id, (int)freq,
                         operator_actor(&scope));
                /* settled: void now; accepted: the payer may still pay it, and a
                 * payment is posted only to a claim that is not void */
                if (c.state == LEDGER_PAID || c.state == LEDGER_PARTIAL || c.state == LEDGER_DENIED)
                    code = ledger_claim_move(a.led, c.id, LEDGER_VOID, -1, operator_actor(&scope), why, &err);
                else {
                    char note[400];
                    snprintf(note, sizeof note, "%s; stays %s until the payer settles it", why,
                             ledger_state_name(c.state));
                    code = ledger_claim_note(a.led, c.id, operator_actor(&scope), note, &err);
                }
            } else if (code == CH_OK && res.outcome != LEDGER_DUPLICATE) {
                code = ch_error_set(&err, CH_ERR_INTERNAL,
                                    "claim %" PRId64 ": the ledger did not take the %s as a new claim (%s)", c.id,
                                    what, res.why[0] ? res.why : "unexpected outcome");
            }
            code = code == CH_OK ? ledger_commit(a.led, &err) : (ledger_rollback(a.led), code);
        }
    }
    if (code == CH_OK) {
        int dup = res.outcome == LEDGER_DUPLICATE;
        if (o.json) {
            json_out j;
            json_init_file(&j, stdout);
            json_obj_begin(&j);
            json_kv_int(&j, "claim", res.claim_id);
            json_kv_str(&j, "pcn", res.pcn);
            json_kv_uint(&j, "frequency", (uint64_t)freq);
            json_kv_int(&j, "replaces", c.id);
            json_kv_str(&j, "payer_claim_number", number);
            json_kv_bool(&j, "already", dup);
            json_obj_end(&j);
            putchar('\n');
        } else if (dup) {
            printf("claim %" PRId64 ": this %s was made already: claim %" PRId64 " (%s)\n", c.id, what,
                   res.claim_id, res.pcn);
        } else {
            printf("claim %" PRId64 " (%s): %s claim %" PRId64 " (%s, frequency %d, REF*F8 %s) queued for the next "
                   "batch\n",
                   c.id, c.pcn, what, res.claim_id, res.pcn, (int)freq, number);
        }
    } else {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
    }
    free(packed);
    encounter_clear(e);
    free(e);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_TROUBLE;
}

int cmd_correct(int argc, char **argv)
{
    return amend("correct", argc, argv, ENC_REPLACEMENT);
}

int cmd_void(int argc, char **argv)
{
    return amend("void", argc, argv, ENC_VOID);
}

/* --- status ---------------------------------------------------------------------------- */

typedef struct st_ctx {
    int json;
    json_out j;
    ledger *led;
    const ledger_scope *scope;
    char practice[32], payer[32];
    int open;                  /* a practice/payer row is being written */
    uint64_t total;
    uint64_t waiting[3];       /* ready, sending, failed */
    uint64_t exchanges;
} st_ctx;

static void st_close_row(st_ctx *s)
{
    if (!s->open)
        return;
    if (s->json) {
        json_obj_end(&s->j); /* counts */
        json_obj_end(&s->j);
    } else {
        printf("\n");
    }
    s->open = 0;
}

static int on_summary(void *vc, const ledger_summary_row *r)
{
    st_ctx *s = vc;
    if (!s->open || strcmp(s->practice, r->practice) || strcmp(s->payer, r->payer)) {
        st_close_row(s);
        snprintf(s->practice, sizeof s->practice, "%s", r->practice);
        snprintf(s->payer, sizeof s->payer, "%s", r->payer);
        s->open = 1;
        if (s->json) {
            json_obj_begin(&s->j);
            json_kv_str(&s->j, "practice", r->practice);
            json_kv_str(&s->j, "payer", r->payer);
            json_key(&s->j, "counts");
            json_obj_begin(&s->j);
        } else {
            printf("  %-12s %-14s", r->practice, r->payer);
        }
    }
    s->total += r->count;
    if (s->json)
        json_kv_uint(&s->j, ledger_state_name(r->state), r->count);
    else
        printf(" %s %llu", ledger_state_name(r->state), (unsigned long long)r->count);
    return 0;
}

static int on_waiting(void *vc, const ledger_batch *b)
{
    st_ctx *s = vc;
    int k;
    if (!strcmp(b->state, "ready"))
        k = 0;
    else if (!strcmp(b->state, "sending"))
        k = 1;
    else if (!strcmp(b->state, "discarded") || (strcmp(b->state, "sent") && b->error[0])) {
        /* a failed batch waits while it still holds claims to replay */
        count_ctx n = {0};
        ledger_batch_problem_claims(s->led, s->scope, b->id, on_count, &n, NULL);
        if (!n.n)
            return 0;
        k = 2;
    } else {
        return 0;
    }
    s->waiting[k]++;
    static const char *const names[3] = {"ready", "sending", "failed"};
    if (s->json) {
        json_obj_begin(&s->j);
        json_kv_int(&s->j, "id", b->id);
        json_kv_str(&s->j, "practice", b->practice);
        json_kv_str(&s->j, "payer", b->payer);
        json_kv_str(&s->j, "type", b->claim_type);
        json_kv_str(&s->j, "state", names[k]);
        json_kv_uint(&s->j, "claims", b->claim_count);
        json_kv_str(&s->j, "updated_at", b->updated_at);
        if (k == 2)
            json_kv_str(&s->j, "reason", b->error);
        json_obj_end(&s->j);
    } else {
        printf("  %-6" PRId64 " %-12s %-14s %-4s %-8s %5u claim%s  %s%s%s\n", b->id, b->practice, b->payer,
               b->claim_type, names[k], b->claim_count, b->claim_count == 1 ? " " : "s", b->updated_at,
               k == 2 ? "  " : "", k == 2 ? b->error : "");
    }
    return 0;
}

static int on_exchange(void *vc, const ledger_exchange *x)
{
    st_ctx *s = vc;
    int sent = !strcmp(x->what, "sent");
    s->exchanges++;
    if (s->json) {
        json_obj_begin(&s->j);
        json_kv_str(&s->j, "practice", x->practice);
        json_kv_str(&s->j, "payer", x->payer);
        json_kv_str(&s->j, "at", x->at);
        json_kv_str(&s->j, "what", sent ? "sent" : "batch updated");
        json_kv_str(&s->j, "batch_state", x->what);
        json_kv_int(&s->j, "batch", x->batch_id);
        json_obj_end(&s->j);
    } else {
        printf("  %-12s %-14s %s  %s batch %" PRId64 "%s%s%s\n", x->practice, x->payer, x->at,
               sent ? "sent" : "nothing sent yet; latest", x->batch_id, sent ? "" : " (", sent ? "" : x->what,
               sent ? "" : ")");
    }
    return 0;
}

static void status_help(void)
{
    printf("usage: clearinghouse status [--config FILE] [--operator NAME] [--practice P] [--json]\n\n"
           "One screen for the practices the operator may see: claims by state per practice\n"
           "and payer, batches waiting (ready, sending, failed with claims still to replay),\n"
           "the last exchange with each payer (the latest sent batch, else the latest batch),\n"
           "and the money posted today (\"not available\" until reconciliation posts payments\n"
           "into this ledger).\n\n"
           "  --config FILE    the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME  who is asking (default $" OPERATOR_ENV ", else the Unix user)\n"
           "  --practice P     only this practice (one the operator may see)\n"
           "  --json           the same as one JSON object\n"
           "  --help           this text\n\n"
           "Exit status: 0 ok, 2 usage, not permitted, configuration or ledger error.\n");
}

static void scope_words(const ledger_scope *s, const char *practice, char *buf, size_t size)
{
    size_t n = 0;
    if (practice)
        snprintf(buf, size, "%s", practice);
    else if (s->all)
        snprintf(buf, size, "all practices");
    else if (!s->n)
        snprintf(buf, size, "no practices");
    else {
        buf[0] = '\0';
        for (unsigned i = 0; i < s->n && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", s->practices[i]);
    }
}

int cmd_status(int argc, char **argv)
{
    ops_args o;
    int rc = ops_parse("status", argc, argv, 0, &o, status_help);
    if (rc >= 0)
        return rc;
    app a;
    ledger_scope scope;
    if ((rc = ops_open("status", &o, &a, &scope)) != EXIT_OK)
        return rc;
    st_ctx s;
    memset(&s, 0, sizeof s);
    s.json = o.json;
    s.led = a.led;
    s.scope = &scope;
    ch_error err;
    char words[LEDGER_SCOPE_MAX * 34];
    scope_words(&scope, o.practice, words, sizeof words);
    if (s.json) {
        json_init_file(&s.j, stdout);
        json_obj_begin(&s.j);
        json_kv_str(&s.j, "operator", scope.operator_name);
        json_key(&s.j, "practices");
        json_arr_begin(&s.j);
        if (o.practice)
            json_str(&s.j, o.practice);
        else
            for (size_t i = 0; i < a.cfg->npractices; i++)
                if (ledger_scope_allows(&scope, a.cfg->practices[i].id))
                    json_str(&s.j, a.cfg->practices[i].id);
        json_arr_end(&s.j);
        json_key(&s.j, "claims");
        json_arr_begin(&s.j);
    } else {
        printf("operator %s: %s\n\nclaims by practice and payer:\n", scope.operator_name, words);
    }
    ch_code code = ledger_claims_summary(a.led, &scope, o.practice, on_summary, &s, &err);
    st_close_row(&s);
    if (s.json) {
        json_arr_end(&s.j);
        json_kv_uint(&s.j, "claims_total", s.total);
        json_key(&s.j, "batches_waiting");
        json_arr_begin(&s.j);
    } else {
        if (!s.total)
            printf("  (none)\n");
        printf("\nbatches waiting:\n");
    }
    if (code == CH_OK)
        code = ledger_batches_scoped(a.led, &scope, o.practice, 0, on_waiting, &s, &err);
    if (s.json) {
        json_arr_end(&s.j);
        json_key(&s.j, "waiting");
        json_obj_begin(&s.j);
        json_kv_uint(&s.j, "ready", s.waiting[0]);
        json_kv_uint(&s.j, "sending", s.waiting[1]);
        json_kv_uint(&s.j, "failed", s.waiting[2]);
        json_obj_end(&s.j);
        json_key(&s.j, "last_exchange");
        json_arr_begin(&s.j);
    } else {
        printf("  %llu ready, %llu sending, %llu failed\n\nlast exchange with each payer:\n",
               (unsigned long long)s.waiting[0], (unsigned long long)s.waiting[1], (unsigned long long)s.waiting[2]);
    }
    if (code == CH_OK)
        code = ledger_last_exchanges(a.led, &scope, o.practice, on_exchange, &s, &err);
    if (!s.json && code == CH_OK && !s.exchanges)
        printf("  (none)\n");
    int64_t cents = 0;
    int available = 0;
    if (code == CH_OK)
        code = ledger_money_posted_today(a.led, &scope, o.practice, &cents, &available, &err);
    char money[32];
    x12_cents_str(cents, money);
    if (s.json) {
        json_arr_end(&s.j);
        json_key(&s.j, "posted_today");
        if (available)
            json_cents(&s.j, cents);
        else
            json_null(&s.j);
        json_kv_bool(&s.j, "posted_today_available", available);
        json_obj_end(&s.j);
        putchar('\n');
    } else if (code == CH_OK) {
        printf("\nmoney posted today: %s\n", available ? money : "not available (no payments are posted in this ledger)");
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse status: %s\n", err.msg);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_TROUBLE;
}
