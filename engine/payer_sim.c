/* payer_sim.c - the synthetic payer (see payer_sim.h) */
#include "payer_sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "payer_history.h"
#include "x12_837_claims.h"
#include "x12_writer.h"

void payer_sim_defaults(sim_rules *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->payer_id, sizeof r->payer_id, "DEMOPAYER");
    snprintf(r->payer_name, sizeof r->payer_name, "DEMO HEALTH PLAN");
    r->paid_percent = 80;
    r->patient_percent = 20;
}

int payer_sim_listed(const char (*codes)[6], unsigned n, const char *code)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(codes[i], code))
            return 1;
    return 0;
}

/* The decision for one line: allowed, patient share, paid, denied. */
typedef struct line_money {
    int64_t allowed, patient, paid, contractual;
    int denied;
} line_money;

static line_money price(const sim_rules *r, const x12_837_line *l)
{
    line_money m = {0};
    if (payer_sim_listed(r->deny, r->ndeny, l->procedure)) {
        m.denied = 1;
        m.contractual = l->charge;
        return m;
    }
    m.allowed = l->charge * (int64_t)r->paid_percent / 100;
    m.patient = m.allowed * (int64_t)r->patient_percent / 100;
    m.paid = m.allowed - m.patient;
    m.contractual = l->charge - m.allowed;
    return m;
}

static int rejected(const sim_rules *r, const x12_837_claim *c)
{
    for (unsigned i = 0; i < c->nlines; i++)
        if (payer_sim_listed(r->reject, r->nreject, c->lines[i].procedure))
            return 1;
    return 0;
}

static int is_void(const x12_837_claim *c)
{
    return c->frequency[0] == '8';
}

/* The adjudication a replacement or void takes back (payer_history.h):
 * 1 found, 0 none, -1 the history could not be read (*rc, err). */
static int prior(const sim_rules *r, const x12_837_claim *c, payer_adjudication *old, ch_code *rc, ch_error *err)
{
    *rc = payer_history_taken_back(r->history, c->frequency, c->payer_claim_number, old, err);
    return *rc == CH_OK ? 1 : *rc == CH_ERR_NOTFOUND ? (*rc = CH_OK, 0) : -1;
}

/* The money of one claim's adjudication (not for a void). */
static payer_adjudication adjudicate(const sim_rules *r, const x12_837_claim *c, unsigned *ndenied)
{
    payer_adjudication a;
    memset(&a, 0, sizeof a);
    snprintf(a.payer_claim_no, sizeof a.payer_claim_no, "P%s", c->pcn);
    snprintf(a.pcn, sizeof a.pcn, "%s", c->pcn);
    a.institutional = c->institutional;
    a.charge = c->charge;
    *ndenied = 0;
    for (unsigned i = 0; i < c->nlines; i++) {
        line_money m = price(r, &c->lines[i]);
        a.paid += m.paid;
        a.patient += m.patient;
        if (m.denied)
            a.co50 += m.contractual;
        else
            a.co45 += m.contractual;
        *ndenied += (unsigned)m.denied;
    }
    return a;
}

/* ---- pass 1: totals ------------------------------------------------------ */

typedef struct totals {
    const sim_rules *r;
    unsigned claims, accepted, rejected, paid, partial, denied, reversals;
    unsigned remit_claims; /* CLPs the 835 will hold */
    int64_t billed, acc_amount, rej_amount, paid_cents;
    char submitter[16], receiver[16];
    ch_code rc;            /* the history could not be read: why */
    ch_error herr;
} totals;

static int count(void *ctx, const x12_837_claim *c)
{
    totals *t = ctx;
    t->claims++;
    t->billed += c->charge;
    snprintf(t->submitter, sizeof t->submitter, "%s", c->sender_id);
    snprintf(t->receiver, sizeof t->receiver, "%s", c->receiver_id);
    if (rejected(t->r, c)) {
        t->rejected++;
        t->rej_amount += c->charge;
        return 0;
    }
    t->accepted++;
    t->acc_amount += c->charge;
    payer_adjudication old;
    int p = prior(t->r, c, &old, &t->rc, &t->herr);
    if (p < 0)
        return 1;
    if (p) {
        t->reversals++;
        t->remit_claims++;
        t->paid_cents -= old.paid;
    }
    if (is_void(c))
        return 0; /* nothing to adjudicate: the payment (if any) is taken back */
    t->remit_claims++;
    unsigned ndenied = 0;
    payer_adjudication a = adjudicate(t->r, c, &ndenied);
    t->paid_cents += a.paid;
    if (ndenied == c->nlines)
        t->denied++;
    else if (ndenied)
        t->partial++;
    else
        t->paid++;
    return 0;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct out {
    FILE *fp;
    char tmp[4096], final[4096];
    x12_writer w;
    ch_error *err;
    ch_code rc;
} out;

static const x12_delims D = {'*', '^', ':', '~'};

static ch_code out_open(out *o, const char *dir, const char *base, const char *ext, ch_error *err)
{
    snprintf(o->final, sizeof o->final, "%s/%s.%s", dir, base, ext);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.%s.tmp", dir, base, ext);
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", o->tmp, strerror(errno));
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "%s: %s", o->tmp, strerror(errno));
    }
    x12w_init(&o->w, o->fp, &D, 1);
    o->err = err;
    o->rc = CH_OK;
    return CH_OK;
}

static void end(out *o)
{
    if (o->rc == CH_OK)
        o->rc = x12w_end(&o->w, o->err);
}

static ch_code out_close(out *o)
{
    if (fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0) {
        if (o->rc == CH_OK)
            o->rc = ch_error_set(o->err, CH_ERR_IO, "%s: %s", o->tmp, strerror(errno));
    }
    fclose(o->fp);
    if (o->rc == CH_OK && rename(o->tmp, o->final) != 0)
        o->rc = ch_error_set(o->err, CH_ERR_IO, "rename %s: %s", o->tmp, strerror(errno));
    if (o->rc != CH_OK)
        unlink(o->tmp);
    return o->rc;
}

static void envelope_open(out *o, const sim_rules *r, const char *receiver, const char *fid,
                          const char *version, unsigned long control, const char *date)
{
    x12_writer *w = &o->w;
    char isa[128];
    /* the ISA is fixed-width: pad the ids */
    snprintf(isa, sizeof isa, "ISA*00*          *00*          *ZZ*%-15.15s*ZZ*%-15.15s*%.6s*1200*^*00501*%09lu*0*T*:~\n",
             r->payer_id, receiver, date + 2, control % 1000000000ul);
    fputs(isa, o->fp);
    x12w_seg(w, "GS");
    x12w_el(w, fid);
    x12w_el(w, r->payer_id);
    x12w_el(w, receiver);
    x12w_el(w, date);
    x12w_el(w, "1200");
    x12w_elf(w, "%lu", control % 1000000000ul);
    x12w_el(w, "X");
    x12w_el(w, version);
    end(o);
}

static void envelope_close(out *o, unsigned long control, unsigned long st_segments)
{
    x12_writer *w = &o->w;
    x12w_seg(w, "SE");
    x12w_elf(w, "%lu", st_segments + 1);
    x12w_el(w, "0001");
    end(o);
    x12w_seg(w, "GE");
    x12w_el(w, "1");
    x12w_elf(w, "%lu", control % 1000000000ul);
    end(o);
    x12w_seg(w, "IEA");
    x12w_el(w, "1");
    x12w_elf(w, "%09lu", control % 1000000000ul);
    end(o);
}

/* NM1*entity*type*last*first****qualifier*id */
static void seg_nm1(x12_writer *w, const char *entity, const char *type, const char *last, const char *first,
                    const char *idq, const char *id)
{
    x12w_seg(w, "NM1");
    x12w_el(w, entity);
    x12w_el(w, type);
    x12w_el(w, last);
    x12w_el(w, first);
    x12w_el(w, "");
    x12w_el(w, "");
    x12w_el(w, "");
    x12w_el(w, idq);
    x12w_el(w, id);
}

/* ---- the 277CA ----------------------------------------------------------- */

typedef struct ca_ctx {
    out o;
    const sim_rules *r;
    const char *date;
    unsigned hl;
    unsigned provider_hl;
    char provider_npi[81];
} ca_ctx;

static void seg_trn(x12_writer *w, const char *type, const char *id)
{
    x12w_seg(w, "TRN");
    x12w_el(w, type);
    x12w_el(w, id);
}

static int write_277_claim(void *vctx, const x12_837_claim *c)
{
    ca_ctx *x = vctx;
    x12_writer *w = &x->o.w;
    if (strcmp(c->billing_npi, x->provider_npi) != 0) {
        snprintf(x->provider_npi, sizeof x->provider_npi, "%s", c->billing_npi);
        x->provider_hl = ++x->hl;
        x12w_seg(w, "HL");
        x12w_elf(w, "%u", x->provider_hl);
        x12w_el(w, "2");
        x12w_el(w, "19");
        x12w_el(w, "1");
        end(&x->o);
        seg_nm1(w, "85", "2", c->billing_name, "", "XX", c->billing_npi);
        end(&x->o);
        seg_trn(w, "1", "0");
        end(&x->o);
    }
    x12w_seg(w, "HL");
    x12w_elf(w, "%u", ++x->hl);
    x12w_elf(w, "%u", x->provider_hl);
    x12w_el(w, "PT");
    end(&x->o);
    seg_nm1(w, "QC", "1", c->patient_last, c->patient_first, "MI", c->subscriber_id);
    end(&x->o);
    seg_trn(w, "2", c->pcn);
    end(&x->o);
    int rej = rejected(x->r, c);
    x12w_seg(w, "STC");
    x12w_el(w, rej ? "A7" : "A2");
    x12w_sub(w, rej ? "454" : "20");
    x12w_el(w, x->date);
    x12w_el(w, rej ? "U" : "WQ");
    x12w_cents(w, c->charge);
    end(&x->o);
    if (!rej) {
        /* the payer's own claim number, derived from the claim so answers
         * to the same file are the same */
        char pcn[64];
        snprintf(pcn, sizeof pcn, "%s%s", x->r->payer_id[0] ? "P" : "", c->pcn);
        x12w_seg(w, "REF");
        x12w_el(w, "1K");
        x12w_el(w, pcn);
        end(&x->o);
    }
    x12w_seg(w, "DTP");
    x12w_el(w, "472");
    if (c->date_to[0] && strcmp(c->date_from, c->date_to) != 0) {
        x12w_el(w, "RD8");
        x12w_elf(w, "%s-%s", c->date_from, c->date_to);
    } else {
        x12w_el(w, "D8");
        x12w_el(w, c->date_from[0] ? c->date_from : x->date);
    }
    end(&x->o);
    return x->o.rc != CH_OK;
}

static ch_code write_277ca(const char *in_path, const char *dir, const char *base,
                           const sim_rules *r, const totals *t, unsigned long control,
                           const char *date, char *path_out, size_t path_size, ch_error *err)
{
    ca_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.date = date;
    if (out_open(&x.o, dir, base, "277ca", err) != CH_OK)
        return CH_ERR_IO;
    x12_writer *w = &x.o.w;
    envelope_open(&x.o, r, t->submitter, "HN", "005010X214", control, date);
    w->count = 0;
    x12w_seg(w, "ST");
    x12w_el(w, "277");
    x12w_el(w, "0001");
    x12w_el(w, "005010X214");
    end(&x.o);
    x12w_seg(w, "BHT");
    x12w_el(w, "0085");
    x12w_el(w, "08");
    x12w_elf(w, "%lu", control);
    x12w_el(w, date);
    x12w_el(w, "1200");
    x12w_el(w, "TH");
    end(&x.o);
    x12w_seg(w, "HL");
    x12w_el(w, "1");
    x12w_el(w, "");
    x12w_el(w, "20");
    x12w_el(w, "1");
    end(&x.o);
    seg_nm1(w, "PR", "2", r->payer_name, "", "PI", r->payer_id);
    end(&x.o);
    seg_trn(w, "1", base);
    end(&x.o);
    x12w_seg(w, "DTP");
    x12w_el(w, "050");
    x12w_el(w, "D8");
    x12w_el(w, date);
    end(&x.o);
    x12w_seg(w, "DTP");
    x12w_el(w, "009");
    x12w_el(w, "D8");
    x12w_el(w, date);
    end(&x.o);
    x12w_seg(w, "HL");
    x12w_el(w, "2");
    x12w_el(w, "1");
    x12w_el(w, "21");
    x12w_el(w, "1");
    end(&x.o);
    seg_nm1(w, "41", "2", "SUBMITTER", "", "46", t->submitter);
    end(&x.o);
    seg_trn(w, "2", base);
    end(&x.o);
    x12w_seg(w, "STC");
    x12w_el(w, "A1");
    x12w_sub(w, "19");
    x12w_sub(w, "PR");
    x12w_el(w, date);
    x12w_el(w, "WQ");
    x12w_cents(w, t->billed);
    end(&x.o);
    x12w_seg(w, "QTY");
    x12w_el(w, "90");
    x12w_elf(w, "%u", t->accepted);
    end(&x.o);
    x12w_seg(w, "QTY");
    x12w_el(w, "AA");
    x12w_elf(w, "%u", t->rejected);
    end(&x.o);
    x12w_seg(w, "AMT");
    x12w_el(w, "YU");
    x12w_cents(w, t->acc_amount);
    end(&x.o);
    x12w_seg(w, "AMT");
    x12w_el(w, "YY");
    x12w_cents(w, t->rej_amount);
    end(&x.o);
    x.hl = 2;
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    ch_code rc = fd < 0 ? ch_error_set(err, CH_ERR_IO, "%s: %s", in_path, strerror(errno))
                        : x12_837_scan(fd, in_path, write_277_claim, &x, err);
    if (fd >= 0)
        close(fd);
    if (rc != CH_OK && x.o.rc == CH_OK)
        x.o.rc = rc;
    envelope_close(&x.o, control, w->count);
    rc = out_close(&x.o);
    if (rc == CH_OK)
        snprintf(path_out, path_size, "%s", x.o.final);
    return rc;
}

/* ---- the 835 ------------------------------------------------------------- */

typedef struct remit_ctx {
    out o;
    const sim_rules *r;
    ch_code hist_rc;
} remit_ctx;

static void seg_cas(x12_writer *w, const char *group, const char *reason, int64_t amount)
{
    x12w_seg(w, "CAS");
    x12w_el(w, group);
    x12w_el(w, reason);
    x12w_cents(w, amount);
}

/* CLP02 22: the adjudication old taken back, every amount negated; CLP01
 * is the claim received (its correction, if any, follows with the same
 * CLP01), CLP07 the payer claim number of the payment reversed. */
static void write_reversal(remit_ctx *x, const x12_837_claim *c, const payer_adjudication *old)
{
    x12_writer *w = &x->o.w;
    x12w_seg(w, "CLP");
    x12w_el(w, c->pcn);
    x12w_el(w, "22");
    x12w_cents(w, -old->charge);
    x12w_cents(w, -old->paid);
    if (old->patient)
        x12w_cents(w, -old->patient);
    else
        x12w_el(w, "");
    x12w_el(w, "12");
    x12w_el(w, old->payer_claim_no);
    x12w_el(w, old->institutional ? "13" : "11");
    x12w_el(w, "1");
    end(&x->o);
    if (old->co45 || old->co50) { /* one CAS per group: CO-45 (quantity empty) and CO-50 */
        seg_cas(w, "CO", old->co45 ? "45" : "50", -(old->co45 ? old->co45 : old->co50));
        if (old->co45 && old->co50) {
            x12w_el(w, "");
            x12w_el(w, "50");
            x12w_cents(w, -old->co50);
        }
        end(&x->o);
    }
    if (old->patient) {
        seg_cas(w, "PR", "2", -old->patient);
        end(&x->o);
    }
    seg_nm1(w, "QC", "1", c->patient_last, c->patient_first, "MI", c->subscriber_id);
    end(&x->o);
    if (c->date_from[0]) {
        x12w_seg(w, "DTM");
        x12w_el(w, "232");
        x12w_el(w, c->date_from);
        end(&x->o);
    }
}

static int write_835_claim(void *vctx, const x12_837_claim *c)
{
    remit_ctx *x = vctx;
    if (rejected(x->r, c))
        return 0; /* rejected on the 277CA: never adjudicated */
    payer_adjudication old;
    int p = prior(x->r, c, &old, &x->hist_rc, NULL);
    if (p < 0)
        return 1;
    if (p)
        write_reversal(x, c, &old);
    if (is_void(c))
        return x->o.rc != CH_OK;
    x12_writer *w = &x->o.w;
    unsigned ndenied;
    payer_adjudication adj = adjudicate(x->r, c, &ndenied);
    int64_t paid = adj.paid, patient = adj.patient;
    int denied = ndenied == c->nlines;
    x12w_seg(w, "CLP");
    x12w_el(w, c->pcn);
    x12w_el(w, denied ? "4" : "1");
    x12w_cents(w, c->charge);
    x12w_cents(w, paid);
    if (patient)
        x12w_cents(w, patient);
    else
        x12w_el(w, "");
    x12w_el(w, "12");
    x12w_elf(w, "P%s", c->pcn);
    x12w_el(w, c->institutional ? "13" : "11");
    x12w_el(w, "1");
    end(&x->o);
    seg_nm1(w, "QC", "1", c->patient_last, c->patient_first, "MI", c->subscriber_id);
    end(&x->o);
    if (c->date_from[0]) {
        x12w_seg(w, "DTM");
        x12w_el(w, "232");
        x12w_el(w, c->date_from);
        end(&x->o);
    }
    for (unsigned i = 0; i < c->nlines; i++) {
        const x12_837_line *l = &c->lines[i];
        line_money m = price(x->r, l);
        x12w_seg(w, "SVC");
        if (c->institutional && !l->procedure[0]) {
            x12w_el(w, "NU");
            x12w_sub(w, l->revenue_code);
        } else {
            x12w_el(w, l->qualifier[0] ? l->qualifier : "HC");
            x12w_sub(w, l->procedure);
            for (unsigned k = 0; k < 4 && l->modifiers[k][0]; k++)
                x12w_sub(w, l->modifiers[k]);
        }
        x12w_cents(w, l->charge);
        x12w_cents(w, m.paid);
        if (c->institutional && l->revenue_code[0] && l->procedure[0])
            x12w_el(w, l->revenue_code);
        else
            x12w_el(w, "");
        char units[32];
        x12_cents_str(l->units_milli / 10, units);
        x12w_el(w, units);
        end(&x->o);
        if (l->date_from[0]) {
            x12w_seg(w, "DTM");
            x12w_el(w, "472");
            x12w_el(w, l->date_from);
            end(&x->o);
        }
        if (m.denied) {
            seg_cas(w, "CO", "50", m.contractual);
            end(&x->o);
        } else {
            if (m.contractual) {
                seg_cas(w, "CO", "45", m.contractual);
                end(&x->o);
            }
            if (m.patient) {
                seg_cas(w, "PR", "2", m.patient);
                end(&x->o);
            }
        }
        if (l->line_control[0]) {
            x12w_seg(w, "REF");
            x12w_el(w, "6R");
            x12w_el(w, l->line_control);
            end(&x->o);
        }
        x12w_seg(w, "AMT");
        x12w_el(w, "B6");
        x12w_cents(w, m.allowed);
        end(&x->o);
    }
    return x->o.rc != CH_OK;
}

typedef struct payee {
    char npi[81], name[61], tax_id[31];
} payee;

static int first_payee(void *ctx, const x12_837_claim *c)
{
    payee *p = ctx;
    snprintf(p->npi, sizeof p->npi, "%s", c->billing_npi);
    snprintf(p->name, sizeof p->name, "%s", c->billing_name);
    snprintf(p->tax_id, sizeof p->tax_id, "%s", c->billing_tax_id);
    return 1; /* stop: one is enough */
}

static ch_code write_835(const char *in_path, const char *dir, const char *base, const sim_rules *r,
                         const totals *t, unsigned long control, const char *date,
                         char *path_out, size_t path_size, ch_error *err)
{
    payee p = {0};
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", in_path, strerror(errno));
    x12_837_scan(fd, in_path, first_payee, &p, NULL);
    close(fd);

    remit_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    if (out_open(&x.o, dir, base, "835", err) != CH_OK)
        return CH_ERR_IO;
    x12_writer *w = &x.o.w;
    envelope_open(&x.o, r, t->submitter, "HP", "005010X221A1", control, date);
    w->count = 0;
    x12w_seg(w, "ST");
    x12w_el(w, "835");
    x12w_el(w, "0001");
    end(&x.o);
    /* BPR02 is never negative: a file that takes back more than it pays
     * pays nothing and carries the balance forward (PLB FB, below) */
    x12w_seg(w, "BPR");
    x12w_el(w, t->paid_cents > 0 ? "I" : "H");
    x12w_cents(w, t->paid_cents > 0 ? t->paid_cents : 0);
    x12w_el(w, "C");
    x12w_el(w, t->paid_cents > 0 ? "CHK" : "NON");
    for (int i = 5; i <= 15; i++)
        x12w_el(w, "");
    x12w_el(w, date);
    end(&x.o);
    x12w_seg(w, "TRN");
    x12w_el(w, "1");
    x12w_elf(w, "%s%lu", r->payer_id, control);
    x12w_el(w, "1999999999");
    end(&x.o);
    x12w_seg(w, "DTM");
    x12w_el(w, "405");
    x12w_el(w, date);
    end(&x.o);
    x12w_seg(w, "N1");
    x12w_el(w, "PR");
    x12w_el(w, r->payer_name);
    end(&x.o);
    x12w_seg(w, "N3");
    x12w_el(w, "1 PAYER PLAZA");
    end(&x.o);
    x12w_seg(w, "N4");
    x12w_el(w, "HARTFORD");
    x12w_el(w, "CT");
    x12w_el(w, "06101");
    end(&x.o);
    x12w_seg(w, "PER");
    x12w_el(w, "BL");
    x12w_el(w, "PROVIDER SERVICES");
    x12w_el(w, "TE");
    x12w_el(w, "8005550100");
    end(&x.o);
    x12w_seg(w, "N1");
    x12w_el(w, "PE");
    x12w_el(w, p.name[0] ? p.name : "PAYEE");
    x12w_el(w, "XX");
    x12w_el(w, p.npi);
    end(&x.o);
    if (p.tax_id[0]) {
        x12w_seg(w, "REF");
        x12w_el(w, "TJ");
        x12w_el(w, p.tax_id);
        end(&x.o);
    }
    x12w_seg(w, "LX");
    x12w_el(w, "1");
    end(&x.o);
    fd = open(in_path, O_RDONLY | O_CLOEXEC);
    x.hist_rc = CH_OK;
    ch_code rc = fd < 0 ? ch_error_set(err, CH_ERR_IO, "%s: %s", in_path, strerror(errno))
                        : x12_837_scan(fd, in_path, write_835_claim, &x, err);
    if (fd >= 0)
        close(fd);
    if (x.hist_rc != CH_OK) /* read fine a moment ago, in count() */
        rc = ch_error_set(err, x.hist_rc, "%s: the payer history could not be read again", r->history);
    if (rc != CH_OK && x.o.rc == CH_OK)
        x.o.rc = rc;
    if (t->paid_cents < 0) {
        /* PLB*NPI*fiscal period end*FB:reference*amount: a negative amount
         * is owed by the provider, recouped from a later payment */
        x12w_seg(w, "PLB");
        x12w_el(w, p.npi[0] ? p.npi : "0000000000");
        x12w_elf(w, "%.4s1231", date);
        char ref[48];
        snprintf(ref, sizeof ref, "%s%lu", r->payer_id, control);
        x12w_el(w, "FB");
        x12w_sub(w, ref);
        x12w_cents(w, t->paid_cents);
        end(&x.o);
    }
    envelope_close(&x.o, control, w->count);
    rc = out_close(&x.o);
    if (rc == CH_OK)
        snprintf(path_out, path_size, "%s", x.o.final);
    return rc;
}

/* ---- the payer's history ------------------------------------------------- */

/* The lines of a file's adjudications, appended to the history at once. */
typedef struct hist_ctx {
    const sim_rules *r;
    FILE *mem;
} hist_ctx;

static int record(void *vctx, const x12_837_claim *c)
{
    hist_ctx *h = vctx;
    if (rejected(h->r, c) || is_void(c))
        return 0;
    unsigned ndenied;
    payer_adjudication a = adjudicate(h->r, c, &ndenied);
    char line[512];
    int n = payer_history_line(&a, line, sizeof line);
    if (n > 0) /* a claim number that cannot be stored is never asked for either */
        fwrite(line, 1, (size_t)n, h->mem);
    return 0;
}

static ch_code keep_history(const char *in_path, const sim_rules *r, ch_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    hist_ctx h = {r, open_memstream(&buf, &len)};
    if (!h.mem)
        return ch_error_set(err, CH_ERR_NOMEM, "payer history: out of memory");
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    ch_code rc = fd < 0 ? ch_error_set(err, CH_ERR_IO, "%s: %s", in_path, strerror(errno))
                        : x12_837_scan(fd, in_path, record, &h, err);
    if (fd >= 0)
        close(fd);
    if (fclose(h.mem) != 0 && rc == CH_OK)
        rc = ch_error_set(err, CH_ERR_NOMEM, "payer history: out of memory");
    if (rc == CH_OK && len)
        rc = payer_history_append(r->history, buf, len, err);
    free(buf);
    return rc;
}

/* ---- entry --------------------------------------------------------------- */

ch_code payer_sim_answer(const char *in_path, const char *out_dir, const sim_rules *rules,
                         unsigned long control, sim_result *res, ch_error *err)
{
    memset(res, 0, sizeof *res);
    char date[9];
    if (rules->date[0]) {
        snprintf(date, sizeof date, "%s", rules->date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y%m%d", &tm);
    }
    const char *slash = strrchr(in_path, '/');
    char base[256];
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : in_path);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';

    totals t;
    memset(&t, 0, sizeof t);
    t.r = rules;
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", in_path, strerror(errno));
    ch_code rc = x12_837_scan(fd, in_path, count, &t, err);
    close(fd);
    if (t.rc != CH_OK) {
        if (err)
            *err = t.herr;
        return t.rc;
    }
    if (rc != CH_OK)
        return rc;
    rc = write_277ca(in_path, out_dir, base, rules, &t, control, date, res->ack_277,
                     sizeof res->ack_277, err);
    if (rc == CH_OK && t.remit_claims)
        rc = write_835(in_path, out_dir, base, rules, &t, control + 1, date, res->remit_835,
                       sizeof res->remit_835, err);
    /* what was adjudicated, once the answers are out */
    if (rc == CH_OK && rules->history && t.accepted)
        rc = keep_history(in_path, rules, err);
    res->claims = t.claims;
    res->accepted = t.accepted;
    res->rejected = t.rejected;
    res->paid = t.paid;
    res->partial = t.partial;
    res->denied = t.denied;
    res->reversals = t.reversals;
    res->billed = t.billed;
    res->paid_cents = t.paid_cents;
    return rc;
}
