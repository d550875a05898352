/*
 * match_rules.h - how a payer's responses are matched to the claims we sent.
 *
 * Payers echo our patient control number (CLM01) back in the 835 CLP01 and
 * the 277CA TRN02, but not always as sent: some upper-case it, cut it to 14
 * characters, or put their own prefix before it.  The payer profile says so
 * in its `remittance:` mapping (docs/reconciliation.md has the full
 * reference and examples):
 *
 *     remittance:
 *       pcn_transform: [upper, strip_prefix: "ACME-", truncate: 14]
 *       line_match: ref_6r | procedure
 *       fallback: patient_dates_charge
 *       expected_allowed: {"99213": "95.00", "97110": "31.20"}
 *       underpayment_tolerance: "0.50"
 *
 * The rules are data, read once with match_rules_parse(); matching itself is
 * one driver, match_claim(), that asks the ledger through a narrow callback
 * interface (match_lookup) and never guesses: two candidates for one claim
 * make it ambiguous, and ambiguous or unmatched claims go to the worklist.
 *
 * The payer key.  The transform steps applied to a PCN give its payer key:
 * what the payer will echo, reduced to a form that the echo reduces to as
 * well (for `upper, truncate: 14` the key of "abc-0000012345678" and of the
 * echo "ABC-0000012345" are both "ABC-0000012345").  The ledger indexes each
 * open claim under its PCN and its payer key (match_pcn_key()); by_pcn finds a
 * claim by either.
 */
#ifndef MATCH_RULES_H
#define MATCH_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "ch_error.h"
#include "remit_835.h"
#include "status_277ca_reader.h"

#define MATCH_MAX_STEPS 16
#define MATCH_MAX_KEYS 4     /* keys match_pcn_candidates() yields at most */
#define MATCH_KEY_MAX 64     /* a key's size with its NUL (CLM01 is at most 38) */
#define MATCH_MAX_PREFIXES 8

typedef enum match_step_kind {
    MATCH_STEP_UPPER = 1,        /* upper */
    MATCH_STEP_LOWER,            /* lower */
    MATCH_STEP_TRIM,             /* trim: blanks at both ends */
    MATCH_STEP_STRIP_PREFIX,     /* strip_prefix: "ACME-" or ["A-", "B-"] */
    MATCH_STEP_STRIP_SUFFIX,     /* strip_suffix: "-01" or a list */
    MATCH_STEP_TRUNCATE,         /* truncate: 14 */
    MATCH_STEP_DELETE,           /* delete: "-. " (each of these characters) */
    MATCH_STEP_STRIP_ZEROS,      /* strip_leading_zeros */
} match_step_kind;

typedef struct match_step {
    match_step_kind kind;
    unsigned n;                                /* truncate length */
    char args[MATCH_MAX_PREFIXES][MATCH_KEY_MAX]; /* prefixes, suffixes, characters */
    unsigned nargs;
} match_step;

typedef enum match_line_method {
    MATCH_LINE_REF_6R = 1,   /* REF*6R of the SVC = the line item control number we sent */
    MATCH_LINE_PROCEDURE,    /* procedure (as billed), then modifiers, date, charge */
} match_line_method;

typedef enum match_fallback {
    MATCH_FALLBACK_NONE = 0,
    MATCH_FALLBACK_PATIENT_DATES_CHARGE, /* member id + service dates + total charge */
} match_fallback;

typedef struct match_fee {
    char key[24];        /* "99213", or "99213:25" for a procedure with a modifier */
    int64_t cents;       /* expected allowed amount per unit */
} match_fee;

typedef struct match_rules {
    match_step steps[MATCH_MAX_STEPS];
    unsigned nsteps;
    match_line_method line_match[4];
    unsigned nline_match;
    match_fallback fallback;
    match_fee *fees;     /* sorted by key; owned */
    size_t nfees;
    int64_t underpayment_tolerance; /* cents; a line is underpaid below expected - this */
} match_rules;

/* Defaults: no transform, line_match ref_6r | procedure, fallback
 * patient_dates_charge, no expected amounts, tolerance 0. */
void match_rules_init(match_rules *r);
void match_rules_free(match_rules *r);

/*
 * Read the `remittance:` mapping `node` of a parsed payer profile into *out
 * (initialised here; free with match_rules_free, also after an error).
 * Unknown keys and bad values are CH_ERR_CONFIG with the key path and the
 * line and column in err ("remittance.pcn_transform[2]: truncate needs a
 * number from 1 to 63 (line 4, column 38)"); CH_ERR_NOMEM.
 */
ch_code match_rules_parse(yaml_document_t *doc, yaml_node_t *node, match_rules *out,
                          ch_error *err);

/* The same from YAML text: a document whose root mapping holds `remittance:`
 * (a whole payer profile; other keys are left alone) or whose root mapping is
 * the remittance mapping itself when `root_is_remittance`.  No remittance key:
 * the defaults.  CH_ERR_SYNTAX for text that is not YAML. */
ch_code match_rules_parse_text(const char *text, size_t len, int root_is_remittance,
                               match_rules *out, ch_error *err);

/* The payer key of a PCN (see above) into out (size >= MATCH_KEY_MAX is
 * enough).  Returns the key's length. */
size_t match_pcn_key(const match_rules *r, const char *pcn, char *out, size_t size);

/*
 * The keys to try, in order, for a PCN as received: the PCN itself (blanks
 * trimmed), then its payer key when that differs.  Returns how many
 * (0 for an empty PCN).
 */
unsigned match_pcn_candidates(const match_rules *r, const char *observed,
                              char out_keys[][MATCH_KEY_MAX], unsigned max);

/* --- the ledger, as matching sees it --------------------------------------- */

typedef struct claim_line_ref {
    uint32_t line_no;          /* LX of the line we sent */
    const char *control;       /* REF*6R we sent, or NULL */
    const char *procedure;     /* "99213" */
    const char *modifiers[4];  /* NULL when absent */
    int64_t charge;            /* SV102 in cents */
    const char *date;          /* CCYYMMDD of DTP*472 (the first day) */
} claim_line_ref;

typedef struct claim_ref {
    uint64_t id;               /* the ledger's own claim id */
    const char *pcn;           /* CLM01 as sent */
    int64_t charge;            /* CLM02 */
    const claim_line_ref *lines;
    size_t nlines;
    void *user;                /* anything the ledger wants back */
} claim_ref;

/* What the fallback looks up: all fields are as the payer sent them. */
typedef struct match_patient_query {
    const char *member_id;     /* NM1*QC09 (NM1*IL09 when absent) */
    const char *last_name;     /* NM1*QC03: may help the ledger; not required to match */
    const char *date_from;     /* CCYYMMDD: claim dates, or the span of the line dates */
    const char *date_to;
    int64_t charge;            /* CLP03 total charge */
} match_patient_query;

/* Returned by by_pcn when several open claims have the key. */
extern const claim_ref match_many_claims;
#define MATCH_MANY (&match_many_claims)

typedef struct match_lookup {
    /* The claim whose PCN or payer key is key; NULL when none; MATCH_MANY
     * when several. */
    const claim_ref *(*by_pcn)(void *ctx, const char *key);
    /* Open claims for this member with these service dates and this total
     * charge: stores up to max of them in out and returns how many there are
     * (may be more than max).  May be NULL: no fallback. */
    size_t (*by_patient_dates_charge)(void *ctx, const match_patient_query *q,
                                      const claim_ref **out, size_t max);
    /* The claim with this clearinghouse trace number (the REF*D9 we sent;
     * unique per claim, so never ambiguous).  May be NULL. */
    const claim_ref *(*by_trace)(void *ctx, const char *trace);
    void *ctx;
} match_lookup;

typedef enum match_status {
    MATCH_UNMATCHED = 0,  /* no candidate: worklist */
    MATCH_MATCHED,        /* exactly one */
    MATCH_AMBIGUOUS,      /* two or more: worklist, never a guess */
} match_status;

typedef enum match_how {
    MATCH_HOW_NONE = 0,
    MATCH_HOW_TRACE,      /* REF*D9 */
    MATCH_HOW_PCN,        /* the PCN as received */
    MATCH_HOW_PAYER_KEY,  /* the PCN after the payer's transform */
    MATCH_HOW_FALLBACK,   /* member + dates + charge */
} match_how;

typedef struct match_query {
    const char *pcn;      /* CLP01 / TRN02 as received */
    const char *trace;    /* REF*D9 as received, or NULL */
    match_patient_query patient;
    char span_from[9], span_to[9]; /* storage for dates taken from lines */
} match_query;

typedef struct match_result {
    match_status status;
    match_how how;
    const claim_ref *claim;   /* when matched */
    size_t ncandidates;       /* when ambiguous (0 when unknown: by_pcn said many) */
    char key[MATCH_KEY_MAX];  /* the key that decided */
    char why[200];            /* in words, without PHI: for the worklist */
} match_result;

/* Fill a query from an 835 claim / a 277CA claim (pointers into them). */
void match_query_from_835(const remit_claim *c, match_query *q);
void match_query_from_277(const status_277_claim *c, match_query *q);

/*
 * Find the claim: the trace (when given and by_trace is set), then each PCN
 * key in turn (the first key that finds anything decides: one claim matches,
 * MATCH_MANY is ambiguous), then the fallback when the rules ask for it
 * (one candidate matches, two or more are ambiguous).
 */
void match_claim(const match_rules *r, const match_lookup *lk, const match_query *q,
                 match_result *out);

/* --- lines ----------------------------------------------------------------- */

typedef struct match_line_result {
    match_status status;
    match_line_method how;    /* when matched */
    int ledger_line;          /* index into claim_ref.lines, -1 when none */
} match_line_result;

/*
 * Match each service line of an 835 claim (out has c->nlines entries) to
 * the lines of the ledger claim, by the rules' methods in order; a ledger line
 * is used once.  Lines that cannot be told apart (same procedure, modifiers,
 * date and charge) are taken in order; other ties are ambiguous.  Returns how
 * many lines matched.
 */
unsigned match_lines(const match_rules *r, const remit_claim *c, const claim_ref *ledger,
                     match_line_result *out);

/* --- underpayment ----------------------------------------------------------- */

/* The expected allowed amount per unit for a procedure ("99213" with its
 * modifiers: "99213:25" is tried first).  Returns 1 and *cents, or 0. */
int match_expected_allowed(const match_rules *r, const char *procedure, const char (*mods)[3],
                           unsigned nmod, int64_t *cents);

typedef struct match_underpayment {
    int64_t expected;    /* expected allowed x units */
    int64_t allowed;     /* AMT*B6, else paid + patient responsibility */
    int64_t shortfall;   /* expected - allowed */
} match_underpayment;

/* 1 when the profile expects an allowed amount for the line's procedure and
 * the payer allowed less (beyond the tolerance); denied lines (nothing paid
 * or owed) and reversals are not underpayments. */
int match_line_underpaid(const match_rules *r, const remit_claim *c, const remit_line *l,
                         match_underpayment *out);

#endif
