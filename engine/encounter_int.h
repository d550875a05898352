/*
 * encounter_int.h - what the encounter's files share: the field table and
 * the small helpers that reading, setting and packing all use.
 *
 * Internal to encounter_fields.c, encounter_set.c, encounter.c and
 * encounter_pack.c; not part of the public API (encounter.h is) and not
 * installed.  The helpers are static inline because they sit on the paths
 * that run for every key of every document and every claim packed.
 */
#ifndef ENCOUNTER_INT_H
#define ENCOUNTER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "encounter.h"

/* --- the field table (encounter_fields.c; why a table: see there) --------- */

typedef enum fkind {
    K_GROUP = 1, /* a mapping that holds fields */
    K_LINES,     /* the list of service lines */
    K_TEXT,      /* free text: names, addresses */
    K_ID,        /* an identifier, kept as written */
    K_CODE,      /* a code: upper-cased, no spaces */
    K_DX,        /* an ICD-10-CM code: upper-cased, the dot dropped */
    K_ZIP,       /* a ZIP code: the dash of ZIP+4 dropped */
    K_DATE,      /* YYYY-MM-DD or CCYYMMDD -> CCYYMMDD */
    K_HOUR,      /* 0..23 -> "HH" */
    K_MONEY,     /* decimal -> int64 cents */
    K_UNITS,     /* decimal, 3 places -> int64 thousandths */
    K_TYPE,      /* claim_type */
    K_FREQ,      /* frequency */
    K_REL,       /* patient.relationship */
    K_DXLIST,    /* diagnoses: list of K_DX */
    K_MODLIST,   /* lines[].modifiers */
    K_PTRLIST    /* lines[].diagnosis_pointers */
} fkind;

struct encounter_field {
    const char *path;
    unsigned char kind;
    unsigned char phi;
    unsigned char line; /* offsets are into enc_line */
    unsigned short off, size;
};

/* encounter_fields.c: the table, in document order (packing follows it). */
extern const encounter_field encounter_fields[];
extern const unsigned encounter_nfields;

/* Paths are looked up for every key of every document: an open-addressing
 * hash built once keeps that to one hash and one compare. */
#define ENCOUNTER_HSIZE 512
extern short encounter_htab[ENCOUNTER_HSIZE];
extern pthread_once_t encounter_htab_once;
void encounter_htab_build(void);

static inline unsigned encounter_phash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The row of a table path ("lines[].charge", n bytes), groups included; NULL if none. */
static inline const encounter_field *encounter_field_lookup(const char *p, size_t n)
{
    pthread_once(&encounter_htab_once, encounter_htab_build);
    unsigned h = encounter_phash(p, n) & (ENCOUNTER_HSIZE - 1);
    for (; encounter_htab[h] >= 0; h = (h + 1) & (ENCOUNTER_HSIZE - 1)) {
        const encounter_field *f = &encounter_fields[encounter_htab[h]];
        if (!strncmp(f->path, p, n) && f->path[n] == '\0')
            return f;
    }
    return NULL;
}

/* "lines[12].charge" -> "lines[].charge" (and the index) */
static inline size_t encounter_generic_path(const char *p, size_t n, char *out, size_t size, long *index)
{
    size_t o = 0;
    *index = -1;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        out[o++] = p[i];
        if (p[i] == '[') {
            long v = 0;
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9' && v < 100000)
                v = v * 10 + (p[j++] - '0');
            if (j < n && p[j] == ']' && j > i + 1) {
                *index = v;
                i = j - 1;
            }
        }
    }
    out[o] = '\0';
    return o;
}

/* encounter_field_is_list, inline for the reader and the packer. */
static inline int encounter_is_list(const encounter_field *f)
{
    return f->kind == K_DXLIST || f->kind == K_MODLIST || f->kind == K_PTRLIST;
}

/* encounter_init, inline for the reader and the unpacker. */
static inline void encounter_zero(encounter *e)
{
    memset(e, 0, sizeof *e);
    e->stated_total = -1;
}

static inline void encounter_line_init(enc_line *l)
{
    memset(l, 0, sizeof *l);
    l->charge = -1;       /* absent: the checker requires it */
    l->units_milli = -1;  /* absent: one unit */
}

/* --- setting values from text (encounter_set.c) --------------------------- */

/* One read (of a document, or of a packed form) in progress: where values
 * go and where problems go. */
typedef struct encounter_rd {
    encounter *e;
    encounter_problems *probs;
    unsigned start; /* probs->n + dropped when this read began */
} encounter_rd;

/* Set a scalar (non-list) field from text.  Empty text means absent.
 * A value that cannot be read adds a problem at path. */
void encounter_set_scalar(encounter_rd *r, const encounter_field *f, unsigned line, const char *s, size_t n,
                          const char *path);
/* Add one item to a list field (a problem at path when it cannot be). */
void encounter_add_item(encounter_rd *r, const encounter_field *f, unsigned line, const char *s, size_t n,
                        const char *path);

/* encounter.c: defaults and derived values, the same after reading and unpacking. */
void encounter_finish(encounter *e);

/* Copies and numbers without printf: packing and unpacking run for every
 * claim taken in and every claim batched. */
static inline size_t encounter_copy_text(char *buf, size_t size, const char *s)
{
    size_t n = strnlen(s, size - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

static inline size_t encounter_copy_n(char *buf, size_t size, const char *s, size_t n)
{
    if (n > size - 1)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

/* decimal digits of v, no NUL; returns the length */
static inline size_t encounter_put_u(char *out, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

#endif
