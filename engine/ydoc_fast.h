/*
 * ydoc_fast.h - the plain subset of YAML and JSON that programs write, read
 * without libyaml.
 *
 * Encounter files are small documents written by practice systems: block
 * mappings and lists, flow lists such as [J449, E785], plain and simply
 * quoted values, ASCII.  libyaml spends about 200,000 instructions on one
 * such file, most of what taking in an encounter costs.  This scanner reads
 * that subset in one pass and produces the events libyaml would, with the
 * same marks.  Anything outside the subset is declined and the caller parses
 * the input with libyaml instead, so the scanner never reports an error:
 * every message about a malformed document still comes from libyaml.
 *
 * Declined: anchors, aliases, tags, directives, document markers, block
 * scalars (| >), escapes ('' and backslashes), multi-line plain or quoted
 * values, empty values, complex keys, comments inside flow collections,
 * tabs, carriage returns, control characters and any byte above 0x7F
 * (libyaml counts columns in characters and checks UTF-8), inputs larger
 * than YDOC_FAST_MAX_BYTES.  tests/test_ydoc.c parses every document of the
 * project and thousands of mutants both ways and requires the same result.
 */
#ifndef YDOC_FAST_H
#define YDOC_FAST_H

#include <stddef.h>

typedef enum yf_type { YF_SCALAR, YF_SEQ_START, YF_MAP_START, YF_END } yf_type;

typedef struct yf_event {
    unsigned char type;  /* yf_type */
    unsigned char plain; /* scalar written without quotes */
    unsigned line, col;  /* 0-based, as libyaml's start marks */
    const char *str;     /* scalar: its text, inside the input (not NUL-terminated) */
    size_t len;
} yf_event;

typedef struct yf_events {
    yf_event *v;
    size_t n, cap;
} yf_events;

/* Larger inputs go to libyaml: the events of a document are held whole. */
#define YDOC_FAST_MAX_BYTES (256u << 10)

/*
 * 1: buf (len bytes) is in the subset and ev holds its events, from the
 * root's start to its end (none for an empty document).  0: declined, or out
 * of memory.  Either way the caller frees ev->v with free(); ev may be
 * reused across calls (its array is kept and overwritten).
 */
int ydoc_fast_scan(const char *buf, size_t len, yf_events *ev);

#endif
