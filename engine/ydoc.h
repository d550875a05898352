/*
 * ydoc.h - a small read-only document tree over libyaml, for YAML and JSON.
 *
 * JSON is (for our purposes) a subset of YAML, so one reader serves both:
 * encounters, the configuration and payer profiles.  The tree keeps every
 * scalar as the text that was written (libyaml does not type scalars), with
 * its line and column, so a problem can always be pointed at.
 *
 * Deliberately refused, with CH_ERR_SYNTAX: aliases (`*anchor`, the "billion
 * laughs" expansion), duplicate keys in a mapping (libyaml accepts them, and
 * a second `charge:` silently winning is how a wrong bill goes out), keys
 * that are not plain scalars, nesting deeper than YDOC_MAX_DEPTH, more than
 * YDOC_MAX_KEYS keys in one mapping (which keeps the duplicate-key search
 * bounded) and more than YDOC_MAX_NODES nodes in one document or item.
 *
 * Memory: all nodes of a document live in one arena owned by the ydoc and
 * freed by ydoc_free(); node pointers are valid until then.  Scalars are
 * NUL-terminated copies, so the input buffer may be freed after parsing.
 */
#ifndef YDOC_H
#define YDOC_H

#include <stddef.h>

#include "ch_error.h"

#define YDOC_MAX_DEPTH 32
#define YDOC_MAX_NODES 200000
#define YDOC_MAX_KEYS 1000       /* keys in one mapping (duplicates are looked for) */

typedef enum ydoc_kind { YDOC_SCALAR = 1, YDOC_SEQ, YDOC_MAP } ydoc_kind;

typedef struct ydoc_node ydoc_node;
struct ydoc_node {
    ydoc_kind kind;
    unsigned line, col;  /* 1-based position of the node's first character */
    int plain;           /* scalar written without quotes (so `~`, `null` mean null) */
    const char *str;     /* scalar: its text, NUL-terminated; else NULL */
    size_t len;          /* scalar: bytes of text */
    size_t n;            /* seq: items; map: key/value pairs */
    ydoc_node **items;   /* seq: item i; map: key i at 2i, value i at 2i+1 */
};

typedef struct ydoc ydoc;

/*
 * Parse one document from buf (len bytes).  name is only used in error
 * messages ("FILE:LINE:COL: ...").  An empty input gives a NULL root.
 * More than one document in the input is CH_ERR_SYNTAX (use ydoc_each).
 * On success *out owns the tree; free it with ydoc_free().
 * Errors: CH_ERR_SYNTAX (message has file:line:col), CH_ERR_LIMIT, CH_ERR_NOMEM.
 */
ch_code ydoc_parse(ydoc **out, const char *buf, size_t len, const char *name, ch_error *err);

/* Read the whole file at path (at most max_bytes) and parse it like ydoc_parse.
 * CH_ERR_IO when it cannot be read, CH_ERR_LIMIT when it is larger. */
ch_code ydoc_load(ydoc **out, const char *path, size_t max_bytes, ch_error *err);

/*
 * Streaming: call fn once for every "unit" of the input, where a unit is a
 * document's root, or, when the root of a document is a sequence, each item
 * of that sequence.  So a file holding one mapping and a file holding a list
 * of mappings are read the same way, and memory holds one unit at a time.
 * `index` is the item's position in its list (0-based) or -1 for a root that
 * is not a list.  The node is valid only during the call.  fn returns CH_OK
 * to go on; anything else stops the parse and is returned.
 * A syntax error after some units were delivered is returned as usual: the
 * caller has seen those units and must decide what that means.
 */
typedef ch_code (*ydoc_each_fn)(void *ctx, const ydoc_node *unit, long index);
ch_code ydoc_each(const char *buf, size_t len, const char *name, ydoc_each_fn fn, void *ctx,
                  ch_error *err);

/* The root node, or NULL for an empty document. */
const ydoc_node *ydoc_root(const ydoc *d);

void ydoc_free(ydoc *d);

/* Small documents in the plain subset of YAML that programs write are read
 * by a scanner of our own (ydoc_fast.h), the rest by libyaml; the tree is
 * the same either way.  ydoc_fast(0) sends everything to libyaml (tests
 * compare the two); on by default.  Not thread-safe: set it before parsing. */
void ydoc_fast(int on);

/* --- helpers ------------------------------------------------------------ */

/* Value for key in a mapping, or NULL (also when map is not a mapping). */
const ydoc_node *ydoc_get(const ydoc_node *map, const char *key);

/* 1 for a missing node, an empty plain scalar, or plain `~` / `null`. */
int ydoc_is_null(const ydoc_node *n);

/* A short word for the kind of n ("a mapping", "a list", "a value"). */
const char *ydoc_kind_name(const ydoc_node *n);

/*
 * Find the node at a field path such as "lines[2].procedure" or
 * "subscriber.address.city" under root; NULL when there is none.  For
 * pointing an error at a line: see encounter_locate().
 */
const ydoc_node *ydoc_find(const ydoc_node *root, const char *path);

/* --- reading settings files (configuration, payer profiles) --------------
 * Errors are CH_ERR_CONFIG with "FILE:LINE: PATH.KEY: what" so an operator
 * finds the line; `path` is where map sits ("" at the top, "practices[1]").
 */

/* Every key of map must be in allowed (NULL-terminated): a typo in a
 * setting is an error, not a silently ignored line.  map may be NULL. */
ch_code ydoc_only_keys(const ydoc_node *map, const char *const *allowed, const char *file,
                       const char *path, ch_error *err);

/* Copy the scalar at key into dst (size bytes).  Missing: "" and CH_OK, or
 * CH_ERR_CONFIG when required.  Longer than size - 1: CH_ERR_CONFIG. */
ch_code ydoc_str(const ydoc_node *map, const char *key, char *dst, size_t size, int required,
                 const char *file, const char *path, ch_error *err);

/* An unsigned integer in [min, max]; missing: *out = dflt. */
ch_code ydoc_uint(const ydoc_node *map, const char *key, unsigned long min, unsigned long max,
                  unsigned long dflt, unsigned long *out, const char *file, const char *path,
                  ch_error *err);

/* true/false/yes/no; missing: *out = dflt. */
ch_code ydoc_bool(const ydoc_node *map, const char *key, int dflt, int *out, const char *file,
                  const char *path, ch_error *err);

/* CH_ERR_CONFIG "FILE:LINE: PATH.KEY: MSG" for a problem at node n. */
ch_code ydoc_error(ch_error *err, const ydoc_node *n, const char *file, const char *path,
                   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
