/*
 * x12_837_claims.h - read the claims out of an 837P or 837I, one at a time.
 *
 * A streaming extractor over the tokenizer: the callback receives each claim
 * (CLM and its lines, with the billing provider, subscriber, patient and
 * payer it sits under) as soon as the claim ends.  One claim is in memory at
 * a time.  It reads what is there and does not validate; run the validator
 * for that.  Used by the synthetic payer and by round-trip checks.
 */
#ifndef X12_837_CLAIMS_H
#define X12_837_CLAIMS_H

#include <stdint.h>

#include "ch_error.h"
#include "x12_reader.h"

#define X12_837_MAX_LINES 999

typedef struct x12_837_line {
    char procedure[49];      /* SV101-2 / SV202-2 */
    char qualifier[3];       /* SV101-1: HC, ... */
    char modifiers[4][3];
    char revenue_code[5];    /* SV201 (837I) */
    int64_t charge;          /* cents */
    int64_t units_milli;     /* thousandths */
    char date_from[9], date_to[9];
    char line_control[31];   /* REF*6R */
} x12_837_line;

typedef struct x12_837_claim {
    int institutional;            /* ST03 / GS08 is an 837I guide */
    char isa13[10], gs06[10], st02[10];
    char sender_id[16], receiver_id[16]; /* ISA06 / ISA08, trimmed */
    char billing_npi[81], billing_name[61], billing_tax_id[31];
    char payer_id[81], payer_name[61];
    char subscriber_id[81], subscriber_last[61], subscriber_first[36];
    char patient_last[61], patient_first[36]; /* the subscriber's when self */
    char pcn[39];                 /* CLM01 */
    int64_t charge;               /* CLM02, cents */
    char frequency[2];            /* CLM05-3 */
    char payer_claim_number[51];  /* REF*F8 */
    char date_from[9], date_to[9];/* claim service dates (from the lines or DTP*434) */
    unsigned nlines;
    x12_837_line *lines;          /* X12_837_MAX_LINES entries, owned by the scanner */
} x12_837_claim;

/* Return 0 to go on, anything else to stop the scan (returned by scan). */
typedef int (*x12_837_claim_fn)(void *ctx, const x12_837_claim *c);

/*
 * Read every claim from fd.  Returns CH_OK, CH_ERR_SYNTAX when the tokenizer
 * cannot go on (err says where), CH_ERR_NOMEM, or CH_ERR_INTERNAL when the
 * callback stopped the scan.
 */
ch_code x12_837_scan(int fd, const char *name, x12_837_claim_fn fn, void *ctx, ch_error *err);

#endif
