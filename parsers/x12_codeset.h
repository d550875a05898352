/*
 * x12_codeset.h - shape checks of external code sets (validation level 5).
 *
 * These say whether a value *could* be a valid code, from its shape and
 * check digits alone: they need no code tables, so a value that passes may
 * still be retired or unassigned.  All take zero-copy views and never
 * allocate.  Each returns 1 when the value passes, 0 when it does not.
 */
#ifndef X12_CODESET_H
#define X12_CODESET_H

#include "x12_reader.h"

/* NPI: 10 digits whose last is the Luhn check digit computed over the
 * prefix 80840 followed by the first nine. */
int x12_npi_ok(x12_str s);

/* ICD-10-CM diagnosis without the dot: letter, digit, letter or digit, then
 * up to 4 letters or digits (3 to 7 characters). */
int x12_icd10cm_ok(x12_str s);

/* ICD-10-PCS procedure: 7 letters or digits, never the letters I or O. */
int x12_icd10pcs_ok(x12_str s);

/* ICD-9-CM diagnosis without the dot: 3-5 digits, V + 2-4 digits, or E + 3-4
 * digits. */
int x12_icd9dx_ok(x12_str s);

/* ICD-9-CM procedure without the dot: 3 or 4 digits. */
int x12_icd9px_ok(x12_str s);

/*
 * An HI composite's code by its qualifier (component 1): ICD-10-CM for
 * ABK, ABF, ABJ, ABN, APR, ICD-10-PCS for BBR, BBQ, ICD-9-CM for BK, BF,
 * BJ, BN, PR (diagnosis) and BR, BQ (procedure).  Other qualifiers (value,
 * condition, occurrence codes...) pass.  *what, when not NULL, receives the
 * name of the code set checked ("ICD-10-CM") or NULL.
 */
int x12_hi_ok(x12_str qualifier, x12_str code, const char **what);

/* A procedure code by its qualifier: for HC a CPT code (5 digits, or 4
 * digits and F, T or U) or a HCPCS level II code (a letter and 4 digits);
 * other qualifiers pass. */
int x12_proc_ok(x12_str qualifier, x12_str code);

/* A US state, DC, a territory (AS, GU, MP, PR, VI, FM, MH, PW) or a
 * military "state" (AA, AE, AP). */
int x12_state_ok(x12_str s);

/* 5 or 9 digits. */
int x12_zip_ok(x12_str s);

/* Health-care provider taxonomy: 9 letters or digits then X. */
int x12_taxonomy_ok(x12_str s);

/* Employer identification number: 9 digits. */
int x12_ein_ok(x12_str s);

/* A date-time value in the format its qualifier names: D8 (CCYYMMDD),
 * RD8 (CCYYMMDD-CCYYMMDD, not ending before it starts), DT (CCYYMMDDHHMM).
 * Other formats pass. */
int x12_dtp_ok(x12_str format, x12_str value);

#endif
