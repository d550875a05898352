/*
 * cmd_status.c - `clearinghouse status`: one screen of claims by state,
 * batches waiting, the last exchange with each payer and the money posted
 * today (see cmd_ops.h for the options and scope all operator commands
 * share).
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
        ops_count_ctx n = {0};
        ledger_batch_problem_claims(s->led, s->scope, b->id, ops_on_count, &n, NULL);
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
