/*
 * reconcile_report.c - the posting report per practice (CSV and JSON) of the
 * remittances posted in a run: claim, patient control number, billed,
 * allowed, paid, patient responsibility, adjustments with reason texts.
 * Written under temporary names, fsync'ed and renamed, 0600.
 */
#include "reconcile_report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codes.h"
#include "json_out.h"
#include "spool.h"
#include "x12_writer.h"

/* cents as "-12.34" */
static const char *money(int64_t c, char buf[32]) { return x12_cents_fixed(c, buf); }

typedef struct report {
    char practice[32];
    char dir[PATH_MAX];
    char csv_tmp[PATH_MAX], csv_final[PATH_MAX];
    char json_tmp[PATH_MAX], json_final[PATH_MAX];
    FILE *csv, *json;
    json_out j;
    uint64_t claims;
    int64_t billed, allowed, paid, patient;
} report;

typedef struct report_set {
    const char *spool;        /* the spool root (reports/<practice>/ under it) */
    const char *reports_dir;  /* instead of the spool's, when set */
    report *v;
    size_t n;
    char stamp[32];
    ch_code rc;
    ch_error err;
    /* one claim's CSV line and JSON object, written with one call each */
    char *line, *obj;
    size_t line_cap, obj_cap;
    /* each group and reason code seen, rendered once (the texts repeat) */
    struct adj_text *texts;
    size_t ntexts;
    char *one;       /* one adjustment's JSON object */
    size_t one_cap;
} report_set;

/* An adjustment's words: the JSON object up to its amount, and the reason
 * text for the CSV. */
typedef struct adj_text {
    char g[4], reason[8];
    char *json;      /* {"group":..,"reason_text":"..." */
    size_t json_len;
    char *rt;        /* the reason's text (its usage note left out), or "unknown code" */
} adj_text;

static FILE *open_tmp(const char *path, ch_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        unlink(path);
        ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    }
    return fp;
}

static report *report_for(report_set *rs, const char *practice)
{
    for (size_t i = 0; i < rs->n; i++)
        if (!strcmp(rs->v[i].practice, practice))
            return &rs->v[i];
    report *v = realloc(rs->v, (rs->n + 1) * sizeof *v);
    if (!v) {
        rs->rc = ch_error_set(&rs->err, CH_ERR_NOMEM, "reconcile: out of memory");
        return NULL;
    }
    rs->v = v;
    report *p = &v[rs->n];
    memset(p, 0, sizeof *p);
    snprintf(p->practice, sizeof p->practice, "%s", practice[0] ? practice : "unknown");
    const char *root = rs->reports_dir;
    ch_code rc;
    if (root) {
        snprintf(p->dir, sizeof p->dir, "%s/%s", root, p->practice);
        rc = spool_mkdirs(p->dir, &rs->err);
    } else
        rc = spool_dir(p->dir, sizeof p->dir, rs->spool, SPOOL_REPORTS, p->practice, &rs->err);
    if (rc != CH_OK) {
        rs->rc = rc;
        return NULL;
    }
    snprintf(p->csv_final, sizeof p->csv_final, "%s/posting-%s.csv", p->dir, rs->stamp);
    snprintf(p->json_final, sizeof p->json_final, "%s/posting-%s.json", p->dir, rs->stamp);
    snprintf(p->csv_tmp, sizeof p->csv_tmp, "%s/.posting-%s.csv.tmp", p->dir, rs->stamp);
    snprintf(p->json_tmp, sizeof p->json_tmp, "%s/.posting-%s.json.tmp", p->dir, rs->stamp);
    if (!(p->csv = open_tmp(p->csv_tmp, &rs->err))) {
        rs->rc = CH_ERR_IO;
        return NULL;
    }
    if (!(p->json = open_tmp(p->json_tmp, &rs->err))) {
        fclose(p->csv);
        unlink(p->csv_tmp);
        rs->rc = CH_ERR_IO;
        return NULL;
    }
    rs->n++;
    fputs("claim_id,pcn,remittance,outcome,state,billed,allowed,paid,patient_responsibility,payer_claim_no,"
          "adjustments\n",
          p->csv);
    json_init_file(&p->j, p->json);
    json_obj_begin(&p->j);
    json_kv_str(&p->j, "practice", p->practice);
    json_kv_str(&p->j, "generated", rs->stamp);
    json_key(&p->j, "claims");
    json_arr_begin(&p->j);
    return p;
}

/* k bytes appended at *n, as far as cap allows; *n counts them all, so the
 * length needed is known when they did not fit. */
static void csv_putn(char *buf, size_t cap, size_t *n, const char *s, size_t k)
{
    if (*n < cap)
        memcpy(buf + *n, s, *n + k <= cap ? k : cap - *n);
    *n += k;
}

static void csv_put(char *buf, size_t cap, size_t *n, const char *s) { csv_putn(buf, cap, n, s, strlen(s)); }

/* A CSV field appended at *n (quoted when it must be); the length it needs
 * is counted even past cap. */
static void csv_field(char *buf, size_t cap, size_t *n, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        csv_put(buf, cap, n, s);
        return;
    }
    csv_putn(buf, cap, n, "\"", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        csv_putn(buf, cap, n, s, (size_t)(q - s) + 1);
        csv_putn(buf, cap, n, "\"", 1);
    }
    csv_put(buf, cap, n, s);
    csv_putn(buf, cap, n, "\"", 1);
}

/* The length of s up to the first cut (all of s when there is none), trailing
 * blanks left out. */
static size_t text_before(const char *s, const char *cut)
{
    const char *e = strstr(s, cut);
    size_t n = e ? (size_t)(e - s) : strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    return n;
}

/* The words of a group and reason code, rendered the first time they are
 * seen; NULL when out of memory. */
static const adj_text *adj_text_of(report_set *rs, const char *g, const char *reason)
{
    for (size_t i = 0; i < rs->ntexts; i++)
        if (!strcmp(rs->texts[i].g, g) && !strcmp(rs->texts[i].reason, reason))
            return &rs->texts[i];
    adj_text *v = realloc(rs->texts, (rs->ntexts + 1) * sizeof *v);
    if (!v)
        return NULL;
    rs->texts = v;
    adj_text *t = &v[rs->ntexts];
    memset(t, 0, sizeof *t);
    snprintf(t->g, sizeof t->g, "%s", g);
    snprintf(t->reason, sizeof t->reason, "%s", reason);
    const char *gt = codes_text2("group_codes", "CAS01", g);
    const char *rt = codes_text("carc", reason);
    /* A report gives the code's meaning, not the code list's guidance to
     * payers: "Contractual Obligations", not the paragraph after " -- ";
     * a CARC without its "Usage:" note.  The lists keep the whole text. */
    size_t gn = gt ? text_before(gt, " -- ") : 0;
    if (!(t->rt = strndup(rt ? rt : "unknown code", rt ? text_before(rt, " Usage:") : 12)))
        return NULL;
    json_out j;
    json_init(&j, NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        json_obj_begin(&j);
        json_kv_str(&j, "group", g);
        if (gt)
            json_kv_strn(&j, "group_text", gt, gn);
        else
            json_kv_str(&j, "group_text", "unknown code");
        json_kv_str(&j, "reason", reason);
        json_kv_str(&j, "reason_text", t->rt);
        if (pass)
            break;
        t->json_len = json_len(&j);
        size_t need = t->json_len + 1;
        if (!(t->json = malloc(need))) {
            free(t->rt);
            return NULL;
        }
        json_init(&j, t->json, need);
    }
    rs->ntexts++;
    return t;
}

/* The next "GROUP:REASON:CENTS" of a posting's adjustments, or 0. */
static int next_adjustment(const char **sp, char g[4], char reason[8], long long *cents)
{
    const char *s = *sp;
    size_t n = 0;
    while (s[n] && s[n] != ':' && n < 3)
        n++;
    if (!n || s[n] != ':')
        return 0;
    memcpy(g, s, n);
    g[n] = '\0';
    s += n + 1;
    n = 0;
    while (s[n] && s[n] != ':' && n < 7)
        n++;
    if (!n || s[n] != ':')
        return 0;
    memcpy(reason, s, n);
    reason[n] = '\0';
    s += n + 1;
    char *end;
    *cents = strtoll(s, &end, 10);
    if (end == s)
        return 0;
    while (*end == ' ')
        end++;
    *sp = end;
    return 1;
}

/* One posting as a CSV line and a JSON object into rs->line / rs->obj, each
 * at most cap bytes; the lengths they need. */
static void render_posting(report_set *rs, const ledger_posting *p, size_t line_cap, size_t obj_cap, size_t *line_len,
                           size_t *obj_len)
{
    char b[32], a[32], pd[32], pr[32], id[24];
    char *L = rs->line;
    size_t n = 0;
    snprintf(id, sizeof id, "%" PRId64, p->pay.claim_id);
    csv_put(L, line_cap, &n, id);
    csv_put(L, line_cap, &n, ",");
    csv_field(L, line_cap, &n, p->pcn);
    csv_put(L, line_cap, &n, ",");
    csv_field(L, line_cap, &n, p->trace_key);
    const char *cols[] = {p->pay.outcome, ledger_state_name(p->state), money(p->pay.billed, b),
                          money(p->pay.allowed, a), money(p->pay.paid, pd), money(p->pay.patient_resp, pr)};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        csv_put(L, line_cap, &n, ",");
        csv_put(L, line_cap, &n, cols[i]);
    }
    csv_put(L, line_cap, &n, ",");
    csv_field(L, line_cap, &n, p->pay.payer_claim_no);
    csv_put(L, line_cap, &n, ",");

    json_out j;
    json_init(&j, rs->obj, obj_cap);
    json_obj_begin(&j);
    json_kv_int(&j, "claim_id", p->pay.claim_id);
    json_kv_str(&j, "pcn", p->pcn);
    json_kv_str(&j, "remittance", p->trace_key);
    json_kv_str(&j, "outcome", p->pay.outcome);
    json_kv_str(&j, "state", ledger_state_name(p->state));
    json_kv_cents(&j, "billed", p->pay.billed);
    json_kv_cents(&j, "allowed", p->pay.allowed);
    json_kv_cents(&j, "paid", p->pay.paid);
    json_kv_cents(&j, "patient_responsibility", p->pay.patient_resp);
    json_kv_str(&j, "payer_claim_no", p->pay.payer_claim_no);
    json_kv_bool(&j, "reversal", p->pay.reversal);
    json_key(&j, "adjustments");
    json_arr_begin(&j);
    /* "CO:45:1234 PR:2:500" */
    char adjs[4096] = "";
    size_t an = 0;
    const char *s = p->adjustments;
    char g[4], reason[8];
    long long cents;
    while (*s && next_adjustment(&s, g, reason, &cents)) {
        const adj_text *t = adj_text_of(rs, g, reason);
        if (!t) {
            rs->rc = ch_error_set(&rs->err, CH_ERR_NOMEM, "reconcile: out of memory");
            break;
        }
        char amt[32];
        money(cents, amt);
        /* the object json_out would write: its words, then the amount */
        size_t need = t->json_len + strlen(amt) + 16;
        if (need > rs->one_cap) {
            char *q = realloc(rs->one, need);
            if (!q) {
                rs->rc = ch_error_set(&rs->err, CH_ERR_NOMEM, "reconcile: out of memory");
                break;
            }
            rs->one = q;
            rs->one_cap = need;
        }
        /* by hand: the words are long and snprintf's %s was a tenth of the report's cost */
        size_t al = strlen(amt), o = t->json_len;
        memcpy(rs->one, t->json, o);
        memcpy(rs->one + o, ",\"amount\":", 10);
        o += 10;
        memcpy(rs->one + o, amt, al);
        o += al;
        rs->one[o++] = '}';
        rs->one[o] = '\0';
        json_raw(&j, rs->one);
        /* "CO-45 25.20 (text)", "; " between; cut at sizeof adjs - 1 as snprintf would */
        if (an < sizeof adjs) {
            size_t room = sizeof adjs - 1;
            const char *parts[] = {an ? "; " : "", g, "-", reason, " ", amt, " (", t->rt, ")"};
            for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
                size_t len = strlen(parts[k]);
                if (an < room)
                    memcpy(adjs + an, parts[k], an + len <= room ? len : room - an);
                an += len;
            }
            adjs[an < room ? an : room] = '\0';
        }
    }
    json_arr_end(&j);
    json_obj_end(&j);
    csv_field(L, line_cap, &n, adjs);
    csv_put(L, line_cap, &n, "\n");
    *line_len = n;
    *obj_len = json_len(&j);
}

static int grow_to(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 1;
    size_t c = *cap ? *cap : 4096;
    while (c < need)
        c *= 2;
    char *q = realloc(*p, c);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

static int on_posting(void *ctx, const ledger_posting *p)
{
    report_set *rs = ctx;
    report *rp = report_for(rs, p->practice);
    if (!rp)
        return 1;
    if (!grow_to(&rs->line, &rs->line_cap, 8192) || !grow_to(&rs->obj, &rs->obj_cap, 8192)) {
        rs->rc = ch_error_set(&rs->err, CH_ERR_NOMEM, "reconcile: out of memory");
        return 1;
    }
    size_t ln, on;
    render_posting(rs, p, rs->line_cap, rs->obj_cap, &ln, &on);
    if (ln >= rs->line_cap || on >= rs->obj_cap) {
        /* many adjustments: again with room for all of it */
        if (!grow_to(&rs->line, &rs->line_cap, ln + 1) || !grow_to(&rs->obj, &rs->obj_cap, on + 1)) {
            rs->rc = ch_error_set(&rs->err, CH_ERR_NOMEM, "reconcile: out of memory");
            return 1;
        }
        render_posting(rs, p, rs->line_cap, rs->obj_cap, &ln, &on);
    }
    if (rs->rc != CH_OK)
        return 1;
    fwrite(rs->line, 1, ln, rp->csv);
    json_raw(&rp->j, rs->obj);
    rp->claims++;
    rp->billed += p->pay.reversal ? 0 : p->pay.billed;
    rp->allowed += p->pay.allowed;
    rp->paid += p->pay.paid;
    rp->patient += p->pay.patient_resp;
    return 0;
}

static ch_code close_tmp(FILE *fp, const char *tmp, const char *final, ch_error *err)
{
    int bad = fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, final) != 0) {
        ch_error_set(err, CH_ERR_IO, "%s: %s", final, strerror(errno));
        unlink(tmp);
        return CH_ERR_IO;
    }
    return CH_OK;
}

ch_code reconcile_reports_write(ledger *l, const char *spool, const char *reports_dir, const int64_t *remits,
                                size_t n, void (*on_report)(void *ctx, const char *practice, const char *path),
                                void *ctx, ch_error *err)
{
    report_set rs;
    memset(&rs, 0, sizeof rs);
    rs.spool = spool;
    rs.reports_dir = reports_dir;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(rs.stamp, sizeof rs.stamp, "%04d%02d%02dT%02d%02d%02d.%03ldZ-%ld", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid());
    ch_code rc = CH_OK;
    for (size_t i = 0; i < n && rc == CH_OK && rs.rc == CH_OK; i++)
        rc = ledger_postings_each(l, remits[i], on_posting, &rs, err);
    if (rc == CH_OK && rs.rc != CH_OK) {
        rc = rs.rc;
        if (err)
            *err = rs.err;
    }
    for (size_t i = 0; i < rs.n; i++) {
        report *p = &rs.v[i];
        json_arr_end(&p->j);
        json_key(&p->j, "totals");
        json_obj_begin(&p->j);
        json_kv_uint(&p->j, "claims", p->claims);
        json_kv_cents(&p->j, "billed", p->billed);
        json_kv_cents(&p->j, "allowed", p->allowed);
        json_kv_cents(&p->j, "paid", p->paid);
        json_kv_cents(&p->j, "patient_responsibility", p->patient);
        json_obj_end(&p->j);
        json_obj_end(&p->j);
        fputc('\n', p->json);
        if (rc != CH_OK) {
            fclose(p->csv);
            fclose(p->json);
            unlink(p->csv_tmp);
            unlink(p->json_tmp);
            continue;
        }
        ch_code c1 = close_tmp(p->csv, p->csv_tmp, p->csv_final, err);
        ch_code c2 = close_tmp(p->json, p->json_tmp, p->json_final, c1 == CH_OK ? err : NULL);
        if (c1 == CH_OK && c2 == CH_OK) {
            spool_sync_dir(p->dir, NULL);
            if (on_report) {
                on_report(ctx, p->practice, p->csv_final);
                on_report(ctx, p->practice, p->json_final);
            }
        } else
            rc = c1 != CH_OK ? c1 : c2;
    }
    free(rs.v);
    free(rs.line);
    free(rs.obj);
    for (size_t i = 0; i < rs.ntexts; i++) {
        free(rs.texts[i].json);
        free(rs.texts[i].rt);
    }
    free(rs.texts);
    free(rs.one);
    return rc;
}

