/* x12_stream.c - tokenizer + envelope checker + reader (see x12_stream.h) */
#include "x12_stream.h"

#include "x12_envelope.h"

typedef struct stream_ctx {
    const x12_sink *sink;
    x12_diag_fn fwd;
    void *fwd_ctx;
} stream_ctx;

static void stream_diag(void *vctx, const x12_diag *d)
{
    stream_ctx *c = vctx;
    if (c->sink->count)
        c->sink->count(c->sink->obj, d);
    if (c->fwd)
        c->fwd(c->fwd_ctx, d);
}

static ch_code run(x12_reader *xr, const char *name, stream_ctx *sc, ch_error *err)
{
    x12_env *env = x12_env_new(name, NULL, stream_diag, sc);
    if (!env) {
        x12_close(xr);
        return ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", name);
    }
    x12_segment s;
    int rc;
    x12_pos last = {0};
    while ((rc = x12_next(xr, &s)) == X12_SEGMENT) {
        x12_env_feed(env, &s);
        sc->sink->feed(sc->sink->obj, &s);
        last = s.pos;
    }
    x12_env_finish(env, &last);
    sc->sink->finish(sc->sink->obj);
    ch_code code = CH_OK;
    if (rc == X12_FAIL) {
        const ch_error *e = x12_reader_error(xr);
        code = e->code != CH_OK ? e->code : CH_ERR_SYNTAX;
        ch_error_set(err, code, "%s", e->msg);
    }
    x12_env_free(env);
    x12_close(xr);
    return code;
}

ch_code x12_stream_fd(int fd, const char *name, const x12_sink *sink, x12_diag_fn on_diag,
                      void *diag_ctx, ch_error *err)
{
    stream_ctx sc = {sink, on_diag, diag_ctx};
    x12_reader_opts o = {.on_diag = stream_diag, .diag_ctx = &sc};
    x12_reader *xr;
    ch_code c = x12_open_fd(&xr, fd, name, &o, err);
    return c != CH_OK ? c : run(xr, name, &sc, err);
}

ch_code x12_stream_mem(const void *buf, size_t len, const char *name, const x12_sink *sink,
                       x12_diag_fn on_diag, void *diag_ctx, ch_error *err)
{
    stream_ctx sc = {sink, on_diag, diag_ctx};
    x12_reader_opts o = {.on_diag = stream_diag, .diag_ctx = &sc};
    x12_reader *xr;
    ch_code c = x12_open_mem(&xr, buf, len, name, &o, err);
    return c != CH_OK ? c : run(xr, name, &sc, err);
}
