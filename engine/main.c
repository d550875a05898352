/*
 * main.c - `clearinghouse <command> [options]`: finds the command and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

#ifndef CH_VERSION
#define CH_VERSION "0.1.0"
#endif

const cli_command cli_commands[] = {
    {"inspect", cmd_inspect, "list the interchanges, groups and transaction sets of X12 files"},
    {"fmt", cmd_fmt, "print an X12 file one segment per line, optionally with other delimiters"},
    {"validate", cmd_validate, "check X12 files against the HIPAA implementation guides"},
    {"intake", cmd_intake, "take encounters from spool/inbound/ into the ledger as claims"},
    {"batch", cmd_batch, "write queued claims into validated 837P/837I files in spool/outbound/"},
    {"run", cmd_run, "the daemon: intake, batch, send, collect and reconcile on schedule"},
    {"claims", cmd_claims, "list claims and where each one stands"},
    {"send", cmd_send, "send ready batches to payers (sftp, https or a directory)"},
    {"collect", cmd_collect, "collect responses from payers into spool/inbox/"},
    {"rejects", cmd_rejects, "the worklist: rejected and failed claims and batches, with reasons"},
    {"replay", cmd_replay, "queue rejected or failed claims again after a fix"},
    {"correct", cmd_correct, "send a replacement (frequency 7) of a claim the payer has"},
    {"void", cmd_void, "send a void (frequency 8) of a claim the payer has"},
    {"status", cmd_status, "one screen: claims, batches waiting, last exchanges, money posted"},
    {"reconcile", cmd_reconcile, "post 999, 277CA and 835 files from payers to the ledger"},
    {"payer-answer", cmd_payer_answer, "play a payer: answer 837 files with 999, 277CA and 835 (testing)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: clearinghouse <command> [options]\n\n"
                "A HIPAA X12 5010 claims clearinghouse engine.\n\ncommands:\n");
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(fp, "  %-12s %s\n", c->name, c->summary);
    fprintf(fp, "\n'clearinghouse <command> --help' describes a command.\n"
                "Exit status: 0 ok, 1 problems found, 2 usage or I/O error.\n");
}

int main(int argc, char **argv)
{
    umask(077); /* everything the engine creates is private: 0600 / 0700 */
    if (argc < 2) {
        usage(stderr);
        return EXIT_TROUBLE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("clearinghouse %s\n", CH_VERSION);
        return EXIT_OK;
    }
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(argv[1], c->name))
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "clearinghouse: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_TROUBLE;
}
