/*
 * encounter_fields.c - the field table (every leaf, group and list a
 * document may hold) and the lookups by path (see encounter.h,
 * encounter_int.h).
 */
#include <stddef.h>
#include <string.h>

#include "encounter.h"
#include "encounter_int.h"

/* --- the field table -------------------------------------------------------
 *
 * One row per thing a document may hold.  The reader, the ledger form
 * (pack/unpack), payer rules and the equality test all walk this table, so
 * adding a field is adding a row (and a struct member).  Groups (mappings)
 * and lists are rows too, so that "is this key known?" is one lookup.
 * (The kinds and the row type are in encounter_int.h.)
 */
#define SZ(type, m) ((unsigned short)sizeof(((type *)0)->m))
#define F(p, k, phi, m) {p, k, phi, 0, (unsigned short)offsetof(encounter, m), SZ(encounter, m)}
#define L(p, k, phi, m) {p, k, phi, 1, (unsigned short)offsetof(enc_line, m), SZ(enc_line, m)}
#define G(p) {p, K_GROUP, 0, 0, 0, 0}
#define PERSON(pre, m)                                                                      \
    F(pre ".last_name", K_TEXT, 1, m.last_name), F(pre ".first_name", K_TEXT, 1, m.first_name), \
    F(pre ".middle_name", K_TEXT, 1, m.middle_name), F(pre ".suffix", K_TEXT, 1, m.suffix),     \
    F(pre ".birth_date", K_DATE, 1, m.birth_date), F(pre ".sex", K_CODE, 0, m.sex),             \
    G(pre ".address"), F(pre ".address.line1", K_TEXT, 1, m.address.line1),                    \
    F(pre ".address.line2", K_TEXT, 1, m.address.line2),                                        \
    F(pre ".address.city", K_TEXT, 1, m.address.city),                                          \
    F(pre ".address.state", K_CODE, 0, m.address.state),                                        \
    F(pre ".address.zip", K_ZIP, 1, m.address.zip)
#define PROVIDER(pre, m)                                                                          \
    G(pre), F(pre ".npi", K_CODE, 0, m.npi), F(pre ".last_name", K_TEXT, 0, m.last_name),             \
    F(pre ".first_name", K_TEXT, 0, m.first_name), F(pre ".middle_name", K_TEXT, 0, m.middle_name), \
    F(pre ".taxonomy", K_CODE, 0, m.taxonomy)

const encounter_field encounter_fields[] = {
    F("encounter_id", K_ID, 0, encounter_id),
    F("practice", K_ID, 0, practice),
    F("payer", K_ID, 0, payer),
    {"claim_type", K_TYPE, 0, 0, (unsigned short)offsetof(encounter, type), SZ(encounter, type)},
    {"frequency", K_FREQ, 0, 0, (unsigned short)offsetof(encounter, frequency), SZ(encounter, frequency)},
    F("payer_claim_number", K_ID, 0, payer_claim_number),
    F("prior_authorization", K_ID, 0, prior_authorization),
    F("referral_number", K_ID, 0, referral_number),
    F("medical_record_number", K_ID, 1, medical_record_number),
    {"total_charge", K_MONEY, 0, 0, (unsigned short)offsetof(encounter, stated_total), SZ(encounter, stated_total)},
    F("place_of_service", K_CODE, 0, place_of_service),
    F("onset_date", K_DATE, 1, onset_date),
    G("subscriber"),
    F("subscriber.member_id", K_ID, 1, member_id),
    F("subscriber.group_number", K_ID, 0, group_number),
    PERSON("subscriber", subscriber),
    G("patient"),
    {"patient.relationship", K_REL, 0, 0, (unsigned short)offsetof(encounter, relationship), SZ(encounter, relationship)},
    PERSON("patient", patient),
    G("providers"),
    PROVIDER("providers.rendering", rendering),
    PROVIDER("providers.referring", referring),
    PROVIDER("providers.attending", attending),
    PROVIDER("providers.operating", operating),
    {"diagnoses", K_DXLIST, 1, 0, (unsigned short)offsetof(encounter, diagnoses), SZ(encounter, diagnoses)},
    G("institutional"),
    F("institutional.type_of_bill", K_CODE, 0, type_of_bill),
    F("institutional.statement_from", K_DATE, 1, statement_from),
    F("institutional.statement_to", K_DATE, 1, statement_to),
    F("institutional.admission_date", K_DATE, 1, admission_date),
    F("institutional.admission_hour", K_HOUR, 0, admission_hour),
    F("institutional.admission_type", K_CODE, 0, admission_type),
    F("institutional.admission_source", K_CODE, 0, admission_source),
    F("institutional.discharge_hour", K_HOUR, 0, discharge_hour),
    F("institutional.patient_status", K_CODE, 0, patient_status),
    F("institutional.admitting_diagnosis", K_DX, 1, admitting_diagnosis),
    {"lines", K_LINES, 0, 0, 0, 0},
    L("lines[].procedure", K_CODE, 0, procedure),
    {"lines[].modifiers", K_MODLIST, 0, 1, (unsigned short)offsetof(enc_line, modifiers), SZ(enc_line, modifiers)},
    L("lines[].units", K_UNITS, 0, units_milli),
    L("lines[].charge", K_MONEY, 0, charge),
    L("lines[].date", K_DATE, 1, date_from),
    L("lines[].date_to", K_DATE, 1, date_to),
    L("lines[].place_of_service", K_CODE, 0, place_of_service),
    {"lines[].diagnosis_pointers", K_PTRLIST, 0, 1, (unsigned short)offsetof(enc_line, pointers), SZ(enc_line, pointers)},
    L("lines[].revenue_code", K_CODE, 0, revenue_code),
};
#define NFIELDS (sizeof encounter_fields / sizeof encounter_fields[0])
const unsigned encounter_nfields = NFIELDS;

short encounter_htab[ENCOUNTER_HSIZE];
pthread_once_t encounter_htab_once = PTHREAD_ONCE_INIT;

void encounter_htab_build(void)
{
    for (unsigned i = 0; i < ENCOUNTER_HSIZE; i++)
        encounter_htab[i] = -1;
    for (unsigned i = 0; i < NFIELDS; i++) {
        const char *p = encounter_fields[i].path;
        unsigned h = encounter_phash(p, strlen(p)) & (ENCOUNTER_HSIZE - 1);
        while (encounter_htab[h] >= 0)
            h = (h + 1) & (ENCOUNTER_HSIZE - 1);
        encounter_htab[h] = (short)i;
    }
}

const encounter_field *encounter_field_find(const char *path)
{
    char g[128];
    long idx;
    size_t n = encounter_generic_path(path, strlen(path), g, sizeof g, &idx);
    const encounter_field *f = encounter_field_lookup(g, n);
    return f && f->kind != K_GROUP && f->kind != K_LINES ? f : NULL;
}

const char *encounter_field_path(const encounter_field *f) { return f->path; }
int encounter_field_is_phi(const encounter_field *f) { return f->phi; }
int encounter_field_is_line(const encounter_field *f) { return f->line; }
int encounter_field_is_list(const encounter_field *f) { return encounter_is_list(f); }
