/*
 * report_text.h - the text of the posting reports (engine/reconcile_report.c
 * writes the files): one posting as a CSV line and as a JSON object, and the
 * words of the adjustment codes, each looked up and rendered once.
 *
 * Rendering is by hand into growing buffers (no printf per field; money is
 * integer cents written as "-12.34", never floating point): a report holds
 * about a kilobyte per claim and 100,000 claims are rendered while posting.
 */
#ifndef REPORT_TEXT_H
#define REPORT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* A growing text buffer; zero-initialised is empty.  Free with
 * report_buf_free. */
typedef struct report_buf {
    char *p;
    size_t len, cap;
} report_buf;

/* Room for more bytes after len: 1, or 0 when out of memory (b unchanged). */
int report_buf_reserve(report_buf *b, size_t more);
void report_buf_free(report_buf *b);

/* One CAS adjustment of a posting. */
typedef struct report_adj {
    char group[4], reason[8];   /* CAS01, CAS02 (longer codes are cut) */
    int64_t cents;
} report_adj;

/* One posted claim payment as the reports show it (fixed size: it is copied
 * whole between the posting thread and the report writer). */
typedef struct report_row {
    int64_t claim_id, billed, allowed, paid, patient_resp;
    int32_t reversal;
    uint32_t nadj;              /* adjustments: claim level, then each line's */
    char outcome[12], state[16];
    char practice[32], pcn[40], trace_key[64], payer_claim_no[52];
} report_row;

/* A group and reason code's words, rendered once for every use. */
typedef struct report_code {
    char group[4], reason[8];
    unsigned group_no, reason_no;   /* in report_words.groups / .reasons */
    char *csv;                      /* "CO-45 " then, after the amount, csv + csv_tail */
    size_t csv_head_len, csv_tail, csv_tail_len;     /* " (reason text)" */
    char *json;                     /* {"group":"CO","reason":"45","amount": */
    size_t json_len;
} report_code;

/* A code's entry in a report's code dictionary: "CO":"Contractual Obligations" */
typedef struct report_word {
    char code[8];
    char *json;
    size_t json_len;
} report_word;

/* The codes met so far (one writer: not thread-safe).  Zero-initialised is
 * empty; free with report_words_free. */
typedef struct report_words {
    report_code **codes;
    size_t ncodes;
    uint32_t *slots;            /* hash of codes: index + 1, 0 empty */
    size_t nslots;
    report_word *groups, *reasons;
    size_t ngroups, nreasons;
} report_words;

/* The words of a group and reason code (owned by w, stable until
 * report_words_free); NULL when out of memory.  A code the lists do not
 * know reads "unknown code"; a CARC stops before its "Usage:" note and a
 * group before the list's guidance (" -- "). */
const report_code *report_words_code(report_words *w, const char *group, const char *reason);
void report_words_free(report_words *w);

/* The CSV header line (with its '\n'). */
extern const char report_csv_header[];

/*
 * Append the row's CSV line (with '\n') to csv and its JSON object (no
 * separator, no newline) to json.  codes[i] are the words of adj[i] (from
 * report_words_code).  1, or 0 when out of memory (what was appended is
 * then partial: the caller drops the buffers' tails back to their lengths
 * before the call).
 */
int report_render(const report_row *row, const report_adj *adj, const report_code *const *codes, report_buf *csv,
                  report_buf *json);

/* Cents as "-12.34" at dst (room for 24 bytes); the length written. */
size_t report_cents(char *dst, int64_t cents);

/* s as a JSON string (quoted, escaped) appended to b; 0 when out of memory. */
int report_json_str(report_buf *b, const char *s, size_t n);

#endif
