/*
 * test_cmd_validate.c - `clearinghouse validate` as a user runs it: exit
 * statuses, the report lines, --json, --ack while the writer is not there.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cli_helpers.h"
#include "embedded.h"

#define DATA "tests/data/validate/"

Test(cmd_validate, usage_and_io_errors)
{
    char *out = NULL;
    cr_assert_eq(ch_run(&out, "validate --help"), 0);
    cr_assert(strstr(out, "usage: clearinghouse validate"), "%s", out);
    free(out);
    cr_assert_eq(ch_run(&out, "validate"), 2);
    cr_assert(strstr(out, "no FILE given"), "%s", out);
    free(out);
    cr_assert_eq(ch_run(&out, "validate --bogus " DATA "ims-x12_valid.txt"), 2);
    free(out);
    cr_assert_eq(ch_run(&out, "validate /nonexistent/file.x12"), 2);
    cr_assert(strstr(out, "No such file"), "%s", out);
    free(out);
}

Test(cmd_validate, valid_and_invalid_files)
{
    if (!embedded_find("837p.guide") || !embedded_find("835.guide"))
        cr_skip_test("the 837p and 835 tables are not built in");
    char *out = NULL;
    int rc = ch_run(&out, "validate " DATA "lfh-demo.drug.example10.1.837 " DATA "k835-emedny_sample.txt");
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "1 transaction set: 1 valid, 0 with problems; 0 errors"), "%s", out);
    free(out);
    rc = ch_run(&out, "validate " DATA "k835-emedny_sample.txt " DATA "ims-x12_segment_errors.txt");
    cr_assert_eq(rc, 1, "%s", out);
    /* one line per problem, with the found value and the loop */
    cr_assert(strstr(out, "loop 2010AA Billing Provider Name, REF: segment REF"), "%s", out);
    cr_assert(strstr(out, "found '1234567890'"), "%s", out);
    cr_assert(strstr(out, "NOT valid"), "%s", out);
    free(out);
}

/* --json is well-formed (libyaml reads JSON) and streams every problem. */
Test(cmd_validate, json_parses)
{
    if (!embedded_find("837p.guide"))
        cr_skip_test("the 837p table is not built in");
    char *out = NULL;
    int rc = ch_run(&out, "validate --json " DATA "ims-x12_segment_errors.txt " DATA "staedi-837-HL-nested.edi");
    cr_assert_eq(rc, 1, "%s", out);
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)out, strlen(out));
    yaml_document_t doc;
    cr_assert(yaml_parser_load(&p, &doc), "not JSON: %s", out);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    cr_assert(root && root->type == YAML_SEQUENCE_NODE);
    cr_assert_eq(root->data.sequence.items.top - root->data.sequence.items.start, 2);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    cr_assert(strstr(out, "\"code\":\"segment.max_use\""), "%s", out);
    cr_assert(strstr(out, "\"ik304\":\"5\""), "%s", out);
    cr_assert(strstr(out, "\"segment_in_transaction\":10"), "%s", out);
    cr_assert(strstr(out, "\"sets_not_validated\":2"), "%s", out);
    cr_assert(strstr(out, "\"status\":\"problems\""), "%s", out);
    free(out);
}
