/* batch_render.c - a file's worth of claims, rendered to memory (see batch_int.h) */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"

#define SCRATCH_SIZE (1u << 20)  /* the largest claim: 999 lines are ~150 KB */

static int out_of_memory(chunk *ch)
{
    ch->fatal = ch_error_set(&ch->fatal_err, CH_ERR_NOMEM, "batch: out of memory");
    return 1;
}

static int add_failure(chunk *ch, int64_t id, const char *pcn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int add_failure(chunk *ch, int64_t id, const char *pcn, const char *fmt, ...)
{
    if (ch->nf == ch->capf) {
        size_t cap = ch->capf ? ch->capf * 2 : 16;
        failure *f = realloc(ch->f, cap * sizeof *f);
        if (!f)
            return out_of_memory(ch);
        ch->f = f;
        ch->capf = cap;
    }
    failure *f = &ch->f[ch->nf++];
    f->id = id;
    snprintf(f->pcn, sizeof f->pcn, "%s", pcn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    return 0;
}

/* "path: msg; path: msg (and 3 more)" */
static void join_problems(const encounter_problems *p, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    unsigned shown = 0;
    for (unsigned i = 0; i < p->n && n + 1 < size; i++) {
        if (shown == 3) {
            snprintf(out + n, size - n, " (and %u more)", p->n - shown + p->dropped);
            return;
        }
        int k = snprintf(out + n, size - n, "%s%s: %s", i ? "; " : "", p->v[i].path, p->v[i].msg);
        if (k < 0)
            break;
        n += (size_t)k;
        shown++;
    }
}

static int grow(char **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : first;
    while (c < need)
        c *= 2;
    char *b = realloc(*buf, c);
    if (!b)
        return -1;
    *buf = b;
    *cap = c;
    return 0;
}

static int append(chunk *ch, const char *p, size_t n)
{
    if (grow(&ch->buf, &ch->bcap, ch->len + n, 1u << 20))
        return -1;
    memcpy(ch->buf + ch->len, p, n);
    ch->len += n;
    return 0;
}

static int add_claim(chunk *ch, const bclaim *c)
{
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 256;
        bclaim *v = realloc(ch->c, cap * sizeof *v);
        if (!v)
            return out_of_memory(ch);
        ch->c = v;
        ch->cap = cap;
    }
    ch->c[ch->n++] = *c;
    return 0;
}

/* --- reading --------------------------------------------------------------------------- */

int batch_chunk_collect(void *vch, const ledger_claim *lc)
{
    chunk *ch = vch;
    ch->fetched++;
    if (ch->nrows == ch->caprows) {
        size_t cap = ch->caprows ? ch->caprows * 2 : 1024;
        brow *v = realloc(ch->rows, cap * sizeof *v);
        if (!v)
            return out_of_memory(ch);
        ch->rows = v;
        ch->caprows = cap;
    }
    if (grow(&ch->docs, &ch->dcap, ch->dlen + lc->doc_len + 1, 1u << 20))
        return out_of_memory(ch);
    brow *r = &ch->rows[ch->nrows++];
    r->id = lc->id;
    snprintf(r->pcn, sizeof r->pcn, "%s", lc->pcn);
    r->doc_off = ch->dlen;
    r->doc_len = lc->doc_len;
    if (lc->doc_len)
        memcpy(ch->docs + ch->dlen, lc->doc, lc->doc_len);
    ch->dlen += lc->doc_len;
    return 0;
}

/* --- rendering ------------------------------------------------------------------------- */

/* One claim into ch: unpacked, checked against the payer's edits, written
 * to the scratch memory file and appended.  Returns 1 to stop (ch->fatal). */
static int render_one(chunk *ch, const brow *row, const char *doc)
{
    ch_error err;
    if (encounter_unpack(&ch->e, doc, row->doc_len, &err) != CH_OK)
        return add_failure(ch, row->id, row->pcn, "its stored encounter cannot be read: %s", err.msg);
    const payer_profile *pp = ch->ctx.profile;
    encounter *e = &ch->e;
    ch->probs.n = ch->probs.dropped = 0;
    if (!payer_profile_accepts(pp, e->type))
        encounter_problem_add(&ch->probs, "claim_type", "payer %s does not take %s claims", pp->name,
                              encounter_type_name(e->type));
    payer_profile_check(pp, e, &ch->probs);
    if (ch->probs.n) {
        char why[480];
        join_problems(&ch->probs, why, sizeof why);
        encounter_clear(e);
        return add_failure(ch, row->id, row->pcn, "payer edits: %s", why);
    }
    /* a new transaction set when this one is full; HL 1 is the billing provider */
    if (ch->st_claims == ch->per_st) {
        ch->nst++;
        ch->st_claims = 0;
        ch->hl = 2;
    }
    rewind(ch->mf);
    ch->w.count = 0;
    unsigned used = 0;
    ch_code rc = batch_837_claim(&ch->w, &ch->ctx, e, row->pcn, ch->hl, &used, &err);
    int64_t total = e->total_charge;
    encounter_clear(e);
    if (rc == CH_OK && fflush(ch->mf) != 0)
        rc = ch_error_set(&err, CH_ERR_LIMIT, "larger than %u bytes", SCRATCH_SIZE);
    long pos = ftell(ch->mf);
    if (rc == CH_OK && (pos < 0 || (size_t)pos >= SCRATCH_SIZE))
        rc = ch_error_set(&err, CH_ERR_LIMIT, "larger than %u bytes", SCRATCH_SIZE);
    if (rc != CH_OK)
        return add_failure(ch, row->id, row->pcn, "cannot be written: %s", err.msg);
    bclaim c;
    memset(&c, 0, sizeof c);
    c.id = row->id;
    memcpy(c.pcn, row->pcn, sizeof c.pcn);
    c.off = ch->len;
    c.len = (size_t)pos;
    c.nseg = (unsigned)ch->w.count;
    c.st = ch->nst - 1;
    c.total = total;
    if (append(ch, ch->scratch, (size_t)pos))
        return out_of_memory(ch);
    if (add_claim(ch, &c))
        return 1;
    ch->total += total;
    ch->hl += used;
    ch->st_claims++;
    return 0;
}

/* Rows [from, to) of src into ch: a new transaction set for each per_st
 * rows, so that the sets do not depend on who renders which rows. */
static void render_rows(chunk *ch, const chunk *src, size_t from, size_t to)
{
    for (size_t i = from; i < to && ch->fatal == CH_OK; i++) {
        if ((i - from) % ch->per_st == 0 && ch->st_claims) {
            ch->nst++;
            ch->st_claims = 0;
            ch->hl = 2;
        }
        const brow *row = &src->rows[i];
        if (render_one(ch, row, src->docs + row->doc_off))
            break;
    }
}

typedef struct half {
    chunk *ch;
    const chunk *src;
    size_t from, to;
} half;

static void *half_main(void *vh)
{
    half *h = vh;
    render_rows(h->ch, h->src, h->from, h->to);
    return NULL;
}

/* helper's claims and failures after ch's */
static void merge(chunk *ch, chunk *helper)
{
    if (helper->fatal != CH_OK) {
        ch->fatal = helper->fatal;
        ch->fatal_err = helper->fatal_err;
        return;
    }
    unsigned st0 = ch->n ? ch->nst : 0;
    size_t off0 = ch->len;
    for (size_t i = 0; i < helper->n && ch->fatal == CH_OK; i++) {
        bclaim c = helper->c[i];
        c.off += off0;
        c.st += st0;
        add_claim(ch, &c);
    }
    if (ch->fatal == CH_OK && append(ch, helper->buf, helper->len))
        out_of_memory(ch);
    for (size_t i = 0; i < helper->nf && ch->fatal == CH_OK; i++)
        add_failure(ch, helper->f[i].id, helper->f[i].pcn, "%s", helper->f[i].why);
    if (helper->n) {
        ch->nst = st0 + helper->nst;
        ch->st_claims = helper->st_claims;
        ch->hl = helper->hl;
    }
    ch->total += helper->total;
}

void batch_chunk_render(chunk *ch, chunk *helper)
{
    size_t n = ch->nrows, sets = (n + ch->per_st - 1) / ch->per_st;
    half h = {helper, ch, (sets / 2) * ch->per_st, n};
    pthread_t t;
    int threaded = 0;
    if (helper && sets > 1) {
        batch_chunk_reset(helper);
        threaded = pthread_create(&t, NULL, half_main, &h) == 0;
        if (threaded)
            pthread_setname_np(t, "batch-render"); /* for top and perf */
    }
    if (threaded) {
        render_rows(ch, ch, 0, h.from);
        pthread_join(t, NULL);
        if (ch->fatal == CH_OK)
            merge(ch, helper);
    } else {
        render_rows(ch, ch, 0, n);
    }
    /* the documents are not needed any more: a file's worth is megabytes */
    free(ch->rows);
    free(ch->docs);
    ch->rows = NULL;
    ch->docs = NULL;
    ch->nrows = ch->caprows = ch->dlen = ch->dcap = 0;
}

/* --- a chunk --------------------------------------------------------------------------- */

void batch_chunk_reset(chunk *ch)
{
    ch->n = ch->nf = ch->len = 0;
    ch->nst = 1;
    ch->st_claims = 0;
    ch->hl = 2;
    ch->total = 0;
    ch->fetched = 0;
    ch->nrows = ch->dlen = 0;
    ch->fatal = CH_OK;
}

void batch_chunk_free(chunk *ch)
{
    if (!ch)
        return;
    if (ch->mf)
        fclose(ch->mf);
    free(ch->scratch);
    free(ch->c);
    free(ch->f);
    free(ch->buf);
    free(ch->rows);
    free(ch->docs);
    encounter_clear(&ch->e);
    free(ch);
}

chunk *batch_chunk_new(const config *cfg, const batch_opts *o, const config_practice *pr,
                       const config_payer_link *link, encounter_type type)
{
    chunk *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->cfg = cfg;
    ch->o = o;
    ch->ctx.practice = pr;
    ch->ctx.link = link;
    ch->ctx.profile = link->profile;
    ch->ctx.type = type;
    time_t now = o->now ? o->now : time(NULL);
    localtime_r(&now, &ch->ctx.now);
    ch->per_st = (unsigned)link->profile->claims_per_transaction;
    if (!ch->per_st)
        ch->per_st = 1;
    encounter_init(&ch->e);
    ch->scratch = malloc(SCRATCH_SIZE);
    ch->mf = ch->scratch ? fmemopen(ch->scratch, SCRATCH_SIZE, "w") : NULL;
    if (!ch->mf) {
        batch_chunk_free(ch);
        return NULL;
    }
    x12w_init(&ch->w, ch->mf, &link->profile->delims, 1);
    batch_chunk_reset(ch);
    return ch;
}
