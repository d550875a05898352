/* encounter_check.c - see encounter_check.h */
#include "encounter_check.h"

#include <stdio.h>
#include <string.h>

#include "x12_writer.h"

/* --- code shapes -------------------------------------------------------- */

static int digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

int encounter_valid_npi(const char *s)
{
    if (!digits(s, 10))
        return 0;
    /* Luhn over "80840" + all ten digits; the prefix adds 24 */
    unsigned sum = 24;
    for (int i = 9; i >= 0; i--) {
        unsigned v = (unsigned)(s[i] - '0');
        if ((9 - i) % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

int encounter_valid_icd10(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 7)
        return 0;
    if (s[0] < 'A' || s[0] > 'Z' || s[1] < '0' || s[1] > '9' || !alnum(s[2]))
        return 0;
    for (size_t i = 3; i < n; i++)
        if (!alnum(s[i]))
            return 0;
    return 1;
}

int encounter_valid_procedure(const char *s)
{
    if (strlen(s) != 5)
        return 0;
    if (digits(s, 5))
        return 1;
    int d4 = 1;
    for (int i = 0; i < 4; i++)
        d4 &= s[i] >= '0' && s[i] <= '9';
    if (d4 && (s[4] == 'F' || s[4] == 'T' || s[4] == 'U'))
        return 1; /* CPT category II / III, PLA codes */
    if (s[0] >= 'A' && s[0] <= 'V') {
        for (int i = 1; i < 5; i++)
            if (s[i] < '0' || s[i] > '9')
                return 0;
        return 1; /* HCPCS level II */
    }
    return 0;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

int encounter_valid_pos(const char *s)
{
    /* CMS place of service code set */
    static const char *const pos[] = {
        "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
        "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "31", "32", "33",
        "34", "41", "42", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
        "62", "65", "66", "71", "72", "81", "99", NULL};
    return in_list(s, pos);
}

int encounter_valid_state(const char *s)
{
    static const char *const st[] = {
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
        "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
        "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW",
        "AA", "AE", "AP", NULL};
    return in_list(s, st);
}

int encounter_valid_zip(const char *s) { return digits(s, 5) || digits(s, 9); }

int encounter_valid_taxonomy(const char *s)
{
    if (strlen(s) != 10 || s[9] != 'X')
        return 0;
    for (int i = 0; i < 9; i++)
        if (!alnum(s[i]))
            return 0;
    return 1;
}

int encounter_valid_revenue(const char *s) { return digits(s, 4) && s[0] == '0' && s[1] != '0'; }

/* --- the checks ----------------------------------------------------------- */

typedef struct ck {
    const encounter *e;
    const char *today;
    encounter_problems *p;
} ck;

#define PROB(c, path, ...) encounter_problem_add((c)->p, path, __VA_ARGS__)

/* Field paths are built for every encounter whether or not a problem is
 * found: by copying, not printf (which cost more than the checks). */
static const char *join(char *buf, size_t size, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > size - 1)
        na = size - 1;
    if (nb > size - 1 - na)
        nb = size - 1 - na;
    memcpy(buf, a, na);
    memcpy(buf + na, b, nb);
    buf[na + nb] = '\0';
    return buf;
}

/* "pre[i]rest", e.g. "lines[3].charge"; buf holds at least 64 bytes */
static const char *indexed(char *buf, size_t size, const char *pre, unsigned i, const char *rest)
{
    char num[16];
    size_t k = sizeof num;
    num[--k] = '\0';
    num[--k] = ']';
    do {
        num[--k] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    num[--k] = '[';
    char t[64];
    join(t, sizeof t, pre, num + k);
    return join(buf, size, t, rest);
}

static void need(ck *c, const char *v, const char *path, const char *why)
{
    if (!v[0])
        PROB(c, path, "required%s%s", why ? " " : "", why ? why : "");
}

static void not_future(ck *c, const char *date, const char *path)
{
    if (c->today && date[0] && strcmp(date, c->today) > 0)
        PROB(c, path, "is in the future");
}

static void address(ck *c, const enc_address *a, const char *path, int required)
{
    char p[128];
    int any = a->line1[0] || a->line2[0] || a->city[0] || a->state[0] || a->zip[0];
    if (!any && !required)
        return;
    if (!any) {
        PROB(c, path, "required");
        return;
    }
    join(p, sizeof p, path, ".line1");
    need(c, a->line1, p, NULL);
    join(p, sizeof p, path, ".city");
    need(c, a->city, p, NULL);
    join(p, sizeof p, path, ".state");
    if (!a->state[0])
        PROB(c, p, "required");
    else if (!encounter_valid_state(a->state))
        PROB(c, p, "'%s' is not a US state or territory code", a->state);
    join(p, sizeof p, path, ".zip");
    if (!a->zip[0])
        PROB(c, p, "required");
    else if (!encounter_valid_zip(a->zip))
        PROB(c, p, "not a ZIP code (5 or 9 digits)");
}

static void person(ck *c, const enc_person *s, const char *path, int demographics)
{
    char p[128];
    join(p, sizeof p, path, ".last_name");
    need(c, s->last_name, p, NULL);
    join(p, sizeof p, path, ".first_name");
    need(c, s->first_name, p, NULL);
    join(p, sizeof p, path, ".birth_date");
    if (demographics)
        need(c, s->birth_date, p, NULL);
    not_future(c, s->birth_date, p);
    join(p, sizeof p, path, ".sex");
    if (demographics && !s->sex[0])
        PROB(c, p, "required (F, M or U)");
    else if (s->sex[0] && strcmp(s->sex, "F") && strcmp(s->sex, "M") && strcmp(s->sex, "U"))
        PROB(c, p, "'%s' is not one of F, M, U", s->sex);
    join(p, sizeof p, path, ".address");
    address(c, &s->address, p, demographics);
}

static int provider_given(const enc_provider *v)
{
    return v->npi[0] || v->last_name[0] || v->first_name[0] || v->middle_name[0] || v->taxonomy[0];
}

static void provider(ck *c, const enc_provider *v, const char *name, int required)
{
    char path[64], p[96];
    join(path, sizeof path, "providers.", name);
    if (!provider_given(v)) {
        if (required)
            PROB(c, path, "required");
        return;
    }
    join(p, sizeof p, path, ".npi");
    if (!v->npi[0])
        PROB(c, p, "required");
    else if (!encounter_valid_npi(v->npi))
        PROB(c, p, "'%s' is not an NPI (10 digits with a valid check digit)", v->npi);
    join(p, sizeof p, path, ".last_name");
    need(c, v->last_name, p, NULL);
    join(p, sizeof p, path, ".taxonomy");
    if (v->taxonomy[0] && !encounter_valid_taxonomy(v->taxonomy))
        PROB(c, p, "'%s' is not a provider taxonomy code (9 letters or digits, then X)", v->taxonomy);
}

static void diagnoses(ck *c)
{
    const encounter *e = c->e;
    char p[64];
    if (!e->ndiagnoses)
        PROB(c, "diagnoses", "at least one diagnosis is required");
    if (e->type == ENC_PROFESSIONAL && e->ndiagnoses > ENC_MAX_DX_PROF)
        PROB(c, "diagnoses", "%u diagnoses; a professional claim takes at most %d", e->ndiagnoses,
             ENC_MAX_DX_PROF);
    for (unsigned i = 0; i < e->ndiagnoses; i++) {
        indexed(p, sizeof p, "diagnoses", i, "");
        if (!encounter_valid_icd10(e->diagnoses[i])) {
            PROB(c, p, "not an ICD-10-CM code");
            continue;
        }
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(e->diagnoses[i], e->diagnoses[j])) {
                PROB(c, p, "the same code as diagnoses[%u]", j);
                break;
            }
    }
}

static void claim_level(ck *c)
{
    const encounter *e = c->e;
    need(c, e->encounter_id, "encounter_id", NULL);
    need(c, e->payer, "payer", NULL);
    if (e->type == ENC_TYPE_NONE)
        PROB(c, "claim_type", "required (professional or institutional)");
    if (e->frequency == ENC_REPLACEMENT || e->frequency == ENC_VOID) {
        if (!e->payer_claim_number[0])
            PROB(c, "payer_claim_number", "required for a %s (the payer's number of the claim it %s)",
                 encounter_frequency_name(e->frequency), e->frequency == ENC_VOID ? "voids" : "replaces");
    } else if (e->payer_claim_number[0]) {
        PROB(c, "payer_claim_number", "only for a replacement or void (frequency is original)");
    }
    if (e->stated_total >= 0 && e->stated_total != e->total_charge) {
        char a[32], b[32];
        PROB(c, "total_charge", "%s does not equal the sum of the lines (%s)",
             x12_cents_str(e->stated_total, a), x12_cents_str(e->total_charge, b));
    }
}

static void people(ck *c)
{
    const encounter *e = c->e;
    static const enc_person nobody;
    need(c, e->member_id, "subscriber.member_id", NULL);
    int self = e->relationship == ENC_SELF;
    /* the subscriber's demographics and address are required when the
     * subscriber is the patient (2010BA DMG, N3/N4) */
    person(c, &e->subscriber, "subscriber", self);
    if (e->relationship == ENC_REL_NONE) {
        PROB(c, "patient.relationship", "required (self, spouse, child or other)");
    } else if (self) {
        if (memcmp(&e->patient, &nobody, sizeof nobody))
            PROB(c, "patient", "leave the patient's details out when the relationship is self "
                               "(the subscriber is the patient)");
    } else {
        person(c, &e->patient, "patient", 1);
    }
}

static int inpatient(const encounter *e)
{
    /* facility type + care: 011x hospital inpatient, 018x swing bed,
     * 021x skilled nursing inpatient, 041x religious non-medical */
    const char *t = e->type_of_bill;
    return strlen(t) == 4 && (!strncmp(t, "011", 3) || !strncmp(t, "018", 3) || !strncmp(t, "021", 3) ||
                              !strncmp(t, "041", 3));
}

static void institutional(ck *c)
{
    const encounter *e = c->e;
    if (e->type != ENC_INSTITUTIONAL) {
        if (e->type_of_bill[0] || e->statement_from[0] || e->statement_to[0] || e->admission_date[0] ||
            e->admission_hour[0] || e->admission_type[0] || e->admission_source[0] || e->discharge_hour[0] ||
            e->patient_status[0] || e->admitting_diagnosis[0])
            PROB(c, "institutional", "only for institutional claims");
        if (provider_given(&e->attending))
            PROB(c, "providers.attending", "only for institutional claims");
        if (provider_given(&e->operating))
            PROB(c, "providers.operating", "only for institutional claims");
        return;
    }
    if (e->place_of_service[0])
        PROB(c, "place_of_service", "only for professional claims (an institutional claim has a type of bill)");
    if (e->onset_date[0])
        PROB(c, "onset_date", "only for professional claims");
    const char *t = e->type_of_bill;
    if (!t[0]) {
        PROB(c, "institutional.type_of_bill", "required (4 digits, e.g. 0131)");
    } else if (strlen(t) != 4 || t[0] != '0' || t[1] < '1' || t[1] > '9' || t[2] < '0' || t[2] > '9' ||
               t[3] < '0' || t[3] > '9') {
        PROB(c, "institutional.type_of_bill", "'%s' is not a type of bill (4 digits, e.g. 0131)", t);
    } else if (t[3] - '0' != (int)e->frequency) {
        PROB(c, "institutional.type_of_bill", "'%s' ends in %c, but frequency is %s (%d)", t, t[3],
             encounter_frequency_name(e->frequency), (int)e->frequency);
    }
    need(c, e->statement_from, "institutional.statement_from", NULL);
    need(c, e->statement_to, "institutional.statement_to", NULL);
    not_future(c, e->statement_to, "institutional.statement_to");
    if (e->statement_from[0] && e->statement_to[0] && strcmp(e->statement_from, e->statement_to) > 0)
        PROB(c, "institutional.statement_to", "before statement_from");
    if (!e->patient_status[0])
        PROB(c, "institutional.patient_status", "required (2 digits, e.g. 01 discharged home)");
    else if (strlen(e->patient_status) != 2 || e->patient_status[0] < '0' || e->patient_status[0] > '9' ||
             e->patient_status[1] < '0' || e->patient_status[1] > '9')
        PROB(c, "institutional.patient_status", "'%s' is not a patient status code (2 digits)", e->patient_status);
    /* CL101 is required on every 837I claim, outpatient too (837I 2300 CL1) */
    need(c, e->admission_type, "institutional.admission_type", "on every institutional claim (CL101)");
    if (e->admission_type[0] && !strchr("123459", e->admission_type[0]))
        PROB(c, "institutional.admission_type", "'%s' is not an admission type (1-5 or 9)", e->admission_type);
    if (e->admission_source[0] && !alnum(e->admission_source[0]))
        PROB(c, "institutional.admission_source", "'%s' is not a point of origin code", e->admission_source);
    if (inpatient(e)) {
        need(c, e->admission_date, "institutional.admission_date", "on an inpatient claim");
        need(c, e->admission_source, "institutional.admission_source", "on an inpatient claim");
        need(c, e->admitting_diagnosis, "institutional.admitting_diagnosis", "on an inpatient claim");
    }
    if (e->admission_hour[0] && !e->admission_date[0])
        PROB(c, "institutional.admission_hour", "given without admission_date");
    if (e->admission_date[0] && e->statement_to[0] && strcmp(e->admission_date, e->statement_to) > 0)
        PROB(c, "institutional.admission_date", "after statement_to");
    if (e->admitting_diagnosis[0] && !encounter_valid_icd10(e->admitting_diagnosis))
        PROB(c, "institutional.admitting_diagnosis", "not an ICD-10-CM code");
}

static void lines(ck *c)
{
    const encounter *e = c->e;
    char p[96];
    int prof = e->type == ENC_PROFESSIONAL;
    if (!e->nlines) {
        PROB(c, "lines", "at least one service line is required");
        return;
    }
    if (prof && e->nlines > ENC_MAX_LINES_PROF)
        PROB(c, "lines", "%u service lines; a professional claim takes at most %d", e->nlines, ENC_MAX_LINES_PROF);
    if (prof && !e->place_of_service[0])
        PROB(c, "place_of_service", "required (2 digits, e.g. 11 office)");
    else if (prof && !encounter_valid_pos(e->place_of_service))
        PROB(c, "place_of_service", "'%s' is not a place of service code", e->place_of_service);
    for (unsigned i = 0; i < e->nlines; i++) {
        const enc_line *l = &e->lines[i];
#define LP(field) indexed(p, sizeof p, "lines", i, "." field)
        if (l->procedure[0] && !encounter_valid_procedure(l->procedure))
            PROB(c, LP("procedure"), "'%s' is not a CPT/HCPCS code", l->procedure);
        else if (!l->procedure[0] && prof)
            PROB(c, LP("procedure"), "required (a CPT or HCPCS code)");
        for (unsigned m = 0; m < l->nmodifiers; m++)
            if (strlen(l->modifiers[m]) != 2 || !alnum(l->modifiers[m][0]) || !alnum(l->modifiers[m][1])) {
                snprintf(p, sizeof p, "lines[%u].modifiers[%u]", i, m);
                PROB(c, p, "'%s' is not a modifier (2 letters or digits)", l->modifiers[m]);
            }
        if (l->nmodifiers && !l->procedure[0])
            PROB(c, LP("modifiers"), "modifiers need a procedure");
        if (l->charge < 0)
            PROB(c, LP("charge"), "required (e.g. 125.00)");
        if (!l->date_from[0]) {
            if (prof || l->date_to[0])
                PROB(c, LP("date"), "required (the date of service)");
        } else {
            not_future(c, l->date_from, LP("date"));
            if (e->subscriber.birth_date[0] && e->relationship == ENC_SELF &&
                strcmp(l->date_from, e->subscriber.birth_date) < 0)
                PROB(c, LP("date"), "before the patient's birth date");
            if (e->relationship != ENC_SELF && e->patient.birth_date[0] &&
                strcmp(l->date_from, e->patient.birth_date) < 0)
                PROB(c, LP("date"), "before the patient's birth date");
            if (!prof && e->statement_from[0] && e->statement_to[0] &&
                (strcmp(l->date_from, e->statement_from) < 0 || strcmp(l->date_from, e->statement_to) > 0))
                PROB(c, LP("date"), "outside the statement period");
        }
        if (l->date_to[0]) {
            not_future(c, l->date_to, LP("date_to"));
            if (l->date_from[0] && strcmp(l->date_to, l->date_from) < 0)
                PROB(c, LP("date_to"), "before the line's date");
        }
        if (prof) {
            if (l->place_of_service[0] && !encounter_valid_pos(l->place_of_service))
                PROB(c, LP("place_of_service"), "'%s' is not a place of service code", l->place_of_service);
            if (l->revenue_code[0])
                PROB(c, LP("revenue_code"), "only for institutional claims");
            for (unsigned k = 0; k < l->npointers; k++) {
                if (l->pointers[k] > e->ndiagnoses || l->pointers[k] > ENC_MAX_DX_PROF) {
                    snprintf(p, sizeof p, "lines[%u].diagnosis_pointers[%u]", i, k);
                    PROB(c, p, "%u points past the %u diagnoses", l->pointers[k], e->ndiagnoses);
                }
                for (unsigned j = 0; j < k; j++)
                    if (l->pointers[j] == l->pointers[k]) {
                        snprintf(p, sizeof p, "lines[%u].diagnosis_pointers[%u]", i, k);
                        PROB(c, p, "%u is listed twice", l->pointers[k]);
                        break;
                    }
            }
        } else if (e->type == ENC_INSTITUTIONAL) {
            if (!l->revenue_code[0])
                PROB(c, LP("revenue_code"), "required (4 digits, e.g. 0450)");
            else if (!encounter_valid_revenue(l->revenue_code))
                PROB(c, LP("revenue_code"), "'%s' is not a revenue code (4 digits, 0100 to 0999)", l->revenue_code);
            if (l->place_of_service[0])
                PROB(c, LP("place_of_service"), "only for professional claims");
            if (l->npointers)
                PROB(c, LP("diagnosis_pointers"), "only for professional claims");
        }
#undef LP
    }
}

ch_code encounter_check(const encounter *e, const char *today, encounter_problems *probs)
{
    unsigned before = probs->n + probs->dropped;
    ck c = {e, today && today[0] ? today : NULL, probs};
    claim_level(&c);
    people(&c);
    provider(&c, &e->rendering, "rendering", 0);
    provider(&c, &e->referring, "referring", 0);
    provider(&c, &e->attending, "attending", e->type == ENC_INSTITUTIONAL);
    provider(&c, &e->operating, "operating", 0);
    diagnoses(&c);
    institutional(&c);
    if (e->type == ENC_PROFESSIONAL && e->onset_date[0])
        not_future(&c, e->onset_date, "onset_date");
    lines(&c);
    return probs->n + probs->dropped > before ? CH_ERR_INVALID : CH_OK;
}
