/*
 * cmd_payer_answer.c - `clearinghouse payer-answer`: play a payer over a
 * directory of 837 files, with the payer profile's `simulator:` rules (the
 * demo payer's answering side, demo_payer.h), to try a payer profile and the
 * engine's exchange with it end to end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "demo_payer.h"
#include "json_out.h"
#include "log.h"
#include "x12_writer.h"

typedef struct pa_ctx {
    int json;
    json_out j;
    unsigned answered, failed;
} pa_ctx;

static void on_file(void *vc, const demo_payer_file *f)
{
    pa_ctx *c = vc;
    const sim_result *s = f->sim;
    char paid[32];
    x12_cents_str(s ? s->paid_cents : 0, paid);
    if (f->rc == CH_OK)
        c->answered++;
    else
        c->failed++;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "file", f->name);
        json_kv_str(&c->j, "status", f->rc == CH_OK ? "answered" : "failed");
        if (f->rc != CH_OK) {
            json_kv_str(&c->j, "error", f->err->msg);
        } else {
            json_kv_bool(&c->j, "accepted_999", f->accepted_999);
            json_kv_uint(&c->j, "claims", s ? s->claims : 0);
            json_kv_uint(&c->j, "accepted", s ? s->accepted : 0);
            json_kv_uint(&c->j, "rejected", s ? s->rejected : 0);
            json_kv_uint(&c->j, "paid", s ? s->paid : 0);
            json_kv_uint(&c->j, "partial", s ? s->partial : 0);
            json_kv_uint(&c->j, "denied", s ? s->denied : 0);
            json_kv_uint(&c->j, "reversals", s ? s->reversals : 0);
            json_kv_cents(&c->j, "paid_total", s ? s->paid_cents : 0);
            json_kv_str(&c->j, "277ca", s ? s->ack_277 : "");
            json_kv_str(&c->j, "835", s ? s->remit_835 : "");
        }
        json_obj_end(&c->j);
        return;
    }
    if (f->rc != CH_OK)
        printf("failed   %s: %s\n", f->name, f->err->msg);
    else if (!s)
        printf("answered %s: 999 rejected (no 277CA or 835)\n", f->name);
    else
        printf("answered %s: 999 accepted; 277CA %u claim%s (%u accepted, %u rejected); 835 %u paid, %u partial, "
               "%u denied, %u reversal%s, %s paid\n",
               f->name, s->claims, s->claims == 1 ? "" : "s", s->accepted, s->rejected, s->paid, s->partial,
               s->denied, s->reversals, s->reversals == 1 ? "" : "s", paid);
    fflush(stdout);
}

static void help(void)
{
    printf("usage: clearinghouse payer-answer --payer X --in DIR --out DIR [--config FILE]\n"
           "                                  [--date CCYYMMDD] [--json]\n\n"
           "Plays payer X for trying its profile and the exchange with it: answers every 837\n"
           "file in DIR as the profile's `simulator:` section says, writing into OUT what a\n"
           "payer sends back, then moves the file to DIR/answered/:\n"
           "  999    from the engine's own validator, also rejecting a transaction set that\n"
           "         bills a procedure listed in `reject_999:` (IK403 7)\n"
           "  277CA  each claim accepted with a payer claim number (\"P\" + its CLM01), or\n"
           "         rejected when it bills a procedure listed in `reject:`\n"
           "  835    lines paid at paid_percent of the charge less patient_percent,\n"
           "         lines billing a `deny:` procedure denied; a replacement (frequency 7)\n"
           "         or void (8) first takes back the payment of the claim its REF*F8 names\n"
           "The payer's adjudications are kept in DIR/answered/adjudications.tsv for that.\n"
           "Files whose name starts with '.' are still being written and are left alone.\n"
           "A profile without `simulator:` is answered with its defaults (80%% paid, 20%% of\n"
           "that owed by the patient, no codes refused).  Not for production use.\n\n"
           "  --payer X        the payer profile (payer-profiles/X.yaml)\n"
           "  --in DIR         the 837 files received (e.g. the upload directory of a `dir:`\n"
           "                   or test SFTP transport)\n"
           "  --out DIR        where the answers go (created when missing), e.g. the\n"
           "                   profile's response directory\n"
           "  --config FILE    the configuration (default " CONFIG_DEFAULT_PATH ")\n"
           "  --date CCYYMMDD  the date of the answers (default today, UTC)\n"
           "  --json           each file and the totals as one JSON object\n"
           "  --help           this text\n\n"
           "Exit status: 0 every file answered (also when there was none), 1 some file\n"
           "could not be answered (it stays in DIR), 2 usage, configuration or I/O error.\n");
}

static int is_date(const char *s)
{
    if (strlen(s) != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int cmd_payer_answer(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"payer", required_argument, NULL, 'y'},
                                         {"in", required_argument, NULL, 'i'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"date", required_argument, NULL, 'd'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config_path = NULL, *payer = NULL, *in = NULL, *out = NULL, *date = NULL;
    pa_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:y:i:o:d:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'y':
            payer = optarg;
            break;
        case 'i':
            in = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'd':
            if (!is_date(optarg))
                return cli_usage_error("payer-answer", "--date takes CCYYMMDD, e.g. 20261123");
            date = optarg;
            break;
        case 'j':
            c.json = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage_error("payer-answer", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("payer-answer", "unexpected argument '%s'", argv[optind]);
    if (!payer || !in || !out)
        return cli_usage_error("payer-answer", "give --payer X, --in DIR and --out DIR");
    ch_error err;
    config *cfg = NULL;
    if (config_load(&cfg, config_path ? config_path : CONFIG_DEFAULT_PATH, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse payer-answer: %s\n", err.msg);
        return EXIT_TROUBLE;
    }
    const payer_profile *p = config_profile(cfg, payer);
    if (!p) {
        config_free(cfg);
        return cli_usage_error("payer-answer", "payer '%s' is not configured", payer);
    }
    if (log_open(cfg->log_file, (log_level)(LOG_ERROR - (int)cfg->log_level), &err) != CH_OK) {
        fprintf(stderr, "clearinghouse payer-answer: %s\n", err.msg);
        config_free(cfg);
        return EXIT_TROUBLE;
    }
    sim_rules rules = p->sim; /* the profile's, or the defaults without `simulator:` */
    if (date)
        snprintf(rules.date, sizeof rules.date, "%s", date);
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_obj_begin(&c.j);
        json_kv_str(&c.j, "payer", payer);
        json_key(&c.j, "files");
        json_arr_begin(&c.j);
    }
    unsigned answered = 0;
    ch_code rc = demo_payer_answer_each(in, out, &rules, on_file, &c, &answered, &err);
    /* an error no file reported: the directories themselves */
    int trouble = rc != CH_OK && !c.failed;
    if (c.json) {
        json_arr_end(&c.j);
        json_kv_uint(&c.j, "answered", c.answered);
        json_kv_uint(&c.j, "failed", c.failed);
        json_kv_str(&c.j, "error", trouble ? err.msg : "");
        json_obj_end(&c.j);
        putchar('\n');
    } else if (!trouble) {
        printf("%u file%s answered into %s%s\n", c.answered, c.answered == 1 ? "" : "s", out,
               c.failed ? "; some could not be answered" : "");
    }
    if (trouble)
        fprintf(stderr, "clearinghouse payer-answer: %s\n", err.msg);
    log_close();
    config_free(cfg);
    return trouble ? EXIT_TROUBLE : c.failed ? EXIT_PROBLEMS : EXIT_OK;
}
