/*
 * codes.h - the words for X12 code values: CARC and RARC (835 adjustment and
 * remark codes), claim status category and status codes (277CA), 999 error
 * codes, CAS group codes, PLB reasons.
 *
 * The lists are data: tab-separated files in parsers/codes/ compiled into the
 * binary (embedded.h), each with `#` comment lines that say where the list
 * comes from and of what date, then one code a line:
 *
 *     code<TAB>text[<TAB>deactivated]   (carc, rarc, claim_status, ...)
 *     element<TAB>code<TAB>text         (ack_999, group_codes, ta1: the
 *                                        element, e.g. IK304, qualifies the code)
 *
 * Which of the two a list is comes from its header ("Columns: element, ...")
 * or else from its lines (a third field that is not "deactivated").  Retired
 * codes stay in the lists, flagged, so old files still read as words.  The first
 * lookup loads every embedded list once into sorted arrays (thread-safe);
 * later lookups are binary searches and allocate nothing.  An unknown code or
 * list gives NULL: callers print "CARC 999 (unknown code)", never guess.
 *
 * Code values are not PHI, so texts may be logged.
 */
#ifndef CODES_H
#define CODES_H

#include <stddef.h>

#include "ch_error.h"

/* The text of code in list (the file's base name without .tsv: "carc",
 * "rarc", ...), or NULL when the list or the code is unknown.  Leading and
 * trailing blanks of code are ignored, and a lower-case code is tried
 * upper-cased.  The pointer lives as long as the process. */
const char *codes_text(const char *list, const char *code);

/* The same for a list keyed by element and code (ack_999: "IK304", "8"). */
const char *codes_text2(const char *list, const char *element, const char *code);

/*
 * Write "LABEL CODE (text)" or "LABEL CODE (unknown code)" into buf
 * (NUL-terminated, truncated to size); a retired code gets
 * " [deactivated code]" after it.  element may be NULL for one-key lists.
 * Returns buf.  Example:
 *     codes_describe(b, sizeof b, "CARC", "carc", NULL, "45")
 *       -> "CARC 45 (Charge exceeds fee schedule/maximum allowable ...)"
 */
char *codes_describe(char *buf, size_t size, const char *label, const char *list,
                     const char *element, const char *code);

/* 1 when the list marks the code as retired ("deactivated"). */
int codes_deactivated(const char *list, const char *element, const char *code);

/* The comment lines at the top of a list (its source and date), joined with
 * '\n', without the leading '#'; NULL when the list is not embedded. */
const char *codes_source(const char *list);

/* How many codes a list holds (0 when it is not embedded). */
size_t codes_count(const char *list);

/* --- one list, for tests and tools ----------------------------------------- */

typedef struct codes_table codes_table;

/*
 * Parse the text of one list.  nkeys is 1 (code, text), 2 (element, code,
 * text) or 0 (tell from the text, as for the embedded lists).  Blank lines are skipped; a line with fewer tabs than nkeys, or
 * an empty code, is CH_ERR_SYNTAX with the line number in err; a code listed
 * twice keeps its first text.  The text is
 * copied: the caller's buffer may go.  Returns CH_OK, CH_ERR_SYNTAX or
 * CH_ERR_NOMEM; *out is then NULL.
 */
ch_code codes_table_parse(const char *name, const char *text, size_t len, int nkeys,
                          codes_table **out, ch_error *err);

/* Lookup in one table; element is ignored (may be NULL) when nkeys is 1. */
const char *codes_table_find(const codes_table *t, const char *element, const char *code);
int codes_table_deactivated(const codes_table *t, const char *element, const char *code);
size_t codes_table_count(const codes_table *t);
const char *codes_table_source(const codes_table *t);
void codes_table_free(codes_table *t);

/* How many key columns an embedded list has (1 or 2; 0 when not embedded). */
int codes_list_nkeys(const char *list);

#endif
