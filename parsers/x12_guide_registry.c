/*
 * x12_guide_registry.c - which guide a transaction set is validated with.
 *
 * The version strings seen in real files are mapped to a family, and each
 * family to one embedded table.  Tables are parsed the first time a family
 * is asked for and kept (a failed parse is kept too, so a broken table is
 * reported for every transaction set without being re-read each time).
 */
#include "x12_guide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

typedef struct family {
    const char *name;  /* "837p" */
    const char *st01;
    const char *file;  /* embedded table */
} family;

static const family families[] = {
    {"837p", "837", "837p.guide"},
    {"837i", "837", "837i.guide"},
    {"835", "835", "835.guide"},
    {"999", "999", "999.guide"},
    {"277ca", "277", "277ca.guide"},
};
#define NFAMILIES (sizeof families / sizeof *families)

/* Versions accepted as they are (errata variants seen in real files). */
static const struct {
    const char *version;
    const char *family;
} variants[] = {
    {"005010X222", "837p"},   {"005010X222A1", "837p"}, {"005010X222A2", "837p"},
    {"005010X223", "837i"},   {"005010X223A1", "837i"}, {"005010X223A2", "837i"},
    {"005010X223A3", "837i"}, {"005010X221A1", "835"},  {"005010X231", "999"},
    {"005010X231A1", "999"},  {"005010X214", "277ca"},
};

typedef struct cached {
    int tried;
    x12_guide *g;
    ch_code rc;
    ch_error err;
} cached;

static cached cache[NFAMILIES];

static const family *family_of(const char *version)
{
    if (!version || !*version)
        return NULL;
    const char *name = NULL;
    for (size_t i = 0; i < sizeof variants / sizeof *variants && !name; i++)
        if (!strcmp(variants[i].version, version))
            name = variants[i].family;
    /* an 837 with an unknown suffix still says which of the two it is */
    if (!name && !strncmp(version, "005010X222", 10))
        name = "837p";
    if (!name && !strncmp(version, "005010X223", 10))
        name = "837i";
    for (size_t i = 0; name && i < NFAMILIES; i++)
        if (!strcmp(families[i].name, name))
            return &families[i];
    return NULL;
}

const char *x12_guide_family(const char *st01, const char *version)
{
    const family *f = family_of(version);
    if (!f || (st01 && strcmp(st01, f->st01)))
        return NULL;
    return f->name;
}

int x12_guide_accepts(const x12_guide *g, const char *version)
{
    if (!version)
        return 0;
    if (!strcmp(g->version, version))
        return 1;
    const family *a = family_of(version), *b = family_of(g->version);
    return a && a == b;
}

int x12_guide_knows_st01(const char *st01)
{
    for (size_t i = 0; i < NFAMILIES; i++)
        if (st01 && !strcmp(families[i].st01, st01) && embedded_find(families[i].file))
            return 1;
    return 0;
}

ch_code x12_guide_lookup(const char *st01, const char *version, const x12_guide **out,
                         ch_error *err)
{
    *out = NULL;
    const family *f = family_of(version);
    if (!f)
        return ch_error_set(err, CH_ERR_NOTFOUND, "no implementation guide for version '%s'",
                            version ? version : "");
    if (!st01 || strcmp(st01, f->st01))
        return ch_error_set(err, CH_ERR_NOTFOUND,
                            "version %s is a guide for transaction set %s, not %s", version, f->st01,
                            st01 ? st01 : "(none)");
    cached *c = &cache[f - families];
    if (!c->tried) {
        c->tried = 1;
        const embedded_file *ef = embedded_find(f->file);
        if (!ef)
            c->rc = ch_error_set(&c->err, CH_ERR_NOTFOUND,
                                 "the %s guide table (%s) is not built into this program", f->name,
                                 f->file);
        else
            c->rc = x12_guide_parse(ef->data, ef->len, f->file, &c->g, &c->err);
        if (c->rc == CH_OK && strcmp(c->g->st01, f->st01)) {
            c->rc = ch_error_set(&c->err, CH_ERR_SYNTAX, "%s: its guide line says ST01 %s, expected %s",
                                 f->file, c->g->st01, f->st01);
            x12_guide_free(c->g);
            c->g = NULL;
        }
    }
    if (c->rc != CH_OK) {
        if (err)
            *err = c->err;
        return c->rc;
    }
    *out = c->g;
    return CH_OK;
}

const x12_guide *x12_guide_for(const char *st01, const char *version)
{
    const x12_guide *g = NULL;
    x12_guide_lookup(st01, version, &g, NULL);
    return g;
}

void x12_guide_registry_free(void)
{
    for (size_t i = 0; i < NFAMILIES; i++) {
        x12_guide_free(cache[i].g);
        memset(&cache[i], 0, sizeof cache[i]);
    }
}
