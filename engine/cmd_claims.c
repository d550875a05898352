/*
 * cmd_claims.c - `clearinghouse claims`: where every claim stands.
 *
 * Lists claims from the ledger, filtered by practice, payer, state and
 * claim type, with the reason a failed claim is on the worklist, and counts
 * per state.  Reads only; safe while intake and batch run (WAL).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "commands.h"
#include "json_out.h"
#include "operator.h"
#include "x12_writer.h"

typedef struct out_ctx {
    int json, events;
    json_out j;
    ledger *led;
    uint64_t n;
} out_ctx;

static int on_event(void *vc, const ledger_event *e)
{
    out_ctx *c = vc;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "at", e->at);
        json_kv_str(&c->j, "actor", e->actor);
        json_kv_str(&c->j, "from", e->from_state);
        json_kv_str(&c->j, "to", e->to_state);
        json_kv_str(&c->j, "why", e->why);
        if (e->batch_id)
            json_kv_int(&c->j, "batch", e->batch_id);
        json_obj_end(&c->j);
    } else {
        printf("    %s  %-8s %-12s -> %-12s %s\n", e->at, e->actor, e->from_state[0] ? e->from_state : "-",
               e->to_state, e->why);
    }
    return 0;
}

static int on_claim(void *vc, const ledger_claim *cl)
{
    out_ctx *c = vc;
    char total[32];
    c->n++;
    x12_cents_str(cl->total_cents, total);
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_int(&c->j, "id", cl->id);
        json_kv_str(&c->j, "pcn", cl->pcn);
        json_kv_str(&c->j, "practice", cl->practice);
        json_kv_str(&c->j, "payer", cl->payer);
        json_kv_str(&c->j, "type", cl->claim_type);
        json_kv_str(&c->j, "encounter_id", cl->encounter_id);
        json_kv_uint(&c->j, "version", cl->version);
        json_kv_uint(&c->j, "frequency", (uint64_t)cl->frequency);
        json_kv_str(&c->j, "state", ledger_state_name(cl->state));
        json_kv_cents(&c->j, "total", cl->total_cents);
        json_kv_str(&c->j, "service_date", cl->service_date);
        if (cl->batch_id)
            json_kv_int(&c->j, "batch", cl->batch_id);
        else {
            json_key(&c->j, "batch");
            json_null(&c->j);
        }
        if (cl->replaces)
            json_kv_int(&c->j, "replaces", cl->replaces);
        json_kv_str(&c->j, "created_at", cl->created_at);
        json_kv_str(&c->j, "updated_at", cl->updated_at);
        json_kv_str(&c->j, "reason", cl->last_error);
        if (c->events) {
            json_key(&c->j, "events");
            json_arr_begin(&c->j);
            ledger_claim_events(c->led, cl->id, on_event, c, NULL);
            json_arr_end(&c->j);
        }
        json_obj_end(&c->j);
        return 0;
    }
    char batch[24] = "-";
    if (cl->batch_id)
        snprintf(batch, sizeof batch, "%" PRId64, cl->batch_id);
    printf("%-8" PRId64 " %-20s %-12s %-14s %-4s %-20.20s %3u %-12s %11s %-8s %-6s %s\n", cl->id, cl->pcn,
           cl->practice, cl->payer, cl->claim_type, cl->encounter_id, cl->version, ledger_state_name(cl->state), total,
           cl->service_date[0] ? cl->service_date : "-", batch, cl->updated_at);
    if (cl->state == LEDGER_FAILED && cl->last_error[0])
        printf("    reason: %s\n", cl->last_error);
    if (c->events)
        ledger_claim_events(c->led, cl->id, on_event, c, NULL);
    return 0;
}

static void help(void)
{
    printf("usage: clearinghouse claims [--config FILE] [--operator NAME] [--practice P] [--payer X]\n"
           "                            [--state S] [--type 837P|837I] [--pcn PCN] [--events] [--limit N]\n"
           "                            [--json]\n\n"
           "Lists claims in the ledger and where each one stands, oldest first, then the number\n"
           "of claims in each state.  A failed claim shows why it is on the practice's worklist.\n"
           "Only the practices the operator may see are read (see `operators:` in the\n"
           "configuration).\n\n"
           "  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --operator NAME who is asking (default $" OPERATOR_ENV ", else the Unix user)\n"
           "  --practice P   only this practice (one the operator may see)\n"
           "  --payer X      only this payer (profile name)\n"
           "  --state S      only this state: queued, batched, ready, sending, sent, acknowledged,\n"
           "                 accepted, rejected, paid, partial, denied, failed, void\n"
           "  --type T       only 837P or 837I claims\n"
           "  --pcn PCN      only the claim with this patient control number\n"
           "  --events       with each claim's history (who, what, when, why)\n"
           "  --limit N      at most N claims\n"
           "  --json         {\"claims\": [...], \"counts\": {state: n}} instead of a table\n"
           "  --help         this text\n\n"
           "Exit status: 0 ok, 2 usage, not permitted, configuration or ledger error.\n");
}

int cmd_claims(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"operator", required_argument, NULL, 'o'},
                                         {"practice", required_argument, NULL, 'p'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"state", required_argument, NULL, 's'},
                                         {"type", required_argument, NULL, 't'},
                                         {"pcn", required_argument, NULL, 'n'},
                                         {"events", no_argument, NULL, 'e'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *operator_name = NULL;
    ledger_filter f;
    memset(&f, 0, sizeof f);
    f.state = -1;
    out_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:p:y:s:t:n:el:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'o':
            operator_name = optarg;
            break;
        case 'p':
            f.practice = optarg;
            break;
        case 'y':
            f.payer = optarg;
            break;
        case 's': {
            ledger_state s;
            if (ledger_state_parse(optarg, &s) != CH_OK)
                return cli_usage_error("claims", "'%s' is not a claim state", optarg);
            f.state = (int)s;
            break;
        }
        case 't':
            if (strcmp(optarg, "837P") && strcmp(optarg, "837I"))
                return cli_usage_error("claims", "--type is 837P or 837I");
            f.claim_type = optarg;
            break;
        case 'n':
            f.pcn = optarg;
            break;
        case 'e':
            c.events = 1;
            break;
        case 'l': {
            char *end;
            long long n = strtoll(optarg, &end, 10);
            if (*end || n < 1)
                return cli_usage_error("claims", "--limit needs a positive number");
            f.limit = (size_t)n;
            break;
        }
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("claims", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("claims", "unexpected argument '%s'", argv[optind]);
    app a;
    int rc = app_open(&a, "claims", config_path);
    if (rc != EXIT_OK)
        return rc;
    ledger_scope scope;
    operator_scope(a.cfg, "claims", operator_name, &scope);
    if ((rc = operator_practice_check(a.cfg, "claims", &scope, f.practice)) != 0) {
        app_close(&a);
        return rc;
    }
    f.scope = &scope; /* the ledger reads only the operator's practices */
    c.led = a.led;
    ch_error err;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_key(&c.j, "claims");
        json_arr_begin(&c.j);
    } else {
        printf("%-8s %-20s %-12s %-14s %-4s %-20s %3s %-12s %11s %-8s %-6s %s\n", "ID", "PCN", "PRACTICE", "PAYER",
               "TYPE", "ENCOUNTER", "VER", "STATE", "TOTAL", "SERVICE", "BATCH", "UPDATED");
    }
    ch_code code = ledger_claims_each(a.led, &f, on_claim, &c, &err);
    uint64_t counts[LEDGER_STATE__COUNT];
    if (code == CH_OK)
        code = ledger_claims_count(a.led, &f, counts, &err);
    if (c.json) {
        json_arr_end(&c.j);
        json_key(&c.j, "counts");
        json_obj_begin(&c.j);
        for (int s = 0; code == CH_OK && s < LEDGER_STATE__COUNT; s++)
            if (counts[s])
                json_kv_uint(&c.j, ledger_state_name((ledger_state)s), counts[s]);
        json_obj_end(&c.j);
        json_obj_end(&c.j);
        putchar('\n');
    } else if (code == CH_OK) {
        uint64_t total = 0;
        for (int s = 0; s < LEDGER_STATE__COUNT; s++)
            total += counts[s];
        printf("%llu claim%s", (unsigned long long)total, total == 1 ? "" : "s");
        const char *sep = ": ";
        for (int s = 0; s < LEDGER_STATE__COUNT; s++)
            if (counts[s]) {
                printf("%s%llu %s", sep, (unsigned long long)counts[s], ledger_state_name((ledger_state)s));
                sep = ", ";
            }
        printf("\n");
    }
    if (code != CH_OK)
        fprintf(stderr, "clearinghouse claims: %s\n", err.msg);
    app_close(&a);
    return code == CH_OK ? EXIT_OK : EXIT_TROUBLE;
}
