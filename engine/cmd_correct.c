/*
 * cmd_correct.c - `clearinghouse correct` and `void`: a replacement (7) or
 * void (8) of a claim the payer has, built from its stored encounter (see
 * cmd_ops.h for the options and scope all operator commands share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "cmd_ops.h"
#include "commands.h"
#include "encounter.h"
#include "json_out.h"
#include "operator.h"

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
    if ((rc = ops_get_claim(cmd, &a, &scope, &o, &c)) != EXIT_OK) {
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
