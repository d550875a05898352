/*
 * encounter.h - one encounter (a visit or a stay to bill), as the practice
 * sends it, and its compact form in the ledger.
 *
 * The document format (YAML or JSON) is described in docs/encounters.md.
 * Reading (encounter_read) turns a document into a struct encounter and
 * reports every problem of form by field path: unknown fields, wrong kinds
 * (a list where a value belongs), values too long, amounts, dates and enums
 * that cannot be read.  Meaning (code sets, required fields, cross-field
 * rules) is checked afterwards by encounter_check() (encounter_check.h).
 *
 * Values are kept normalized: dates as CCYYMMDD, money as integer cents,
 * units in thousandths, diagnosis codes without the dot, ZIP codes and tax
 * ids without dashes.  Strings are fixed arrays sized by the X12 element
 * they end up in, so an encounter is one allocation plus its lines.
 *
 * PHI: an encounter holds names, member ids, birth dates and diagnoses.
 * Problem messages produced here never quote those values; fields marked
 * `phi` in the field table are reported by path only.
 */
#ifndef ENCOUNTER_H
#define ENCOUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"
#include "ydoc.h"

#define ENC_MAX_DX 25           /* principal + 24 others (837I); 837P takes 12 */
#define ENC_MAX_DX_PROF 12
#define ENC_MAX_MODIFIERS 4
#define ENC_MAX_POINTERS 4
#define ENC_MAX_LINES 999       /* 837I 2400 loop; 837P allows 50 */
#define ENC_MAX_LINES_PROF 50

typedef enum encounter_type { ENC_TYPE_NONE = 0, ENC_PROFESSIONAL = 1, ENC_INSTITUTIONAL = 2 } encounter_type;

/* Claim frequency, the X12 code (CLM05-3) as the value. */
typedef enum encounter_frequency {
    ENC_FREQ_NONE = 0,
    ENC_ORIGINAL = 1,
    ENC_REPLACEMENT = 7,
    ENC_VOID = 8
} encounter_frequency;

/* The patient's relationship to the subscriber. */
typedef enum encounter_relationship {
    ENC_REL_NONE = 0,
    ENC_SELF,    /* SBR02 18, no patient loop */
    ENC_SPOUSE,  /* PAT01 01 */
    ENC_CHILD,   /* PAT01 19 */
    ENC_OTHER    /* PAT01 G8 */
} encounter_relationship;

typedef struct enc_address {
    char line1[56], line2[56]; /* N301, N302 */
    char city[31];             /* N401 */
    char state[3];             /* N402 */
    char zip[10];              /* N403: 5 or 9 digits */
} enc_address;

typedef struct enc_person {
    char last_name[61];   /* NM103 */
    char first_name[36];  /* NM104 */
    char middle_name[26]; /* NM105 */
    char suffix[11];      /* NM107 */
    char birth_date[9];   /* DMG02, CCYYMMDD */
    char sex[2];          /* DMG03: F, M, U */
    enc_address address;
} enc_person;

typedef struct enc_provider {
    char npi[11];          /* NM109 (XX) */
    char last_name[61];    /* NM103: a person's last name */
    char first_name[36];   /* NM104 */
    char middle_name[26];  /* NM105 */
    char taxonomy[11];     /* PRV03 */
} enc_provider;

typedef struct enc_line {
    char procedure[6];                       /* SV101-2 / SV202-2: CPT or HCPCS */
    char modifiers[ENC_MAX_MODIFIERS][3];    /* SV101-3..6 */
    unsigned nmodifiers;
    int64_t units_milli;                     /* SV104 / SV205, thousandths */
    int64_t charge;                          /* SV102 / SV203, cents */
    char date_from[9], date_to[9];           /* DTP*472; date_to "" = one day */
    char place_of_service[3];                /* SV105 (837P, when not the claim's) */
    unsigned char pointers[ENC_MAX_POINTERS];/* SV107, 1-based into diagnoses */
    unsigned npointers;
    char revenue_code[5];                    /* SV201 (837I) */
} enc_line;

typedef struct encounter {
    char encounter_id[51];        /* the practice's id of the encounter */
    char practice[32];
    char payer[32];               /* a payer profile name */
    encounter_type type;
    encounter_frequency frequency;
    char payer_claim_number[51];  /* REF*F8, for replacement and void */
    char prior_authorization[51]; /* REF*G1 */
    char referral_number[51];     /* REF*9F */
    char medical_record_number[51]; /* REF*EA */

    enc_person subscriber;
    char member_id[81];           /* NM109 of 2010BA */
    char group_number[51];        /* SBR03 */
    encounter_relationship relationship;
    enc_person patient;           /* empty when relationship is self */

    enc_provider rendering, referring, attending, operating;

    char diagnoses[ENC_MAX_DX][8]; /* ICD-10-CM without the dot; [0] principal */
    unsigned ndiagnoses;
    char admitting_diagnosis[8];   /* 837I HI*ABJ */

    char place_of_service[3];     /* 837P CLM05-1 */
    char onset_date[9];           /* 837P DTP*431 */

    /* institutional */
    char type_of_bill[5];         /* 4 digits, e.g. 0111; last digit = frequency */
    char statement_from[9], statement_to[9];  /* DTP*434 */
    char admission_date[9];       /* DTP*435 */
    char admission_hour[3];
    char admission_type[2];       /* CL101 */
    char admission_source[2];     /* CL102 */
    char discharge_hour[3];       /* DTP*096 */
    char patient_status[3];       /* CL103 */

    int64_t total_charge;         /* the sum of the lines (computed when read) */
    int64_t stated_total;         /* total_charge as written, -1 when absent */

    enc_line *lines;              /* owned; encounter_clear() frees */
    unsigned nlines;
} encounter;

/* --- problems ------------------------------------------------------------ */

#define ENC_MAX_PROBLEMS 100

typedef struct encounter_problem {
    char path[96];   /* "lines[2].procedure"; "" for the document itself */
    char msg[224];   /* without PHI */
    unsigned line, col; /* in the source document, 0 when unknown */
} encounter_problem;

/* Problems found in one encounter; at most ENC_MAX_PROBLEMS are kept, the
 * rest only counted in `dropped`. */
typedef struct encounter_problems {
    encounter_problem v[ENC_MAX_PROBLEMS];
    unsigned n;
    unsigned dropped;
} encounter_problems;

/* Add a problem at path; the message is printf-formatted and must not hold
 * PHI (quote a value only when encounter_field_is_phi() says it is not). */
void encounter_problem_add(encounter_problems *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill line/col of each problem from the document it came from. */
void encounter_problems_locate(encounter_problems *p, const ydoc_node *doc);

/* --- reading ------------------------------------------------------------- */

/* Zero an encounter (stated_total -1, no lines). */
void encounter_init(encounter *e);
/* Free the lines and re-initialize. */
void encounter_clear(encounter *e);

/*
 * Read one encounter from a document node (a mapping).  Every problem is
 * added to probs; the function goes on after a problem so that one pass
 * names them all.  Returns CH_OK when no problem was added by this call,
 * CH_ERR_INVALID when some were, CH_ERR_NOMEM.  e is filled as far as it
 * could be read either way (call encounter_clear() after).
 */
ch_code encounter_read(encounter *e, const ydoc_node *doc, encounter_problems *probs);

/* --- field table ---------------------------------------------------------- */

/*
 * Every leaf of the document, by path: "subscriber.last_name",
 * "lines[].charge".  Payer rules name fields by these paths, and the
 * ledger form below uses them as keys.
 */
typedef struct encounter_field encounter_field;

/* The field with this path ("lines[].units" or "lines[3].units"), or NULL. */
const encounter_field *encounter_field_find(const char *path);
const char *encounter_field_path(const encounter_field *f);
/* 1 when the field holds PHI: problems about it never quote its value. */
int encounter_field_is_phi(const encounter_field *f);
/* 1 for a field of a service line ("lines[].x"). */
int encounter_field_is_line(const encounter_field *f);
/* 1 for a list field (diagnoses, modifiers, diagnosis pointers). */
int encounter_field_is_list(const encounter_field *f);

/*
 * The value of field f as text, into buf (size bytes): money as "125.5",
 * units as "1.5", enums as their document words, dates as CCYYMMDD.  For
 * line fields, line is the 0-based line; for list fields, item selects the
 * item (0-based).  Returns the number of values the field holds (0 when
 * empty, the item count for lists); buf is "" when there is none.
 */
unsigned encounter_field_get(const encounter *e, const encounter_field *f, unsigned line,
                             unsigned item, char *buf, size_t size);

/* --- the ledger form ------------------------------------------------------ */

/*
 * encounter_pack writes e as compact text: a first line "encounter/1",
 * then one "path=value" line per non-empty field in table order (lists
 * space-separated).  The form is stable across releases (new fields are
 * added, old ones never change meaning), so ledgers outlive binaries.
 * *out is malloc'd and owned by the caller; *len excludes the final NUL.
 * Returns CH_OK or CH_ERR_NOMEM.
 */
ch_code encounter_pack(const encounter *e, char **out, size_t *len, ch_error *err);

/* Read a packed encounter back into e (initialized by this call).
 * CH_ERR_INVALID (with the line that could not be read) or CH_ERR_NOMEM. */
ch_code encounter_unpack(encounter *e, const char *buf, size_t len, ch_error *err);
/* The same for the service lines (and the statement date) only, the rest
 * left empty and unread: what matching an 835's lines needs. */
ch_code encounter_unpack_lines(encounter *e, const char *buf, size_t len, ch_error *err);

/* The content hash of a packed encounter: SHA-256 as 64 hex digits + NUL. */
void encounter_hash(const char *packed, size_t len, char hex[65]);

/* Units (thousandths) as an X12 R value: 1000 -> "1", 1500 -> "1.5". */
void encounter_units_str(int64_t milli, char *buf, size_t size);

/* Words for enums, as written in documents ("professional", "replacement"). */
const char *encounter_type_name(encounter_type t);
const char *encounter_frequency_name(encounter_frequency f);
const char *encounter_relationship_name(encounter_relationship r);
/* "837P" / "837I" */
const char *encounter_type_x12(encounter_type t);

/* 1 when two encounters hold the same values (used by round-trip tests and
 * to tell a revision from a duplicate).  When they differ and diff is not
 * NULL, the path of the first difference is written to it. */
int encounter_equal(const encounter *a, const encounter *b, char *diff, size_t size);

#endif
