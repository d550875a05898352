/*
 * test_cli.c - the clearinghouse binary as a user runs it: exit statuses,
 * --help on every command, inspect --json that parses, fmt round trips.
 * CH_BIN names the binary and CH_ROOT the source tree (set by `make test`).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <yaml.h>

#include "cli_helpers.h"

Test(cli, help_on_every_command)
{
    const char *cmds[] = {"inspect", "fmt", "validate", "intake", "batch", "claims", "send", "collect", "reconcile",
                          "rejects", "replay", "correct", "void", "status", "run", "payer-answer"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *out = NULL;
        int rc = ch_run(&out, "%s --help", cmds[i]);
        cr_assert_eq(rc, 0, "%s --help", cmds[i]);
        cr_assert(strstr(out, "usage: clearinghouse"), "%s", out);
        free(out);
    }
    char *out = NULL;
    cr_assert_eq(ch_run(&out, "--help"), 0);
    free(out);
    cr_assert_eq(ch_run(&out, "no-such-command"), 2);
    free(out);
    cr_assert_eq(ch_run(&out, "inspect --bogus"), 2);
    free(out);
}

Test(cli, inspect_exit_statuses)
{
    char *out = NULL;
    cr_assert_eq(ch_run(&out, "inspect tests/corpus/837p/lfh-demo.example1.837"), 0, "%s", out);
    cr_assert(strstr(out, "transaction 1  837"), "%s", out);
    cr_assert(strstr(out, "version 005010X222A2"), "%s", out);
    free(out);
    cr_assert_eq(ch_run(&out, "inspect tests/corpus/837p/ims-x12_valid.txt"), 1);
    cr_assert(strstr(out, "SE01"), "%s", out);
    free(out);
    cr_assert_eq(ch_run(&out, "inspect /nonexistent/file.x12"), 2);
    free(out);
    cr_assert_eq(ch_run(&out, "inspect"), 2);
    free(out);
}

/* inspect --json output is well-formed: libyaml parses JSON too. */
Test(cli, inspect_json_parses)
{
    char *out = NULL;
    int rc = ch_run(&out, "inspect --json tests/corpus/837p/ims-x12_multiple_isa.txt "
                          "tests/corpus/bad/aff-835-nevada-unpadded-ISA.txt tests/corpus/999/staedi-simple999.edi");
    cr_assert_eq(rc, 1);
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)out, strlen(out));
    yaml_document_t doc;
    cr_assert(yaml_parser_load(&p, &doc), "JSON did not parse: %s", out);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cr_assert_eq(root->type, YAML_SEQUENCE_NODE);
    cr_assert_eq(root->data.sequence.items.top - root->data.sequence.items.start, 3);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    cr_assert(strstr(out, "\"status\":\"problems\""));
    cr_assert(strstr(out, "\"functional_id\":\"FA\""));
    free(out);
}

Test(cli, fmt_prints_one_segment_per_line)
{
    char *out = NULL;
    cr_assert_eq(ch_run(&out, "fmt tests/corpus/835/k835-emedny_sample.txt"), 0);
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 69, "one line per segment");
    cr_assert_eq(strncmp(out, "ISA*", 4), 0);
    free(out);
}

Test(cli, fmt_rewrites_delimiters_and_reads_back_the_same)
{
    char *out = NULL;
    cr_assert_eq(ch_run(&out, "fmt --delimiters '|>!\\n' tests/corpus/837p/lfh-demo.example1.837 > /tmp/ch-fmt-$$.x12 "
                              "&& $CH_BIN fmt --delimiters '*:^~' /tmp/ch-fmt-$$.x12; rc=$?; rm -f /tmp/ch-fmt-$$.x12; exit $rc"), 0);
    char *orig = NULL;
    cr_assert_eq(ch_run(&orig, "fmt tests/corpus/837p/lfh-demo.example1.837"), 0);
    cr_assert_str_eq(out, orig);
    free(out);
    free(orig);
    /* a delimiter that the data uses cannot be chosen */
    cr_assert_eq(ch_run(&out, "fmt --delimiters 'A:^~' tests/corpus/837p/lfh-demo.example1.837"), 2);
    free(out);
    cr_assert_eq(ch_run(&out, "fmt --delimiters '*:.~' tests/corpus/837p/lfh-demo.example1.837"), 1);
    free(out);
}

/* validate --ack: a 999 per group (rejecting the bad set), a TA1 for a
 * broken envelope, and the 999 itself validates clean against its guide. */
Test(cli, validate_ack_writes_a_999_that_validates)
{
    char *out = NULL;
    int rc = ch_run(&out, "validate --ack /tmp/ch-ack-$$ tests/corpus/bad/ims-x12_missing_elements.txt >/dev/null; "
                          "d=/tmp/ch-ack-$$; grep -h -o 'IK5\\*R' $d/*.999 && grep -l 'TA1' $d/*.ta1 >/dev/null && "
                          "$CH_BIN validate $d/*.999; rc=$?; rm -rf $d; exit $rc");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "IK5*R"), "%s", out);
    cr_assert(strstr(out, "valid"), "%s", out);
    free(out);
    rc = ch_run(&out, "validate --ack /tmp/ch-ack2-$$ tests/corpus/837p/lfh-demo.example1.837 >/dev/null; "
                      "cat /tmp/ch-ack2-$$/*.999; rm -rf /tmp/ch-ack2-$$");
    cr_assert(strstr(out, "AK1*HC*") && strstr(out, "IK5*") && strstr(out, "AK9*"), "%s", out);
    free(out);
}

/* validate --threads: the report (text and JSON) and the exit status are
 * the same on worker threads as on one, for every corpus file and for a
 * stream of many interchanges through a pipe; a bad count is a usage error. */
Test(cli, validate_threads_same_report)
{
    char *out = NULL;
    int rc = ch_run(&out, "validate --help > /dev/null; d=/tmp/ch-thr-$$; mkdir -p $d; f=$(ls tests/corpus/*/*); "
                          "$CH_BIN validate --threads 0 $f > $d/a; ra=$?; "
                          "$CH_BIN validate --threads 2 $f > $d/b; rb=$?; "
                          "$CH_BIN validate --json --threads 0 $f > $d/ja; "
                          "$CH_BIN validate --json --threads 3 $f > $d/jb; "
                          "for i in 1 2 3 4 5 6; do cat tests/corpus/837p/* tests/corpus/bad/*; done > $d/all; "
                          "$CH_BIN validate --threads 0 - < $d/all > $d/pa; "
                          "cat $d/all | $CH_BIN validate - > $d/pb; "
                          "cmp $d/a $d/b && cmp $d/ja $d/jb && cmp $d/pa $d/pb && [ $ra = $rb ] && "
                          "echo same $ra $(grep -c 'error:' $d/pa); rc=$?; rm -rf $d; exit $rc");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "same 1 "), "%s", out);
    cr_assert(!strstr(out, "same 1 0\n"), "the stream has problems to report: %s", out);
    free(out);
    rc = ch_run(&out, "validate --threads many tests/corpus/837p/lfh-demo.example1.837");
    cr_assert_eq(rc, 2, "%s", out);
    free(out);
}
