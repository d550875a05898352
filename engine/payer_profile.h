/*
 * payer_profile.h - what one payer expects: who it is in the envelopes,
 * which claims it takes, its batch limits, and its own edits as data.
 *
 * A profile is payer-profiles/<name>.yaml; encounters and the configuration
 * refer to it by <name>.  The format is described in docs/encounters.md
 * ("Payer profiles").  Edits are rules read by one engine
 * (payer_profile_check), never code per payer:
 *
 *   require    field must have a value           (e.g. providers.referring.npi)
 *   forbid     field must be empty
 *   allowed    field's value must be one of a list (lines[].place_of_service)
 *   pattern    field's value must match a POSIX extended regular expression
 *   max_lines  at most N service lines
 *   max_diagnoses  at most N diagnoses
 *
 * each optionally limited to one claim type, with an optional message.
 */
#ifndef PAYER_PROFILE_H
#define PAYER_PROFILE_H

#include <regex.h>

#include "ch_error.h"
#include "payer_schedule.h"
#include "encounter.h"
#include "match_rules.h"
#include "x12_reader.h"

typedef enum payer_rule_kind {
    PAYER_RULE_REQUIRE = 1,
    PAYER_RULE_FORBID,
    PAYER_RULE_ALLOWED,
    PAYER_RULE_PATTERN,
    PAYER_RULE_MAX_LINES,
    PAYER_RULE_MAX_DIAGNOSES
} payer_rule_kind;

typedef struct payer_rule {
    payer_rule_kind kind;
    unsigned claim_types;           /* bit 1 << encounter_type; 0: every type */
    const encounter_field *field;   /* require, forbid, allowed, pattern */
    char **values;                  /* allowed */
    size_t nvalues;
    regex_t re;                     /* pattern */
    int has_re;
    unsigned long limit;            /* max_lines, max_diagnoses */
    char message[160];              /* replaces the default message; no PHI */
} payer_rule;

struct transport_config;

typedef struct payer_profile {
    char name[32];              /* the file's base name: how others refer to it */
    char payer_id[81];          /* 2010BB NM109 (qualifier PI) */
    char payer_name[61];        /* 2010BB NM103 */
    char isa07[3];              /* receiver id qualifier, default ZZ */
    char isa08[16];             /* interchange receiver id */
    char gs03[16];              /* application receiver code */
    char receiver_id[81];       /* 1000B NM109 */
    char receiver_name[61];     /* 1000B NM103 */
    unsigned claim_types;       /* bit 1 << encounter_type */
    char usage;                 /* ISA15: 'T' test or 'P' production */
    int ack_requested;          /* ISA14 */
    char filing_indicator[3][3];/* SBR09 by encounter_type (index 1, 2) */
    unsigned long claims_per_transaction; /* 2300 loops per ST-SE */
    unsigned long claims_per_file;        /* per interchange (file) */
    x12_delims delims;
    payer_rule *rules;
    size_t nrules;
    payer_schedule schedule;    /* when the daemon works for this payer */
    sim_rules sim;              /* the answering side, for a demonstration payer */
    int has_sim;
    /* how batches reach the payer and responses come back (the `transport:`
     * section, docs/transport.md); NULL when the profile has none */
    struct transport_config *transport;
    match_rules remit;          /* `remittance:`: how its 277CA / 835 echo our PCNs
                                   (docs/reconciliation.md); the defaults when absent */
} payer_profile;

/*
 * Load payer-profiles/<name>.yaml (path), checking every setting and rule:
 * unknown settings, unknown field paths in rules, bad regular expressions
 * and impossible limits are CH_ERR_CONFIG naming the file and line.
 * CH_ERR_IO when the file cannot be read.  *out is owned by the caller:
 * payer_profile_free().
 */
ch_code payer_profile_load(payer_profile **out, const char *path, ch_error *err);

void payer_profile_free(payer_profile *p);

/* 1 when the payer takes claims of type t. */
int payer_profile_accepts(const payer_profile *p, encounter_type t);

/*
 * Apply the payer's edits to e; each failure is added to probs by field
 * path.  Returns CH_OK when none failed, CH_ERR_INVALID otherwise.
 */
ch_code payer_profile_check(const payer_profile *p, const encounter *e, encounter_problems *probs);

#endif
