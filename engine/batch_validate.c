/* batch_validate.c - see batch_validate.h */
#include "batch_validate.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "x12_validate.h"
#include "x12_reader.h"

typedef struct vctx {
    x12_diag_fn fn;
    void *ctx;
    batch_validation *out;
} vctx;

static void count(void *p, const x12_diag *d)
{
    vctx *v = p;
    if (d->severity == X12_SEV_WARNING)
        v->out->warnings++;
    else
        v->out->errors++;
    if (v->fn)
        v->fn(v->ctx, d);
}

ch_code batch_validate_file(const char *path, x12_diag_fn on_diag, void *ctx, batch_validation *out, ch_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    vctx v = {on_diag, ctx, out};
    x12_reader_opts ro = {.on_diag = count, .diag_ctx = &v, .classify = 1};
    x12_reader *r = NULL;
    ch_code rc = x12_open_fd(&r, fd, path, &ro, err);
    if (rc != CH_OK) {
        close(fd);
        return rc;
    }
    x12_validator *env = x12_validator_new(path, count, &v);
    if (!env) {
        x12_close(r);
        close(fd);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", path);
    }
    x12_segment seg;
    memset(&seg, 0, sizeof seg);
    int got;
    while ((got = x12_next(r, &seg)) == X12_SEGMENT) {
        x12_validator_feed(env, &seg);
        out->segments++;
    }
    x12_pos last = seg.pos;
    last.offset = x12_reader_offset(r);
    x12_validator_finish(env, out->segments ? &last : NULL);
    const ch_error *re = x12_reader_error(r);
    if (got == X12_FAIL && re->code == CH_ERR_IO)
        rc = ch_error_set(err, CH_ERR_IO, "%s", re->msg);
    x12_validator_free(env);
    x12_close(r);
    close(fd);
    return rc;
}
