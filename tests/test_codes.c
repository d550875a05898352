/*
 * test_codes.c - code lists: lookups in every embedded list, the two layouts
 * (code/text and element/code/text), unknown codes, retired codes, the
 * source lines, and the parser's errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "codes.h"
#include "embedded.h"

Test(codes, carc_and_friends_read_as_words)
{
    const char *t = codes_text("carc", "45");
    cr_assert_not_null(t);
    cr_assert(!strncmp(t, "Charge exceeds fee schedule/maximum allowable", 45), "%s", t);
    cr_assert_str_eq(codes_text("carc", "1"), "Deductible Amount");
    cr_assert_not_null(codes_text("rarc", "N115"));
    cr_assert_not_null(codes_text("rarc", "MA01"));
    cr_assert(!strncmp(codes_text("claim_status_category", "A7"), "Acknowledgement/Rejected", 24));
    cr_assert_not_null(codes_text("claim_status", "562"));
    cr_assert_str_eq(codes_text("entity_identifier", "85"), "Billing Provider");
    cr_assert_null(codes_text("carc", "999"));
    cr_assert_null(codes_text("nosuchlist", "45"));
    cr_assert_null(codes_text(NULL, "45"));
    cr_assert_null(codes_text("carc", NULL));
    /* blanks and case are forgiven */
    cr_assert_not_null(codes_text("carc", " 45 "));
    cr_assert_not_null(codes_text("rarc", "n115"));
}

Test(codes, lists_keyed_by_element)
{
    cr_assert_eq(codes_list_nkeys("ack_999"), 2);
    cr_assert_eq(codes_list_nkeys("group_codes"), 2);
    cr_assert_eq(codes_list_nkeys("carc"), 1);
    cr_assert_str_eq(codes_text2("ack_999", "IK403", "1"), "Required Data Element Missing");
    cr_assert_str_eq(codes_text2("ack_999", "IK304", "8"), "Segment Has Data Element Errors");
    cr_assert_str_eq(codes_text2("ack_999", "IK501", "R"), "Rejected");
    cr_assert_null(codes_text2("ack_999", "IK403", "ZZ"));
    cr_assert_null(codes_text2("ack_999", NULL, "1"));
    cr_assert_null(codes_text("ack_999", "1"), "a two-key list needs its element");
    cr_assert(!strncmp(codes_text2("group_codes", "CAS01", "CO"), "Contractual Obligations", 23));
    /* codes_text2 on a one-key list ignores the element */
    cr_assert_not_null(codes_text2("carc", "CAS02", "45"));
}

Test(codes, describe_names_known_unknown_and_retired_codes)
{
    char b[600];
    codes_describe(b, sizeof b, "CARC", "carc", NULL, "45");
    cr_assert(!strncmp(b, "CARC 45 (Charge exceeds fee schedule", 36), "%s", b);
    cr_assert(b[strlen(b) - 1] == ')', "%s", b);
    codes_describe(b, sizeof b, "CARC", "carc", NULL, "999");
    cr_assert_str_eq(b, "CARC 999 (unknown code)");
    codes_describe(b, sizeof b, "IK403", "ack_999", "IK403", "7");
    cr_assert_str_eq(b, "IK403 7 (Invalid Code Value)");
    /* a retired code still reads, and says so */
    const char *retired = NULL;
    for (int c = 1; c < 400 && !retired; c++) {
        char code[8];
        snprintf(code, sizeof code, "%d", c);
        if (codes_deactivated("carc", NULL, code))
            retired = codes_text("carc", code), snprintf(b, sizeof b, "%s", code);
    }
    cr_assert_not_null(retired, "carc.tsv marks retired codes");
    char code[8];
    snprintf(code, sizeof code, "%s", b);
    codes_describe(b, sizeof b, "CARC", "carc", NULL, code);
    cr_assert(strstr(b, "[deactivated code]"), "%s", b);
    cr_assert(!strstr(codes_text("carc", code), "deactivated"), "the flag is not in the text");
    /* truncation is safe */
    char small[12];
    codes_describe(small, sizeof small, "CARC", "carc", NULL, "45");
    cr_assert_str_eq(small, "CARC 45 (Ch");
}

Test(codes, every_embedded_list_parses_with_its_source)
{
    unsigned lists = 0;
    for (const embedded_file *f = embedded_files; f->name; f++) {
        size_t n = strlen(f->name);
        if (n < 5 || strcmp(f->name + n - 4, ".tsv"))
            continue;
        lists++;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(n - 4), f->name);
        codes_table *t;
        ch_error err;
        cr_assert_eq(codes_table_parse(name, f->data, f->len, 0, &t, &err), CH_OK, "%s", err.msg);
        /* every data line is one code */
        size_t lines = 0;
        for (const char *p = f->data; *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            if (len && p[0] != '#')
                lines++;
            p += len + (nl != NULL);
        }
        cr_assert_eq(codes_table_count(t), lines, "%s: %zu codes, %zu lines", name,
                     codes_table_count(t), lines);
        cr_assert_eq(codes_count(name), lines, "%s", name);
        const char *src = codes_source(name);
        cr_assert(src && strstr(src, "Source"), "%s says where it comes from", name);
        cr_assert(strstr(src, "20"), "%s says of when", name);
        codes_table_free(t);
    }
    cr_assert_geq(lists, 7, "carc, rarc, claim_status(_category), ack_999, group_codes, ...");
    cr_assert_gt(codes_count("carc"), 400);
    cr_assert_gt(codes_count("rarc"), 1000);
}

Test(codes, the_parser_on_its_own)
{
    const char *text = "# Test list\n# Source: here, 2026-01-01\nB\tbee\nA\tay\tdeactivated\n\n"
                       "A\tsecond ay\nC\tsee\textra\tcolumns\r\n";
    codes_table *t;
    ch_error err;
    cr_assert_eq(codes_table_parse("t", text, strlen(text), 1, &t, &err), CH_OK, "%s", err.msg);
    cr_assert_eq(codes_table_count(t), 3);
    cr_assert_str_eq(codes_table_find(t, NULL, "A"), "ay", "the first of a duplicate wins");
    cr_assert(codes_table_deactivated(t, NULL, "A"));
    cr_assert(!codes_table_deactivated(t, NULL, "B"));
    cr_assert_str_eq(codes_table_find(t, NULL, "C"), "see");
    cr_assert_str_eq(codes_table_source(t), "Test list\nSource: here, 2026-01-01");
    codes_table_free(t);

    const char *two = "# Columns: element, code, text\nX1\t1\tone\nX1\t2\ttwo\nX2\t1\tuno\n";
    cr_assert_eq(codes_table_parse("two", two, strlen(two), 0, &t, NULL), CH_OK);
    cr_assert_str_eq(codes_table_find(t, "X2", "1"), "uno");
    cr_assert_str_eq(codes_table_find(t, "x1", "2"), "two");
    cr_assert_null(codes_table_find(t, "X3", "1"));
    codes_table_free(t);

    const char *bad = "# x\nA\tok\nnotab\n";
    cr_assert_eq(codes_table_parse("bad", bad, strlen(bad), 1, &t, &err), CH_ERR_SYNTAX);
    cr_assert_null(t);
    cr_assert(strstr(err.msg, "line 3"), "%s", err.msg);
    const char *empty = "\tno code\n";
    cr_assert_eq(codes_table_parse("e", empty, strlen(empty), 1, &t, &err), CH_ERR_SYNTAX);
    cr_assert_eq(codes_table_parse("e", "", 0, 3, &t, &err), CH_ERR_USAGE);
}
