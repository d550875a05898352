/* test_validate_regress.c - validator bugs fixed, each with the case that
 * showed it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x12_guide.h"
#include "x12_validate.h"

typedef struct found {
    int per03_code;
} found;

static void on_diag(void *ctx, const x12_diag *d)
{
    found *f = ctx;
    if (!strcmp(d->tag, "PER") && d->elem == 3 && !strcmp(d->ik4, "7"))
        f->per03_code++;
}

/* Element 03 of every segment once skipped its code list (only ST03 should):
 * PER03 "XX" in 1000A passed although the guide allows ED, EM, FX, TE. */
Test(validate_regress, element_03_codes_are_checked_on_every_segment)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/corpus/837p/lfh-demo.example1.837", root);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    char *per = strstr(buf, "PER*IC*JERRY*TE*");
    cr_assert_not_null(per);
    memcpy(per + strlen("PER*IC*JERRY*"), "XX", 2);
    found f = {0};
    x12_reader *r;
    x12_open_mem(&r, buf, n, "per03", NULL, NULL);
    x12_validator *v = x12_validator_new("per03", on_diag, &f);
    x12_segment s;
    while (x12_next(r, &s) == X12_SEGMENT)
        x12_validator_feed(v, &s);
    x12_validator_finish(v, &s.pos);
    x12_validator_free(v);
    x12_close(r);
    x12_guide_registry_free();
    cr_assert_eq(f.per03_code, 1, "PER03 'XX' must be an invalid code (IK403 7)");
}
