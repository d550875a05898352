/* demo_payer.c - see demo_payer.h */
#include "demo_payer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "log.h"
#include "x12_ack.h"
#include "x12_validate.h"

typedef struct ack_ctx {
    x12_ack *ack;
    unsigned errors;
} ack_ctx;

static void on_diag(void *vctx, const x12_diag *d)
{
    ack_ctx *c = vctx;
    if (d->severity != X12_SEV_WARNING)
        c->errors++;
    x12_ack_diag(c->ack, d);
}

/* The payer's own code edit: a procedure in rules->reject_999 billed on an
 * SV1 (SV101-2) or SV2 (SV202-2) is an invalid code value (IK403 7) there. */
static void refuse_code(ack_ctx *c, const sim_rules *r, const char *path, const x12_segment *seg)
{
    unsigned el = x12_is(seg, "SV1") ? 1 : x12_is(seg, "SV2") ? 2 : 0;
    if (!el)
        return;
    char code[49];
    x12_copy(x12_comp(seg, el, 2), code, sizeof code);
    if (!payer_sim_listed(r->reject_999, r->nreject_999, code))
        return;
    x12_diag d;
    x12_diag_init(&d, path, &seg->pos, X12_SEV_ERROR, 5, "payer.code.refused");
    x12_copy(seg->tag, d.tag, sizeof d.tag);
    d.loop_id = "2400";
    d.loop_name = "Service Line";
    d.elem = (int)el;
    d.comp = 2;
    d.ele_ref = 234; /* Product/Service ID */
    snprintf(d.ik4, sizeof d.ik4, "7");
    x12_diag_found(&d, code, strlen(code));
    x12_diag_expected(&d, "a procedure code this payer accepts");
    x12_diag_msg(&d, "the payer does not accept this procedure code");
    on_diag(c, &d);
}

ch_code demo_payer_ack(const char *path, const char *out_dir, const sim_rules *rules, unsigned long control,
                       int *accepted, ch_error *err)
{
    *accepted = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    const char *slash = strrchr(path, '/');
    x12_ack_opts ao = {.dir = out_dir, .basename = slash ? slash + 1 : path, .isa13 = control, .gs06 = control};
    ack_ctx c = {0};
    c.ack = x12_ack_new(&ao, err);
    if (!c.ack) {
        close(fd);
        return err ? err->code : CH_ERR_IO;
    }
    x12_reader_opts ro = {.on_diag = on_diag, .diag_ctx = &c, .classify = 1};
    x12_reader *r = NULL;
    ch_code rc = x12_open_fd(&r, fd, path, &ro, err);
    x12_validator *v = rc == CH_OK ? x12_validator_new(path, on_diag, &c) : NULL;
    if (rc == CH_OK && !v)
        rc = ch_error_set(err, CH_ERR_NOMEM, "out of memory");
    if (rc == CH_OK) {
        x12_segment seg;
        unsigned long n = 0;
        while (x12_next(r, &seg) == X12_SEGMENT) {
            x12_ack_feed(c.ack, &seg);
            x12_validator_feed(v, &seg);
            if (rules && rules->nreject_999)
                refuse_code(&c, rules, path, &seg);
            n++;
        }
        x12_pos last = seg.pos;
        last.offset = x12_reader_offset(r);
        x12_validator_finish(v, n ? &last : NULL);
        rc = x12_ack_finish(c.ack, err);
        *accepted = c.errors == 0;
    }
    x12_validator_free(v);
    x12_close(r);
    x12_ack_free(c.ack);
    close(fd);
    return rc;
}

/* Control numbers of the answers to one file, from its name: answering the
 * same file again (after a crash) gives the same numbers and the same 835
 * trace, so reconciliation sees a duplicate, not a second payment. */
static unsigned long control_for(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return 1 + (unsigned long)(h % 299999999ull) * 3;
}

/* The answering side's own half-written files (dot names) left by a crash:
 * never delivered (collect skips dot names), so they are removed. */
static void clear_partials(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.' || e->d_type == DT_DIR)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static int regular(const char *dir, const struct dirent *e)
{
    if (e->d_type != DT_UNKNOWN)
        return e->d_type == DT_REG;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ch_code demo_payer_answer(const char *in_dir, const char *out_dir, const sim_rules *rules,
                          unsigned *answered, ch_error *err)
{
    return demo_payer_answer_each(in_dir, out_dir, rules, NULL, NULL, answered, err);
}

ch_code demo_payer_answer_each(const char *in_dir, const char *out_dir, const sim_rules *rules_in, demo_payer_fn on_file,
                               void *ctx, unsigned *answered, ch_error *err)
{
    *answered = 0;
    DIR *d = opendir(in_dir);
    if (!d)
        return ch_error_set(err, CH_ERR_IO, "demo payer: %s: %s", in_dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !regular(in_dir, e))
            continue; /* a directory (answered/), or a FIFO that would block the open */
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    char done_dir[4096], history[4200];
    snprintf(done_dir, sizeof done_dir, "%s/answered", in_dir);
    mkdir(done_dir, 0700);
    mkdir(out_dir, 0700);
    sim_rules rules_copy = *rules_in;
    const sim_rules *rules = &rules_copy;
    if (!rules_copy.history) {
        snprintf(history, sizeof history, "%s/adjudications.tsv", done_dir);
        rules_copy.history = history;
    }
    clear_partials(out_dir);
    ch_code first = CH_OK;
    for (size_t i = 0; i < n; i++) {
        char path[4096], done[4096];
        snprintf(path, sizeof path, "%s/%s", in_dir, names[i]);
        snprintf(done, sizeof done, "%s/%s", done_dir, names[i]);
        ch_error e1;
        ch_error_clear(&e1);
        int accepted = 0;
        sim_result res;
        memset(&res, 0, sizeof res);
        unsigned long ctl = control_for(names[i]);
        ch_code rc = demo_payer_ack(path, out_dir, rules, ctl, &accepted, &e1);
        if (rc == CH_ERR_EXISTS)
            rc = CH_OK; /* answered before a crash: the 999 is there already */
        if (rc == CH_OK && accepted)
            rc = payer_sim_answer(path, out_dir, rules, ctl + 1, &res, &e1);
        if (rc == CH_OK) {
            LOG(LOG_INFO, "demo_payer.answered", LOG_STR("file", names[i]), LOG_INT("accepted_by_999", accepted),
                LOG_INT("claims", accepted ? res.claims : 0), LOG_INT("rejected", accepted ? res.rejected : 0));
            if (rename(path, done) != 0)
                rc = ch_error_set(&e1, CH_ERR_IO, "demo payer: %s: %s", path, strerror(errno));
            else
                (*answered)++;
        }
        if (on_file) {
            demo_payer_file f = {names[i], accepted, rc == CH_OK && accepted ? &res : NULL, rc, &e1};
            on_file(ctx, &f);
        }
        if (rc != CH_OK && first == CH_OK) {
            first = rc;
            if (err)
                *err = e1;
        }
        free(names[i]);
    }
    free(names);
    return first;
}
