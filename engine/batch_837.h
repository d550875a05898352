/*
 * batch_837.h - writing 837P (005010X222A1) and 837I (005010X223A2)
 * segments for one practice and payer.  Internal to batching (batch.c).
 *
 * The hierarchy in every transaction set is
 *     2000A billing provider (HL 1, the practice)
 *       2000B subscriber (one per claim)
 *         2000C patient (only when the patient is not the subscriber)
 * with the claim (2300) under the subscriber when the patient is the
 * subscriber, and under the patient otherwise.
 *
 * A claim is written on its own (batch_837_claim) so that one that cannot be
 * written (a value holding a delimiter, a segment too long) fails alone; the
 * caller decides which transaction set it goes in and numbers its HLs.
 * All functions write through an x12_writer and return its errors
 * (CH_ERR_INVALID naming the element, CH_ERR_LIMIT, CH_ERR_IO).
 */
#ifndef BATCH_837_H
#define BATCH_837_H

#include <time.h>

#include "config.h"
#include "encounter.h"
#include "x12_writer.h"

typedef struct batch_837_ctx {
    const config_practice *practice;
    const config_payer_link *link;
    const payer_profile *profile;
    encounter_type type;
    struct tm now;              /* the file's creation time (ISA09/10, GS04/05, BHT04/05) */
} batch_837_ctx;

/* "005010X222A1" or "005010X223A2" */
const char *batch_837_version(encounter_type t);

/* ISA (fixed width, written directly) and GS.  isa13/gs06 are the control
 * numbers. */
ch_code batch_837_isa(x12_writer *w, const batch_837_ctx *c, uint64_t isa13, ch_error *err);
ch_code batch_837_gs(x12_writer *w, const batch_837_ctx *c, uint64_t gs06, ch_error *err);

/* ST, BHT, 1000A submitter, 1000B receiver and the 2000A billing provider
 * loop (HL 1).  Resets w->count, so that after the claims and
 * batch_837_se() the count is SE01. */
ch_code batch_837_st(x12_writer *w, const batch_837_ctx *c, const char *st02, const char *bht03, ch_error *err);

/*
 * One claim: 2000B (HL hl, parent 1) [2000C (HL hl + 1)] 2300 2310x 2400.
 * *hl_used is set to the HL numbers it took (1 or 2).  pcn is CLM01.
 */
ch_code batch_837_claim(x12_writer *w, const batch_837_ctx *c, const encounter *e, const char *pcn, unsigned hl,
                        unsigned *hl_used, ch_error *err);

ch_code batch_837_se(x12_writer *w, const char *st02, ch_error *err);
ch_code batch_837_ge(x12_writer *w, unsigned nsets, uint64_t gs06, ch_error *err);
ch_code batch_837_iea(x12_writer *w, uint64_t isa13, ch_error *err);

#endif
