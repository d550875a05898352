/*
 * encounter_check.h - what an encounter must say before it may become a
 * claim: required fields by claim type, code shapes (ICD-10-CM, CPT/HCPCS,
 * NPI, place of service, revenue codes, states, ZIP codes), and the rules
 * that tie fields together (dates in order, diagnosis pointers that point at
 * something, a payer claim number for a replacement, totals that add up).
 *
 * Every problem is named by field path, e.g.
 *     lines[2].procedure: 'ABC' is not a CPT/HCPCS code
 * Values are quoted only when they are not PHI (codes of procedures, places
 * of service, amounts); names, member ids, dates and diagnoses never are.
 *
 * Payer-specific edits come on top of these: payer_profile_check().
 */
#ifndef ENCOUNTER_CHECK_H
#define ENCOUNTER_CHECK_H

#include "encounter.h"

/*
 * Check e; add each problem to probs.  today is the current date as
 * CCYYMMDD (dates after it are refused), or NULL to skip that check.
 * Returns CH_OK when this call added no problem, else CH_ERR_INVALID.
 */
ch_code encounter_check(const encounter *e, const char *today, encounter_problems *probs);

/* --- code shapes, shared with the configuration checks ------------------- */

/* 10 digits with a valid Luhn check digit over the prefix 80840. */
int encounter_valid_npi(const char *s);
/* Letter, digit, letter-or-digit, then up to 4 letters or digits (no dot). */
int encounter_valid_icd10(const char *s);
/* CPT (5 digits, or 4 digits and F, T or U) or HCPCS level II (letter, 4 digits). */
int encounter_valid_procedure(const char *s);
/* A CMS place-of-service code. */
int encounter_valid_pos(const char *s);
/* A US state, territory or military postal code. */
int encounter_valid_state(const char *s);
/* 5 or 9 digits. */
int encounter_valid_zip(const char *s);
/* 9 letters or digits, then X. */
int encounter_valid_taxonomy(const char *s);
/* A NUBC revenue code for a service line: 4 digits, 0100 to 0999. */
int encounter_valid_revenue(const char *s);

#endif
