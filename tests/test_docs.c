/*
 * test_docs.c - the examples in README.md and the docs folder work as written.
 *
 * Every ```sh block is run with bash -e from the source tree, with the binary
 * under test first on PATH as `clearinghouse` (a block whose first line is
 * "# (not run by the doc test: ...)" says why it is skipped).  Every ```yaml
 * and ```json block must parse; tests of each module feed the blocks of their
 * own document to the engine's loaders as well.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "doc_blocks.h"

static int run_sh(const char *root, const char *bin, const char *doc, int line, const char *body,
                  char *why, size_t whysize)
{
    char dir[] = "/tmp/ch-doc-XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char path[4096], cmd[8192];
    snprintf(path, sizeof path, "%s/clearinghouse", dir);
    if (symlink(bin, path) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/block.sh", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "set -e\n%s", body);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "cd '%s' && PATH='%s':\"$PATH\" bash '%s/block.sh' > '%s/out' 2>&1",
             root, dir, dir, dir);
    int rc = system(cmd);
    if (rc != 0) {
        char out[1024] = "";
        snprintf(path, sizeof path, "%s/out", dir);
        FILE *o = fopen(path, "r");
        size_t n = o ? fread(out, 1, sizeof out - 1, o) : 0;
        out[n] = '\0';
        if (o)
            fclose(o);
        snprintf(why, whysize, "%s:%d: sh block failed (%d): %.600s", doc, line, rc, out);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    return rc;
}

static int parse_yaml(const char *text)
{
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    yaml_document_t doc;
    int ok = yaml_parser_load(&p, &doc);
    if (ok)
        yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return ok;
}

Test(docs, every_example_works_as_written, .timeout = 300)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    const char *bin = getenv("CH_BIN");
    cr_assert_not_null(bin, "CH_BIN must name the binary under test");
    char docs[64][512];
    int ndocs = doc_list(root, docs, 64);
    cr_assert_gt(ndocs, 0);
    char fails[16384] = "";
    int nsh = 0, nyaml = 0;
    for (int d = 0; d < ndocs; d++) {
        doc_block blocks[128];
        int nb = doc_blocks(docs[d], blocks, 128);
        for (int b = 0; b < nb; b++) {
            char why[2048] = "";
            if (!strcmp(blocks[b].lang, "sh")) {
                if (strncmp(blocks[b].body, "# (not run by the doc test", 26) != 0) {
                    nsh++;
                    run_sh(root, bin, docs[d], blocks[b].line, blocks[b].body, why, sizeof why);
                }
            } else if (!strcmp(blocks[b].lang, "yaml") || !strcmp(blocks[b].lang, "json")) {
                nyaml++;
                if (!parse_yaml(blocks[b].body))
                    snprintf(why, sizeof why, "%s:%d: %s block does not parse", docs[d], blocks[b].line,
                             blocks[b].lang);
            }
            if (why[0])
                snprintf(fails + strlen(fails), sizeof fails - strlen(fails), "\n%s", why);
            free(blocks[b].body);
        }
    }
    cr_assert_gt(nsh, 2);
    cr_assert_str_empty(fails, "%s", fails);
    (void)nyaml;
}
