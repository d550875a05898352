/*
 * reconcile_report.c - the posting report per practice (CSV and JSON),
 * written while posting (see reconcile_report.h).
 *
 * The posting thread copies each posting into the queue (report_queue.c);
 * the writer thread renders it (report_text.c) into the practice's files.
 * A mark and a drop travel through the queue too, so the writer takes back
 * a rolled-back file's postings in order: it cuts each file back to where
 * it stood at the mark.  Rendering and writing cost about as much as the
 * posting did when the reports were read back from the ledger afterwards;
 * here they overlap the posting instead of following it.
 */
#include "reconcile_report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ch_str.h"
#include "report_queue.h"
#include "report_text.h"
#include "spool.h"

/* Written out in steps of this many bytes; writeback to the disk asked for
 * every SYNC_STEP bytes, so that the fsync at the end has little left. */
#define WRITE_STEP (1u << 20)
#define SYNC_STEP (8u << 20)

enum { REC_ROW = 1, REC_MARK, REC_DROP };

typedef struct rec_head {
    uint32_t kind, size;
} rec_head;

/* One of a practice's two files: what is written, and what is buffered. */
typedef struct out_file {
    int fd;
    char tmp[PATH_MAX], final[PATH_MAX];
    report_buf buf;
    uint64_t written, synced;
} out_file;

/* Where a practice's report stood at the mark. */
typedef struct report_mark {
    uint64_t csv, json;
    uint64_t claims;
    int64_t billed, allowed, paid, patient;
    size_t ngroups, nreasons;
} report_mark;

typedef struct practice_out {
    char id[32];
    char dir[PATH_MAX];
    out_file csv, json;
    uint64_t claims;
    int64_t billed, allowed, paid, patient;
    /* the codes used, in order of first use (report_words numbers), and a
     * flag per code number */
    uint32_t *groups, *reasons;
    size_t ngroups, nreasons, cap_groups, cap_reasons;
    unsigned char *gflag, *rflag;
    size_t ngflag, nrflag;
    report_mark mark;
} practice_out;

struct reconcile_report {
    char spool[PATH_MAX];
    char reports_dir[PATH_MAX];   /* "" : the spool's */
    char stamp[48];
    report_queue *q;
    int lost;                     /* a posting could not be queued */
    /* the writer's */
    practice_out **pv;
    size_t np;
    report_words words;
    const report_code **codes;
    size_t codes_cap;
    ch_code rc;
    ch_error err;
};

/* --- the files ---------------------------------------------------------------------- */

static void fail(reconcile_report *r, ch_code rc, const char *what, const char *path)
{
    if (r->rc == CH_OK)
        r->rc = ch_error_set(&r->err, rc, "reports: %s%s%s: %s", what, path ? " " : "", path ? path : "",
                             rc == CH_ERR_NOMEM ? "out of memory" : strerror(errno));
}

static int file_open(reconcile_report *r, out_file *f)
{
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        fail(r, CH_ERR_IO, "create", f->tmp);
        return 0;
    }
    return 1;
}

/* Write out what is buffered; ask for writeback of what was written. */
static int file_flush(reconcile_report *r, out_file *f)
{
    size_t off = 0;
    while (off < f->buf.len) {
        ssize_t w = write(f->fd, f->buf.p + off, f->buf.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            fail(r, CH_ERR_IO, "write", f->tmp);
            return 0;
        }
        off += (size_t)w;
    }
    f->written += f->buf.len;
    f->buf.len = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    if (f->written - f->synced >= SYNC_STEP) {
        /* start the disk writes now (not waiting for them): less for fsync */
        sync_file_range(f->fd, (off_t)f->synced, (off_t)(f->written - f->synced), SYNC_FILE_RANGE_WRITE);
        f->synced = f->written;
    }
#endif
    return 1;
}

static uint64_t file_at(const out_file *f) { return f->written + f->buf.len; }

/* Cut the file back to at bytes (at most where it is). */
static void file_cut(reconcile_report *r, out_file *f, uint64_t at)
{
    if (at >= f->written) {
        f->buf.len = (size_t)(at - f->written);
        return;
    }
    f->buf.len = 0;
    if (ftruncate(f->fd, (off_t)at) != 0 || lseek(f->fd, (off_t)at, SEEK_SET) < 0) {
        fail(r, CH_ERR_IO, "truncate", f->tmp);
        return;
    }
    f->written = at;
    if (f->synced > at)
        f->synced = at;
}

static void file_close(out_file *f, int remove)
{
    if (f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
        if (remove)
            unlink(f->tmp);
    }
    report_buf_free(&f->buf);
}

static int put_text(reconcile_report *r, report_buf *b, const char *s, size_t n)
{
    if (!report_buf_reserve(b, n)) {
        fail(r, CH_ERR_NOMEM, "", NULL);
        return 0;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}

static void practice_mark(practice_out *p)
{
    p->mark = (report_mark){.csv = file_at(&p->csv), .json = file_at(&p->json), .claims = p->claims,
                            .billed = p->billed, .allowed = p->allowed, .paid = p->paid, .patient = p->patient,
                            .ngroups = p->ngroups, .nreasons = p->nreasons};
}

static void practice_free(practice_out *p, int remove)
{
    file_close(&p->csv, remove);
    file_close(&p->json, remove);
    free(p->groups);
    free(p->reasons);
    free(p->gflag);
    free(p->rflag);
    free(p);
}

/* The practice's report, its files opened the first time; NULL on failure. */
static practice_out *practice_get(reconcile_report *r, const char *id)
{
    if (!id[0])
        id = "unknown";
    for (size_t i = r->np; i-- > 0;)
        if (!strcmp(r->pv[i]->id, id))
            return r->pv[i];
    practice_out **v = realloc(r->pv, (r->np + 1) * sizeof *v);
    practice_out *p = calloc(1, sizeof *p);
    if (v)
        r->pv = v;
    if (!v || !p) {
        free(p);
        fail(r, CH_ERR_NOMEM, "", NULL);
        return NULL;
    }
    p->csv.fd = p->json.fd = -1;
    snprintf(p->id, sizeof p->id, "%s", id);
    ch_code rc;
    if (r->reports_dir[0]) {
        snprintf(p->dir, sizeof p->dir, "%s/%s", r->reports_dir, p->id);
        rc = spool_mkdirs(p->dir, &r->err);
    } else
        rc = spool_dir(p->dir, sizeof p->dir, r->spool, SPOOL_REPORTS, p->id, &r->err);
    if (rc != CH_OK) {
        if (r->rc == CH_OK)
            r->rc = rc;
        free(p);
        return NULL;
    }
    snprintf(p->csv.final, sizeof p->csv.final, "%s/posting-%s.csv", p->dir, r->stamp);
    snprintf(p->json.final, sizeof p->json.final, "%s/posting-%s.json", p->dir, r->stamp);
    snprintf(p->csv.tmp, sizeof p->csv.tmp, "%s/.posting-%s.csv.tmp", p->dir, r->stamp);
    snprintf(p->json.tmp, sizeof p->json.tmp, "%s/.posting-%s.json.tmp", p->dir, r->stamp);
    r->pv[r->np++] = p; /* from here on its files are closed (and removed) with the others */
    if (!file_open(r, &p->csv) || !file_open(r, &p->json))
        return NULL;
    int ok = put_text(r, &p->csv.buf, report_csv_header, strlen(report_csv_header)) &&
             put_text(r, &p->json.buf, "{\"practice\":", 12) && report_json_str(&p->json.buf, p->id, strlen(p->id)) &&
             put_text(r, &p->json.buf, ",\"generated\":", 13) &&
             report_json_str(&p->json.buf, r->stamp, strlen(r->stamp)) &&
             put_text(r, &p->json.buf, ",\"claims\":[\n", 12);
    if (!ok) {
        fail(r, CH_ERR_NOMEM, "", NULL);
        return NULL;
    }
    practice_mark(p); /* a drop leaves it empty */
    return p;
}

/* Note a code number as used by the practice (first use: in the order). */
static int use_code(uint32_t no, uint32_t **order, size_t *n, size_t *cap, unsigned char **flag, size_t *nflag)
{
    if (no >= *nflag) {
        size_t nn = (no + 1) * 2;
        unsigned char *f = realloc(*flag, nn);
        if (!f)
            return 0;
        memset(f + *nflag, 0, nn - *nflag);
        *flag = f;
        *nflag = nn;
    }
    if ((*flag)[no])
        return 1;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        uint32_t *o = realloc(*order, nc * sizeof *o);
        if (!o)
            return 0;
        *order = o;
        *cap = nc;
    }
    (*order)[(*n)++] = no;
    (*flag)[no] = 1;
    return 1;
}

/* --- the writer's records ----------------------------------------------------------- */

static void write_row(reconcile_report *r, const report_row *row, const report_adj *adj)
{
    practice_out *p = practice_get(r, row->practice);
    if (!p)
        return;
    if (row->nadj > r->codes_cap) {
        const report_code **c = realloc(r->codes, row->nadj * sizeof *c);
        if (!c) {
            fail(r, CH_ERR_NOMEM, "", NULL);
            return;
        }
        r->codes = c;
        r->codes_cap = row->nadj;
    }
    for (uint32_t i = 0; i < row->nadj; i++) {
        const report_code *c = report_words_code(&r->words, adj[i].group, adj[i].reason);
        if (!c || !use_code(c->group_no, &p->groups, &p->ngroups, &p->cap_groups, &p->gflag, &p->ngflag) ||
            !use_code(c->reason_no, &p->reasons, &p->nreasons, &p->cap_reasons, &p->rflag, &p->nrflag)) {
            fail(r, CH_ERR_NOMEM, "", NULL);
            return;
        }
        r->codes[i] = c;
    }
    if ((p->claims && !put_text(r, &p->json.buf, ",\n", 2)) ||
        !report_render(row, adj, r->codes, &p->csv.buf, &p->json.buf)) {
        fail(r, CH_ERR_NOMEM, "", NULL);
        return;
    }
    p->claims++;
    p->billed += row->reversal ? 0 : row->billed;
    p->allowed += row->allowed;
    p->paid += row->paid;
    p->patient += row->patient_resp;
    if (p->csv.buf.len >= WRITE_STEP)
        file_flush(r, &p->csv);
    if (p->json.buf.len >= WRITE_STEP)
        file_flush(r, &p->json);
}

static void drop_codes(uint32_t *order, size_t *n, size_t keep, unsigned char *flag)
{
    while (*n > keep)
        flag[order[--*n]] = 0;
}

static void drop(reconcile_report *r)
{
    for (size_t i = 0; i < r->np; i++) {
        practice_out *p = r->pv[i];
        if (p->csv.fd < 0 || p->json.fd < 0)
            continue;
        file_cut(r, &p->csv, p->mark.csv);
        file_cut(r, &p->json, p->mark.json);
        p->claims = p->mark.claims;
        p->billed = p->mark.billed;
        p->allowed = p->mark.allowed;
        p->paid = p->mark.paid;
        p->patient = p->mark.patient;
        drop_codes(p->groups, &p->ngroups, p->mark.ngroups, p->gflag);
        drop_codes(p->reasons, &p->nreasons, p->mark.nreasons, p->rflag);
    }
}

/* The consumer: a chunk of records. */
static void on_chunk(void *ctx, const unsigned char *data, size_t len)
{
    reconcile_report *r = ctx;
    size_t off = 0;
    while (off + sizeof(rec_head) <= len) {
        const rec_head *h = (const rec_head *)(const void *)(data + off);
        if (h->size < sizeof *h || h->size > len - off)
            break;
        if (r->rc == CH_OK) {
            if (h->kind == REC_ROW) {
                const report_row *row = (const report_row *)(const void *)(h + 1);
                write_row(r, row, (const report_adj *)(const void *)(row + 1));
            } else if (h->kind == REC_MARK) {
                for (size_t i = 0; i < r->np; i++)
                    practice_mark(r->pv[i]);
            } else if (h->kind == REC_DROP)
                drop(r);
        }
        off += (h->size + 7) & ~(uint32_t)7;
    }
}

/* --- the posting thread's side --------------------------------------------------------- */

ch_code reconcile_report_open(reconcile_report **out, const char *spool, const char *reports_dir, ch_error *err)
{
    *out = NULL;
    reconcile_report *r = calloc(1, sizeof *r);
    if (!r || !(r->q = report_queue_new(on_chunk, r, "reports"))) {
        free(r);
        return ch_error_set(err, CH_ERR_NOMEM, "reports: out of memory");
    }
    snprintf(r->spool, sizeof r->spool, "%s", spool ? spool : "");
    snprintf(r->reports_dir, sizeof r->reports_dir, "%s", reports_dir ? reports_dir : "");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(r->stamp, sizeof r->stamp, "%04d%02d%02dT%02d%02d%02d.%03ldZ-%ld", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (long)getpid());
    *out = r;
    return CH_OK;
}

static void put_cmd(reconcile_report *r, uint32_t kind)
{
    rec_head *h = report_queue_room(r->q, sizeof *h);
    if (!h) {
        r->lost = 1;
        return;
    }
    h->kind = kind;
    h->size = sizeof *h;
    report_queue_put(r->q, sizeof *h);
}

void reconcile_report_mark(reconcile_report *r) { put_cmd(r, REC_MARK); }

void reconcile_report_drop(reconcile_report *r) { put_cmd(r, REC_DROP); }

/* s into a fixed field, cut to its size */
#define COPY(dst, s) ch_strcpy((dst), sizeof(dst), (s))

void reconcile_report_add(reconcile_report *r, const reconcile_posting *p)
{
    size_t nadj = p->nadj;
    size_t max = (REPORT_QUEUE_CHUNK - sizeof(rec_head) - sizeof(report_row)) / sizeof(report_adj);
    if (nadj > max)
        nadj = max; /* cannot happen: an 835 claim holds at most REMIT_MAX_ADJ */
    size_t size = sizeof(rec_head) + sizeof(report_row) + nadj * sizeof(report_adj);
    rec_head *h = report_queue_room(r->q, size);
    if (!h) {
        r->lost = 1;
        return;
    }
    h->kind = REC_ROW;
    h->size = (uint32_t)size;
    report_row *row = (report_row *)(h + 1);
    const ledger_claim_payment *c = p->pay;
    row->claim_id = c->claim_id;
    row->billed = c->billed;
    row->allowed = c->allowed;
    row->paid = c->paid;
    row->patient_resp = c->patient_resp;
    row->reversal = c->reversal != 0;
    row->nadj = (uint32_t)nadj;
    COPY(row->outcome, c->outcome);
    COPY(row->state, ledger_state_name(p->state));
    COPY(row->practice, p->practice);
    COPY(row->pcn, p->pcn);
    COPY(row->trace_key, p->trace_key);
    COPY(row->payer_claim_no, c->payer_claim_no);
    report_adj *a = (report_adj *)(row + 1);
    for (size_t i = 0; i < nadj; i++) {
        COPY(a[i].group, p->adj[i].group);
        COPY(a[i].reason, p->adj[i].reason);
        a[i].cents = p->adj[i].cents;
    }
    report_queue_put(r->q, size);
}

void reconcile_report_add_stored(reconcile_report *r, const ledger_posting *p)
{
    /* "GROUP:REASON:CENTS ..." (ledger_posting.adjustments) into a list */
    const char *t = p->adjustments ? p->adjustments : "";
    size_t len = strlen(t), n = 0, cap = len / 6 + 1;
    char *copy = malloc(len + 1);
    ledger_adjustment *adj = malloc(cap * sizeof *adj);
    if (!copy || !adj) {
        free(copy);
        free(adj);
        r->lost = 1;
        return;
    }
    memcpy(copy, t, len + 1);
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok && n < cap; tok = strtok_r(NULL, " ", &save)) {
        char *c1 = strchr(tok, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c1 = *c2 = '\0';
        char *end;
        long long cents = strtoll(c2 + 1, &end, 10);
        adj[n++] = (ledger_adjustment){.group = tok, .reason = c1 + 1, .quantity = NULL, .cents = (int64_t)cents};
    }
    reconcile_posting rp = {.pay = &p->pay, .practice = p->practice, .pcn = p->pcn, .trace_key = p->trace_key,
                            .state = p->state, .adj = adj, .nadj = n};
    reconcile_report_add(r, &rp);
    free(adj);
    free(copy);
}

static void free_all(reconcile_report *r, int remove)
{
    report_queue_free(r->q);
    for (size_t i = 0; i < r->np; i++)
        practice_free(r->pv[i], remove);
    free(r->pv);
    free(r->codes);
    report_words_free(&r->words);
    free(r);
}

void reconcile_report_discard(reconcile_report *r)
{
    if (r)
        free_all(r, 1);
}

/* The codes a practice used, as {"CO":"text",...} */
static int put_dict(reconcile_report *r, report_buf *b, const uint32_t *order, size_t n, const report_word *words)
{
    if (!put_text(r, b, "{", 1))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((i && !put_text(r, b, ",", 1)) || !put_text(r, b, words[order[i]].json, words[order[i]].json_len))
            return 0;
    return put_text(r, b, "}", 1);
}

static int put_money(reconcile_report *r, report_buf *b, const char *key, int64_t cents)
{
    char m[32];
    size_t n = report_cents(m, cents);
    return put_text(r, b, key, strlen(key)) && put_text(r, b, m, n);
}

/* The end of the JSON: the totals and the codes' words. */
static int json_tail(reconcile_report *r, practice_out *p)
{
    report_buf *b = &p->json.buf;
    char n[32];
    snprintf(n, sizeof n, "%" PRIu64, p->claims);
    return put_text(r, b, "\n],\"totals\":{\"claims\":", 22) && put_text(r, b, n, strlen(n)) &&
           put_money(r, b, ",\"billed\":", p->billed) && put_money(r, b, ",\"allowed\":", p->allowed) &&
           put_money(r, b, ",\"paid\":", p->paid) && put_money(r, b, ",\"patient_responsibility\":", p->patient) &&
           put_text(r, b, "},\"codes\":{\"groups\":", 20) &&
           put_dict(r, b, p->groups, p->ngroups, r->words.groups) && put_text(r, b, ",\"reasons\":", 11) &&
           put_dict(r, b, p->reasons, p->nreasons, r->words.reasons) && put_text(r, b, "}}\n", 3);
}

/* Written out, on the disk, closed. */
static int file_done(reconcile_report *r, out_file *f)
{
    if (!file_flush(r, f))
        return 0;
    if (fsync(f->fd) != 0) {
        fail(r, CH_ERR_IO, "fsync", f->tmp);
        return 0;
    }
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) {
        fail(r, CH_ERR_IO, "close", f->tmp);
        unlink(f->tmp);
        return 0;
    }
    return 1;
}

ch_code reconcile_report_finish(reconcile_report *r,
                                void (*on_report)(void *ctx, const char *practice, const char *path), void *ctx,
                                ch_error *err)
{
    if (!r)
        return CH_OK;
    report_queue_end(r->q); /* the writer is done: its state is ours */
    if (r->lost && r->rc == CH_OK)
        r->rc = ch_error_set(&r->err, CH_ERR_NOMEM, "reports: out of memory");
    /* complete each report on the disk first, then rename them all */
    for (size_t i = 0; i < r->np && r->rc == CH_OK; i++) {
        practice_out *p = r->pv[i];
        if (p->claims && (!json_tail(r, p) || !file_done(r, &p->csv) || !file_done(r, &p->json)))
            break;
    }
    for (size_t i = 0; i < r->np && r->rc == CH_OK; i++) {
        practice_out *p = r->pv[i];
        if (!p->claims)
            continue;
        if (rename(p->csv.tmp, p->csv.final) != 0) {
            fail(r, CH_ERR_IO, "rename", p->csv.final);
            break;
        }
        if (rename(p->json.tmp, p->json.final) != 0) {
            fail(r, CH_ERR_IO, "rename", p->json.final);
            unlink(p->csv.final); /* the pair, or neither */
            break;
        }
        spool_sync_dir(p->dir, NULL);
        if (on_report) {
            on_report(ctx, p->id, p->csv.final);
            on_report(ctx, p->id, p->json.final);
        }
    }
    ch_code rc = r->rc;
    if (rc != CH_OK && err)
        *err = r->err;
    /* what is left: the temporary files of practices without postings, or
     * of a run that failed */
    for (size_t i = 0; i < r->np; i++) {
        practice_out *p = r->pv[i];
        if (rc != CH_OK || !p->claims) {
            unlink(p->csv.tmp);
            unlink(p->json.tmp);
        }
    }
    free_all(r, 1);
    return rc;
}
