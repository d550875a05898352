/* test_ydoc.c - the fast scanner for the plain subset (ydoc_fast.c) against
 * libyaml: every YAML and JSON document of the project, and mutants of each,
 * parsed both ways must give the same tree (kinds, texts, quoting, line and
 * column of every node) or the same error. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ydoc.h"
#include "ydoc_fast.h"
#include "ydoc_reading.h"

/* 1 when the fast scanner took the text; the readings agree either way. */
static int same_reading(const char *what, const char *text, size_t len)
{
    char *slow = reading(text, len, 0), *fast = reading(text, len, 1);
    if (strcmp(slow, fast))
        cr_log_error("%s: libyaml and the fast scanner disagree on\n---\n%.*s\n---\nlibyaml: %s\nfast:    %s", what,
                     (int)len, text, slow, fast);
    cr_expect_str_eq(fast, slow, "%s", what);
    free(slow);
    free(fast);
    yf_events ev = {NULL, 0, 0};
    int took = ydoc_fast_scan(text, len, &ev);
    free(ev.v);
    return took;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    buf b = {NULL, 0, 0};
    char tmp[4096];
    size_t k;
    put(&b, "", 0);
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        put(&b, tmp, k);
    fclose(f);
    *len = b.n;
    return b.p;
}

/* The project's documents: encounters (good and bad), the demo's, the
 * configuration and the payer profiles. */
static const char *const dirs[] = {"tests/data/encounters/good", "tests/data/encounters/bad", "conf",
                                   "conf/demo/encounters/riverside", "conf/demo/encounters/lakeside", "payer-profiles",
                                   NULL};

static int doc_name(const char *n)
{
    size_t k = strlen(n);
    return (k > 5 && !strcmp(n + k - 5, ".yaml")) || (k > 5 && !strcmp(n + k - 5, ".json"));
}

typedef void (*doc_fn)(const char *path, const char *text, size_t len, void *ctx);

static unsigned each_doc(doc_fn fn, void *ctx)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    unsigned n = 0;
    for (const char *const *d = dirs; *d; d++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, *d);
        DIR *dd = opendir(dir);
        cr_assert_not_null(dd, "%s", dir);
        struct dirent *de;
        while ((de = readdir(dd)) != NULL) {
            if (!doc_name(de->d_name))
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            size_t len;
            char *text = slurp(path, &len);
            fn(path, text, len, ctx);
            free(text);
            n++;
        }
        closedir(dd);
    }
    return n;
}

static void compare_doc(const char *path, const char *text, size_t len, void *ctx)
{
    unsigned *took = ctx;
    *took += (unsigned)same_reading(path, text, len);
}

Test(ydoc_fast, every_document_of_the_project_reads_the_same_both_ways)
{
    unsigned took = 0;
    unsigned n = each_doc(compare_doc, &took);
    cr_expect_gt(n, 40u, "documents found: %u", n);
    /* most of them are in the subset (not the JSON with escapes, the
     * non-ASCII, the alias, the syntax errors, ...) */
    cr_expect_gt(took, n / 2, "the fast scanner took %u of %u", took, n);
}

/* What practice systems write, and what the scanner must take. */
Test(ydoc_fast, takes_the_usual_shapes)
{
    static const char *const docs[] = {
        "encounter_id: A1\npayer: demo\n",
        "a:\n  b: 1\n  c: [x, \"y\", 'z']\nd:\n- 1\n- 2\ne: {f: g, h: [1, 2]}\n",
        "# a comment\nlines:\n  - procedure: \"99396\"   # after a value\n    units: 1\n\n    charge: '180'\n  - {x: 1}\n",
        "- a: 1\n  b: 2\n- c: 3\n",
        "[{\"a\": 1, \"b\": [true, null, \"x y\"]}, {\"c\": \"\"}]\n",
        "{\n  \"encounter_id\": \"E1\",\n  \"lines\": [\n    {\"charge\": \"12.50\"}\n  ]\n}\n",
        "name: O'BRIEN, PAT\nurl: http://x.example/a#b\nneg: -5\nk:\n- x\nz: ~\n",
        "a: 1",
        "",
        "\n# only a comment\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        cr_expect(same_reading("usual shape", docs[i], strlen(docs[i])), "not taken: %s", docs[i]);
}

/* Outside the subset: declined, and libyaml reads them (or says why not). */
Test(ydoc_fast, declines_what_it_does_not_read)
{
    static const char *const docs[] = {
        "a: &x 1\nb: *x\n", "a: |\n  text\n", "a: >\n  text\n", "---\na: 1\n", "a: 1\n---\nb: 2\n",
        "a: \"x\\ty\"\n", "a: 'it''s'\n", "a: b\n  c\n", "a:\n", "a:\nb: 1\n", "? a\n: b\n", "a: !!str 1\n",
        "a:\tb\n", "a: b\r\n", "a: \xc3\xa9\n", "a: [b,\n]\n", "a: [b, # c\n ]\n", "%YAML 1.2\n---\na: 1\n",
        "a: b: c\n", "- - a\n", "-\n  a: 1\n", "a: 1\n b: 2\n", "a: [1, 2,]\n", "a: {b}\n", "a: \"x\n y\"\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        cr_expect_not(same_reading("declined", docs[i], strlen(docs[i])), "taken: %s", docs[i]);
    }
    /* keys near libyaml's limit of 1024 characters, plain, quoted and in a
     * flow mapping */
    static const char *const shapes[] = {"%s: 1\n", "\"%s\": 1\n", "{%s: 1}\n"};
    for (size_t k = 0; k < 3; k++)
        for (size_t n = 990; n <= 1030; n += 10) {
            char key[1100], doc[1200];
            memset(key, 'k', n);
            key[n] = '\0';
            snprintf(doc, sizeof doc, shapes[k], key);
            int took = same_reading("long key", doc, strlen(doc));
            cr_expect(n + (k == 1 ? 2 : 0) <= 1000 || !took, "a key of %zu taken", n);
        }
}

/* A small deterministic generator: mutants are the same on every run. */
static unsigned long rnd(unsigned long *x)
{
    *x = *x * 6364136223846793005ul + 1442695040888963407ul;
    return *x >> 33;
}

static void mutate_doc(const char *path, const char *text, size_t len, void *ctx)
{
    unsigned long *seed = ctx;
    static const char alphabet[] = " \n:-#'\"[]{},?&*!|>~x0.";
    if (len > 8192)
        return;
    char *m = malloc(len + 16);
    cr_assert_not_null(m);
    for (int k = 0; k < 60; k++) {
        memcpy(m, text, len);
        size_t n = len;
        int edits = 1 + (int)(rnd(seed) % 3);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = rnd(seed) % n;
            char c = alphabet[rnd(seed) % (sizeof alphabet - 1)];
            switch (rnd(seed) % 3) {
            case 0: /* delete */
                memmove(m + at, m + at + 1, n - at - 1);
                n--;
                break;
            case 1: /* insert */
                memmove(m + at + 1, m + at, n - at);
                m[at] = c;
                n++;
                break;
            default: /* replace */
                m[at] = c;
                break;
            }
        }
        char what[2100];
        snprintf(what, sizeof what, "%s mutant %d", path, k);
        same_reading(what, m, n);
    }
    free(m);
}

Test(ydoc_fast, mutants_of_every_document_read_the_same_both_ways, .timeout = 120)
{
    unsigned long seed = 20261123;
    each_doc(mutate_doc, &seed);
}
