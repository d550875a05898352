/* batch_file.c - writing, checking and placing one batch file (see batch_int.h) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch_int.h"
#include "sha256.h"
#include "spool.h"

/* --- writing the file (through a hash) ----------------------------------------------- */

typedef struct hashed_out {
    int fd;
    sha256_ctx h;
    uint64_t bytes;
} hashed_out;

static ssize_t hashed_write(void *vt, const char *buf, size_t n)
{
    hashed_out *t = vt;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(t->fd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    sha256_update(&t->h, buf, n);
    t->bytes += n;
    return (ssize_t)n;
}

static void hex_digest(sha256_ctx *h, char hex[65])
{
    unsigned char d[SHA256_DIGEST];
    sha256_final(h, d);
    sha256_hex(d, hex);
}

static ch_code write_file(chunk *ch, const char *tmp, uint64_t isa13, uint64_t gs06, uint64_t st02, int64_t batch_id,
                          uint64_t *bytes, char hash[65], ch_error *err)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
    hashed_out t;
    memset(&t, 0, sizeof t);
    t.fd = fd;
    sha256_init(&t.h);
    cookie_io_functions_t io = {.read = NULL, .write = hashed_write, .seek = NULL, .close = NULL};
    FILE *fp = fopencookie(&t, "w", io);
    if (!fp) {
        close(fd);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", tmp);
    }
    setvbuf(fp, NULL, _IOFBF, 1u << 20);
    x12_writer w;
    x12w_init(&w, fp, &ch->ctx.profile->delims, 1);
    ch_code rc = batch_837_isa(&w, &ch->ctx, isa13, err);
    if (rc == CH_OK)
        rc = batch_837_gs(&w, &ch->ctx, gs06, err);
    size_t k = 0;
    for (unsigned s = 0; s < ch->nst && rc == CH_OK; s++) {
        char st02s[16], bht03[48];
        snprintf(st02s, sizeof st02s, "%04" PRIu64, st02 + s);
        /* digits only: safe whatever delimiters the payer uses */
        snprintf(bht03, sizeof bht03, "%06" PRId64 "%03u", batch_id, s + 1);
        if ((rc = batch_837_st(&w, &ch->ctx, st02s, bht03, err)) != CH_OK)
            break;
        for (; k < ch->n && ch->c[k].st == s; k++) {
            bclaim *c = &ch->c[k];
            c->file_off = w.bytes;
            if (fwrite(ch->buf + c->off, 1, c->len, fp) != c->len) {
                rc = ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
                break;
            }
            w.bytes += c->len; /* the writer's running offset: keep it the file's */
            w.count += c->nseg;
            c->file_end = w.bytes;
        }
        if (rc == CH_OK)
            rc = batch_837_se(&w, st02s, err);
    }
    if (rc == CH_OK)
        rc = batch_837_ge(&w, ch->nst, gs06, err);
    if (rc == CH_OK)
        rc = batch_837_iea(&w, isa13, err);
    if (fflush(fp) != 0 && rc == CH_OK)
        rc = ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
    fclose(fp);
    if (rc == CH_OK && fsync(fd) < 0)
        rc = ch_error_set(err, CH_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
    if (close(fd) < 0 && rc == CH_OK)
        rc = ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
    *bytes = t.bytes;
    hex_digest(&t.h, hash);
    return rc;
}

/* --- validation: which claim does a problem point at? --------------------------------- */

static bclaim *claim_at(chunk *ch, uint64_t off)
{
    size_t lo = 0, hi = ch->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ch->c[mid].file_end <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < ch->n && ch->c[lo].file_off <= off && off < ch->c[lo].file_end)
        return &ch->c[lo];
    return NULL;
}

static void on_diag(void *vb, const x12_diag *d)
{
    blame *b = vb;
    if (d->severity == X12_SEV_WARNING)
        return;
    char line[768];
    x12_diag_format(d, line, sizeof line, 0); /* without the value found: it may be PHI */
    bclaim *c = claim_at(b->ch, d->pos.offset);
    if (c) {
        b->claim_problems++;
        if (!c->blamed) {
            c->blamed = 1;
            snprintf(c->why, sizeof c->why, "the batch file check found: %s", line);
        }
    } else {
        if (!b->file_problems++)
            snprintf(b->file_first, sizeof b->file_first, "%s", line);
    }
    if (b->rlen + 1 < sizeof b->report) {
        int k = snprintf(b->report + b->rlen, sizeof b->report - b->rlen, "%s%s%s\n", c ? "claim " : "",
                         c ? c->pcn : "", c ? ": " : "");
        if (k > 0)
            b->rlen += (size_t)k < sizeof b->report - b->rlen ? (size_t)k : sizeof b->report - b->rlen - 1;
        k = snprintf(b->report + b->rlen, sizeof b->report - b->rlen, "%s\n", line);
        if (k > 0)
            b->rlen += (size_t)k < sizeof b->report - b->rlen ? (size_t)k : sizeof b->report - b->rlen - 1;
    }
}

/* --- the thread ------------------------------------------------------------------------ */

static void *file_main(void *vf)
{
    batch_file *f = vf;
    f->rc = write_file(f->ch, f->tmp, f->isa13, f->gs06, f->st02, f->batch_id, &f->bytes, f->hash, &f->err);
    memset(&f->bl, 0, sizeof f->bl);
    f->bl.ch = f->ch;
    memset(&f->val, 0, sizeof f->val);
    if (f->rc == CH_OK)
        f->rc = f->validate(f->tmp, on_diag, &f->bl, &f->val, &f->err);
    if (f->rc != CH_OK || f->val.errors)
        return NULL;
    if (rename(f->tmp, f->final) < 0)
        f->place_rc = ch_error_set(&f->place_err, CH_ERR_IO, "%s: rename: %s", f->final, strerror(errno));
    else
        f->place_rc = spool_sync_dir(f->outdir, &f->place_err);
    f->renamed = f->place_rc == CH_OK;
    return NULL;
}

void batch_file_start(batch_file *f)
{
    f->rc = f->place_rc = CH_OK;
    f->renamed = 0;
    f->bytes = 0;
    f->hash[0] = '\0';
    f->running = 1;
    f->threaded = pthread_create(&f->thread, NULL, file_main, f) == 0;
    if (f->threaded)
        pthread_setname_np(f->thread, "batch-file"); /* for top and perf */
    else
        file_main(f);
}

void batch_file_wait(batch_file *f)
{
    if (f->running && f->threaded)
        pthread_join(f->thread, NULL);
    f->running = f->threaded = 0;
}
