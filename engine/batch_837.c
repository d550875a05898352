/* batch_837.c - see batch_837.h */
#include "batch_837.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Numbers and amounts without printf: these run for every segment. */
static size_t put_u(char *out, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    out[n] = '\0';
    return n;
}

static void el_u(x12_writer *w, uint64_t v)
{
    char b[24];
    x12w_eln(w, b, put_u(b, v));
}

/* an amount in cents as an X12 R value: 12550 -> 125.5 */
static void el_cents(x12_writer *w, int64_t c)
{
    char b[32];
    size_t n = 0;
    uint64_t a = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    if (c < 0)
        b[n++] = '-';
    n += put_u(b + n, a / 100);
    unsigned f = (unsigned)(a % 100);
    if (f) {
        b[n++] = '.';
        b[n++] = (char)('0' + f / 10);
        if (f % 10)
            b[n++] = (char)('0' + f % 10);
    }
    x12w_eln(w, b, n);
}

/* "CCYYMMDD-CCYYMMDD" */
static void el_range(x12_writer *w, const char *from, const char *to)
{
    char b[20];
    memcpy(b, from, 8);
    b[8] = '-';
    memcpy(b + 9, to, 8);
    x12w_eln(w, b, 17);
}

const char *batch_837_version(encounter_type t)
{
    return t == ENC_INSTITUTIONAL ? "005010X223A2" : "005010X222A1";
}

/* A value that may not hold a delimiter (the writer checks elements, but
 * the ISA is written by hand). */
static int clean_id(const x12_writer *w, const char *s)
{
    for (; *s; s++)
        if (*s == w->d.element || *s == w->d.component || *s == w->d.segment || *s == w->d.repetition ||
            (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

ch_code batch_837_isa(x12_writer *w, const batch_837_ctx *c, uint64_t isa13, ch_error *err)
{
    const config_payer_link *l = c->link;
    const payer_profile *p = c->profile;
    if (!clean_id(w, l->submitter_qual) || !clean_id(w, l->submitter_id) || !clean_id(w, p->isa07) ||
        !clean_id(w, p->isa08))
        return ch_error_set(err, CH_ERR_INVALID, "ISA: a sender or receiver id holds a delimiter");
    char isa[160];
    /* ISA is fixed width: 106 bytes up to and including the terminator */
    int n = snprintf(isa, sizeof isa,
                     "ISA%c00%c          %c00%c          %c%-2.2s%c%-15.15s%c%-2.2s%c%-15.15s%c%02d%02d%02d%c%02d%02d"
                     "%c%c%c00501%c%09" PRIu64 "%c%c%c%c%c%c%c",
                     w->d.element, w->d.element, w->d.element, w->d.element, w->d.element, l->submitter_qual,
                     w->d.element, l->submitter_id, w->d.element, p->isa07, w->d.element, p->isa08, w->d.element,
                     c->now.tm_year % 100, c->now.tm_mon + 1, c->now.tm_mday, w->d.element, c->now.tm_hour,
                     c->now.tm_min, w->d.element, w->d.repetition, w->d.element, w->d.element, isa13, w->d.element,
                     p->ack_requested ? '1' : '0', w->d.element, p->usage, w->d.element, w->d.component,
                     w->d.segment);
    if (n != 106)
        return ch_error_set(err, CH_ERR_INTERNAL, "ISA: %d bytes instead of 106", n);
    if (w->newline && w->d.segment != '\n')
        isa[n++] = '\n';
    if (fwrite(isa, 1, (size_t)n, w->fp) != (size_t)n)
        return ch_error_set(err, CH_ERR_IO, "write failed: %s", strerror(errno));
    w->total++;
    w->bytes += (uint64_t)n;
    return CH_OK;
}

ch_code batch_837_gs(x12_writer *w, const batch_837_ctx *c, uint64_t gs06, ch_error *err)
{
    x12w_seg(w, "GS");
    x12w_el(w, "HC");
    x12w_el(w, c->link->submitter_id);
    x12w_el(w, c->profile->gs03);
    x12w_elf(w, "%04d%02d%02d", c->now.tm_year + 1900, c->now.tm_mon + 1, c->now.tm_mday);
    x12w_elf(w, "%02d%02d", c->now.tm_hour, c->now.tm_min);
    x12w_elf(w, "%" PRIu64, gs06);
    x12w_el(w, "X");
    x12w_el(w, batch_837_version(c->type));
    return x12w_end(w, err);
}

ch_code batch_837_ge(x12_writer *w, unsigned nsets, uint64_t gs06, ch_error *err)
{
    x12w_seg(w, "GE");
    x12w_elf(w, "%u", nsets);
    x12w_elf(w, "%" PRIu64, gs06);
    return x12w_end(w, err);
}

ch_code batch_837_iea(x12_writer *w, uint64_t isa13, ch_error *err)
{
    x12w_seg(w, "IEA");
    x12w_el(w, "1");
    x12w_elf(w, "%09" PRIu64, isa13);
    return x12w_end(w, err);
}

/* Stop at the first segment that fails. */
#define END(w, err)                                 \
    do {                                            \
        ch_code rc_ = x12w_end((w), (err));         \
        if (rc_ != CH_OK)                           \
            return rc_;                             \
    } while (0)

static ch_code address(x12_writer *w, const enc_address *a, ch_error *err)
{
    x12w_seg(w, "N3");
    x12w_el(w, a->line1);
    x12w_el(w, a->line2);
    END(w, err);
    x12w_seg(w, "N4");
    x12w_el(w, a->city);
    x12w_el(w, a->state);
    x12w_el(w, a->zip);
    END(w, err);
    return CH_OK;
}

ch_code batch_837_st(x12_writer *w, const batch_837_ctx *c, const char *st02, const char *bht03, ch_error *err)
{
    const config_practice *pr = c->practice;
    const config_payer_link *l = c->link;
    const payer_profile *p = c->profile;
    w->count = 0;
    x12w_seg(w, "ST");
    x12w_el(w, "837");
    x12w_el(w, st02);
    x12w_el(w, batch_837_version(c->type));
    END(w, err);
    x12w_seg(w, "BHT");
    x12w_el(w, "0019");
    x12w_el(w, "00");  /* original */
    x12w_el(w, bht03);
    x12w_elf(w, "%04d%02d%02d", c->now.tm_year + 1900, c->now.tm_mon + 1, c->now.tm_mday);
    x12w_elf(w, "%02d%02d", c->now.tm_hour, c->now.tm_min);
    x12w_el(w, "CH"); /* chargeable */
    END(w, err);
    /* 1000A submitter */
    x12w_seg(w, "NM1");
    x12w_el(w, "41");
    x12w_el(w, "2");
    x12w_el(w, l->submitter_name);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, "46");
    x12w_el(w, l->submitter_id);
    END(w, err);
    x12w_seg(w, "PER");
    x12w_el(w, "IC");
    x12w_el(w, l->contact_name);
    if (l->contact_phone[0]) {
        x12w_el(w, "TE");
        x12w_el(w, l->contact_phone);
    }
    if (l->contact_email[0]) {
        x12w_el(w, "EM");
        x12w_el(w, l->contact_email);
    }
    END(w, err);
    /* 1000B receiver */
    x12w_seg(w, "NM1");
    x12w_el(w, "40");
    x12w_el(w, "2");
    x12w_el(w, p->receiver_name);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, "46");
    x12w_el(w, p->receiver_id);
    END(w, err);
    /* 2000A billing provider */
    x12w_seg(w, "HL");
    x12w_el(w, "1");
    x12w_el(w, NULL);
    x12w_el(w, "20");
    x12w_el(w, "1");
    END(w, err);
    if (pr->taxonomy[0]) {
        x12w_seg(w, "PRV");
        x12w_el(w, "BI");
        x12w_el(w, "PXC");
        x12w_el(w, pr->taxonomy);
        END(w, err);
    }
    x12w_seg(w, "NM1");
    x12w_el(w, "85");
    x12w_el(w, "2");
    x12w_el(w, pr->name);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, "XX");
    x12w_el(w, pr->npi);
    END(w, err);
    ch_code rc = address(w, &pr->address, err);
    if (rc != CH_OK)
        return rc;
    x12w_seg(w, "REF");
    x12w_el(w, "EI");
    x12w_el(w, pr->tax_id);
    END(w, err);
    return CH_OK;
}

ch_code batch_837_se(x12_writer *w, const char *st02, ch_error *err)
{
    x12w_seg(w, "SE");
    el_u(w, w->count + 1);
    x12w_el(w, st02);
    return x12w_end(w, err);
}

/* NM1 for a person: NM1*<code>*1*LAST*FIRST*MIDDLE**SUFFIX[*<q>*<id>] */
static ch_code person_nm1(x12_writer *w, const char *code, const char *last, const char *first, const char *middle,
                          const char *suffix, const char *qual, const char *id, ch_error *err)
{
    x12w_seg(w, "NM1");
    x12w_el(w, code);
    x12w_el(w, "1");
    x12w_el(w, last);
    x12w_el(w, first);
    x12w_el(w, middle);
    x12w_el(w, NULL);
    x12w_el(w, suffix);
    if (id && id[0]) {
        x12w_el(w, qual);
        x12w_el(w, id);
    }
    END(w, err);
    return CH_OK;
}

static int has_address(const enc_address *a) { return a->line1[0] != '\0'; }

static ch_code demographics(x12_writer *w, const enc_person *p, ch_error *err)
{
    if (has_address(&p->address)) {
        ch_code rc = address(w, &p->address, err);
        if (rc != CH_OK)
            return rc;
    }
    if (p->birth_date[0]) {
        x12w_seg(w, "DMG");
        x12w_el(w, "D8");
        x12w_el(w, p->birth_date);
        x12w_el(w, p->sex[0] ? p->sex : "U");
        END(w, err);
    }
    return CH_OK;
}

static int provider_given(const enc_provider *v) { return v->npi[0] != '\0'; }

static ch_code provider(x12_writer *w, const char *code, const enc_provider *v, const char *prv_code,
                        ch_error *err)
{
    ch_code rc = person_nm1(w, code, v->last_name, v->first_name, v->middle_name, NULL, "XX", v->npi, err);
    if (rc != CH_OK)
        return rc;
    if (prv_code && v->taxonomy[0]) {
        x12w_seg(w, "PRV");
        x12w_el(w, prv_code);
        x12w_el(w, "PXC");
        x12w_el(w, v->taxonomy);
        END(w, err);
    }
    return CH_OK;
}

static ch_code ref(x12_writer *w, const char *qual, const char *v, ch_error *err)
{
    if (!v[0])
        return CH_OK;
    x12w_seg(w, "REF");
    x12w_el(w, qual);
    x12w_el(w, v);
    END(w, err);
    return CH_OK;
}

static ch_code service_date(x12_writer *w, const enc_line *l, ch_error *err)
{
    if (!l->date_from[0])
        return CH_OK;
    x12w_seg(w, "DTP");
    x12w_el(w, "472");
    if (l->date_to[0] && strcmp(l->date_to, l->date_from)) {
        x12w_el(w, "RD8");
        el_range(w, l->date_from, l->date_to);
    } else {
        x12w_el(w, "D8");
        x12w_el(w, l->date_from);
    }
    END(w, err);
    return CH_OK;
}

/* HC:procedure:mod1..mod4 as the element just started */
static void procedure(x12_writer *w, const enc_line *l)
{
    x12w_el(w, "HC");
    x12w_sub(w, l->procedure);
    for (unsigned m = 0; m < l->nmodifiers; m++)
        x12w_sub(w, l->modifiers[m]);
}

static ch_code lines_837p(x12_writer *w, const encounter *e, ch_error *err)
{
    for (unsigned i = 0; i < e->nlines; i++) {
        const enc_line *l = &e->lines[i];
        char b[32];
        x12w_seg(w, "LX");
        el_u(w, i + 1);
        END(w, err);
        x12w_seg(w, "SV1");
        procedure(w, l);
        el_cents(w, l->charge);
        x12w_el(w, "UN");
        encounter_units_str(l->units_milli, b, sizeof b);
        x12w_el(w, b);
        /* SV105: only when it differs from the claim's place of service */
        x12w_el(w, l->place_of_service[0] && strcmp(l->place_of_service, e->place_of_service) ? l->place_of_service
                                                                                                 : NULL);
        x12w_el(w, NULL);
        if (l->npointers) {
            put_u(b, l->pointers[0]);
            x12w_el(w, b);
            for (unsigned k = 1; k < l->npointers; k++) {
                put_u(b, l->pointers[k]);
                x12w_sub(w, b);
            }
        }
        END(w, err);
        ch_code rc = service_date(w, l, err);
        if (rc != CH_OK)
            return rc;
    }
    return CH_OK;
}

static ch_code lines_837i(x12_writer *w, const encounter *e, ch_error *err)
{
    for (unsigned i = 0; i < e->nlines; i++) {
        const enc_line *l = &e->lines[i];
        char b[32];
        x12w_seg(w, "LX");
        el_u(w, i + 1);
        END(w, err);
        x12w_seg(w, "SV2");
        x12w_el(w, l->revenue_code);
        if (l->procedure[0])
            procedure(w, l);
        else
            x12w_el(w, NULL);
        el_cents(w, l->charge);
        x12w_el(w, "UN");
        encounter_units_str(l->units_milli, b, sizeof b);
        x12w_el(w, b);
        END(w, err);
        ch_code rc = service_date(w, l, err);
        if (rc != CH_OK)
            return rc;
    }
    return CH_OK;
}

/* HI*<q1>:<code>*<q>:<code>... for diagnoses [from, to) */
static ch_code hi(x12_writer *w, const char *first_q, const char *rest_q, const char (*dx)[8], unsigned from,
                  unsigned to, ch_error *err)
{
    if (from >= to)
        return CH_OK;
    x12w_seg(w, "HI");
    for (unsigned i = from; i < to; i++) {
        x12w_el(w, i == from && first_q ? first_q : rest_q);
        x12w_sub(w, dx[i]);
    }
    END(w, err);
    return CH_OK;
}

static const char *pat_code(encounter_relationship r)
{
    return r == ENC_SPOUSE ? "01" : r == ENC_CHILD ? "19" : "G8";
}

ch_code batch_837_claim(x12_writer *w, const batch_837_ctx *c, const encounter *e, const char *pcn, unsigned hl,
                        unsigned *hl_used, ch_error *err)
{
    const payer_profile *p = c->profile;
    int self = e->relationship == ENC_SELF;
    int inst = c->type == ENC_INSTITUTIONAL;
    ch_code rc;
    *hl_used = self ? 1 : 2;

    /* 2000B subscriber */
    x12w_seg(w, "HL");
    el_u(w, hl);
    x12w_el(w, "1");
    x12w_el(w, "22");
    x12w_el(w, self ? "0" : "1");
    END(w, err);
    x12w_seg(w, "SBR");
    x12w_el(w, "P");
    x12w_el(w, self ? "18" : NULL);
    x12w_el(w, e->group_number);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, p->filing_indicator[c->type]);
    END(w, err);
    const enc_person *s = &e->subscriber;
    if ((rc = person_nm1(w, "IL", s->last_name, s->first_name, s->middle_name, s->suffix, "MI", e->member_id,
                         err)) != CH_OK ||
        (rc = demographics(w, s, err)) != CH_OK)
        return rc;
    /* 2010BB payer */
    x12w_seg(w, "NM1");
    x12w_el(w, "PR");
    x12w_el(w, "2");
    x12w_el(w, p->payer_name);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    x12w_el(w, "PI");
    x12w_el(w, p->payer_id);
    END(w, err);

    if (!self) {
        /* 2000C patient */
        x12w_seg(w, "HL");
        el_u(w, hl + 1);
        el_u(w, hl);
        x12w_el(w, "23");
        x12w_el(w, "0");
        END(w, err);
        x12w_seg(w, "PAT");
        x12w_el(w, pat_code(e->relationship));
        END(w, err);
        const enc_person *pt = &e->patient;
        if ((rc = person_nm1(w, "QC", pt->last_name, pt->first_name, pt->middle_name, pt->suffix, NULL, NULL,
                             err)) != CH_OK ||
            (rc = demographics(w, pt, err)) != CH_OK)
            return rc;
    }

    /* 2300 claim */
    x12w_seg(w, "CLM");
    x12w_el(w, pcn);
    el_cents(w, e->total_charge);
    x12w_el(w, NULL);
    x12w_el(w, NULL);
    char freq[4];
    snprintf(freq, sizeof freq, "%d", (int)e->frequency);
    if (inst) {
        char fac[3] = {e->type_of_bill[1], e->type_of_bill[2], '\0'};
        x12w_el(w, fac);
        x12w_sub(w, "A");
        x12w_sub(w, freq);
        x12w_el(w, NULL);  /* CLM06 not used on 837I */
    } else {
        x12w_el(w, e->place_of_service);
        x12w_sub(w, "B");
        x12w_sub(w, freq);
        x12w_el(w, "Y");   /* provider signature on file */
    }
    x12w_el(w, "A");       /* assignment accepted */
    x12w_el(w, "Y");       /* benefits assigned */
    x12w_el(w, "Y");       /* release of information */
    END(w, err);

    if (inst) {
        if (e->discharge_hour[0]) {
            x12w_seg(w, "DTP");
            x12w_el(w, "096");
            x12w_el(w, "TM");
            x12w_elf(w, "%s00", e->discharge_hour);
            END(w, err);
        }
        x12w_seg(w, "DTP");
        x12w_el(w, "434");
        x12w_el(w, "RD8");
        el_range(w, e->statement_from, e->statement_to);
        END(w, err);
        if (e->admission_date[0]) {
            x12w_seg(w, "DTP");
            x12w_el(w, "435");
            if (e->admission_hour[0]) {
                x12w_el(w, "DT");
                x12w_elf(w, "%s%s00", e->admission_date, e->admission_hour);
            } else {
                x12w_el(w, "D8");
                x12w_el(w, e->admission_date);
            }
            END(w, err);
        }
        x12w_seg(w, "CL1");
        x12w_el(w, e->admission_type);
        x12w_el(w, e->admission_source);
        x12w_el(w, e->patient_status);
        END(w, err);
    } else if (e->onset_date[0]) {
        x12w_seg(w, "DTP");
        x12w_el(w, "431");
        x12w_el(w, "D8");
        x12w_el(w, e->onset_date);
        END(w, err);
    }
    /* REF in guide order: referral, prior authorization, payer claim number, record number */
    if ((rc = ref(w, "9F", e->referral_number, err)) != CH_OK ||
        (rc = ref(w, "G1", e->prior_authorization, err)) != CH_OK ||
        (rc = ref(w, "F8", e->frequency != ENC_ORIGINAL ? e->payer_claim_number : "", err)) != CH_OK ||
        (rc = ref(w, "EA", e->medical_record_number, err)) != CH_OK)
        return rc;

    if (inst) {
        /* principal, admitting, then the others, twelve to a segment */
        if ((rc = hi(w, "ABK", "ABK", e->diagnoses, 0, e->ndiagnoses ? 1 : 0, err)) != CH_OK)
            return rc;
        if (e->admitting_diagnosis[0]) {
            x12w_seg(w, "HI");
            x12w_el(w, "ABJ");
            x12w_sub(w, e->admitting_diagnosis);
            END(w, err);
        }
        for (unsigned from = 1; from < e->ndiagnoses; from += 12) {
            unsigned to = from + 12 < e->ndiagnoses ? from + 12 : e->ndiagnoses;
            if ((rc = hi(w, NULL, "ABF", e->diagnoses, from, to, err)) != CH_OK)
                return rc;
        }
        /* 2310A attending, 2310B operating, 2310D rendering, 2310F referring */
        if (provider_given(&e->attending) && (rc = provider(w, "71", &e->attending, "AT", err)) != CH_OK)
            return rc;
        if (provider_given(&e->operating) && (rc = provider(w, "72", &e->operating, NULL, err)) != CH_OK)
            return rc;
        if (provider_given(&e->rendering) && (rc = provider(w, "82", &e->rendering, NULL, err)) != CH_OK)
            return rc;
        if (provider_given(&e->referring) && (rc = provider(w, "DN", &e->referring, NULL, err)) != CH_OK)
            return rc;
        return lines_837i(w, e, err);
    }

    if ((rc = hi(w, "ABK", "ABF", e->diagnoses, 0, e->ndiagnoses, err)) != CH_OK)
        return rc;
    /* 2310A referring, 2310B rendering (only when not the billing provider) */
    if (provider_given(&e->referring) && (rc = provider(w, "DN", &e->referring, NULL, err)) != CH_OK)
        return rc;
    if (provider_given(&e->rendering) && strcmp(e->rendering.npi, c->practice->npi) &&
        (rc = provider(w, "82", &e->rendering, "PE", err)) != CH_OK)
        return rc;
    return lines_837p(w, e, err);
}
