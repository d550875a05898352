/*
 * transport_gzip.c - gzip for payers that ask for it (zlib).
 *
 * Compression is deterministic: no file name, mtime 0, fixed level, so the
 * same batch always gives the same bytes and the crash check can compare
 * sizes.  Inflation streams (the download sink feeds it chunk by chunk) and
 * accepts concatenated members, as gzip(1) does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "transport_impl.h"

#define CHUNK 65536

ch_code tgz_compress_fd(int in_fd, int out_fd, uint64_t *out_size, ch_error *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper; zlib writes mtime 0 and no name. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return ch_error_set(err, CH_ERR_NOMEM, "gzip: cannot initialise zlib");
    unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
    ch_code rc = CH_OK;
    uint64_t total = 0;
    if (!in || !out) {
        rc = ch_error_set(err, CH_ERR_NOMEM, "gzip: out of memory");
        goto done;
    }
    int flush = Z_NO_FLUSH;
    do {
        ssize_t r = read(in_fd, in, CHUNK);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = ch_error_set(err, CH_ERR_IO, "gzip: read: %s", strerror(errno));
            goto done;
        }
        flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
        z.next_in = in;
        z.avail_in = (uInt)r;
        do {
            z.next_out = out;
            z.avail_out = CHUNK;
            int zr = deflate(&z, flush);
            if (zr == Z_STREAM_ERROR) {
                rc = ch_error_set(err, CH_ERR_INTERNAL, "gzip: deflate failed");
                goto done;
            }
            size_t have = CHUNK - z.avail_out;
            if (have && twrite_all(out_fd, out, have) < 0) {
                rc = ch_error_set(err, CH_ERR_IO, "gzip: write: %s", strerror(errno));
                goto done;
            }
            total += have;
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    if (out_size)
        *out_size = total;
done:
    deflateEnd(&z);
    free(in);
    free(out);
    return rc;
}

struct tgz_inflater {
    z_stream z;
    int in_member;  /* inside a gzip member (started, not finished) */
    int started;    /* at least one member began */
    unsigned char out[CHUNK];
};

ch_code tgz_inflater_new(tgz_inflater **out, ch_error *err)
{
    tgz_inflater *g = calloc(1, sizeof *g);
    if (!g)
        return ch_error_set(err, CH_ERR_NOMEM, "gunzip: out of memory");
    if (inflateInit2(&g->z, 15 + 16) != Z_OK) {
        free(g);
        return ch_error_set(err, CH_ERR_NOMEM, "gunzip: cannot initialise zlib");
    }
    *out = g;
    return CH_OK;
}

ch_code tgz_inflate(tgz_inflater *g, const void *p, size_t n, tgz_emit emit, void *ud,
                    ch_error *err)
{
    const unsigned char *in = p;
    while (n) {
        /* avail_in is 32 bits: feed at most 1 GiB a round. */
        uInt take = n > (1u << 30) ? (1u << 30) : (uInt)n;
        g->z.next_in = (unsigned char *)in;
        g->z.avail_in = take;
        while (g->z.avail_in) {
            if (!g->in_member) {
                g->in_member = 1;
                g->started = 1;
            }
            g->z.next_out = g->out;
            g->z.avail_out = CHUNK;
            int zr = inflate(&g->z, Z_NO_FLUSH);
            size_t have = CHUNK - g->z.avail_out;
            if (have && emit(ud, g->out, have) < 0)
                return ch_error_set(err, CH_ERR_IO, "gunzip: writing the output failed");
            if (zr == Z_STREAM_END) {
                g->in_member = 0;
                inflateReset(&g->z);
            } else if (zr == Z_BUF_ERROR) {
                if (have == 0)
                    break; /* needs more input */
            } else if (zr != Z_OK) {
                return ch_error_set(err, CH_ERR_INVALID, "gunzip: corrupt gzip data (%s)",
                                    g->z.msg ? g->z.msg : "zlib error");
            }
        }
        in += take;
        n -= take;
    }
    return CH_OK;
}

ch_code tgz_inflate_end(tgz_inflater *g, ch_error *err)
{
    if (g->in_member || !g->started)
        return ch_error_set(err, CH_ERR_INVALID, "gunzip: gzip data ends before the end of a member");
    return CH_OK;
}

void tgz_inflater_free(tgz_inflater *g)
{
    if (!g)
        return;
    inflateEnd(&g->z);
    free(g);
}

int tgz_is_gzip(const void *p, size_t n)
{
    const unsigned char *c = p;
    return n >= 2 && c[0] == 0x1f && c[1] == 0x8b;
}

/* ------------------------------------------------------------- file helpers */

ch_code transport_gzip_file(const char *src, const char *dst, ch_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ch_error_set(err, CH_ERR_IO, "gzip: %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return ch_error_set(err, CH_ERR_IO, "gzip: %s: %s", dst, strerror(e));
    }
    ch_code rc = tgz_compress_fd(in, out, NULL, err);
    close(in);
    if (close(out) < 0 && rc == CH_OK)
        rc = ch_error_set(err, CH_ERR_IO, "gzip: %s: %s", dst, strerror(errno));
    return rc;
}

static int emit_fd(void *ud, const void *p, size_t n)
{
    return twrite_all(*(int *)ud, p, n);
}

ch_code transport_gunzip_file(const char *src, const char *dst, ch_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ch_error_set(err, CH_ERR_IO, "gunzip: %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return ch_error_set(err, CH_ERR_IO, "gunzip: %s: %s", dst, strerror(e));
    }
    tgz_inflater *g = NULL;
    ch_code rc = tgz_inflater_new(&g, err);
    unsigned char *buf = rc == CH_OK ? malloc(CHUNK) : NULL;
    if (rc == CH_OK && !buf)
        rc = ch_error_set(err, CH_ERR_NOMEM, "gunzip: out of memory");
    while (rc == CH_OK) {
        ssize_t r = read(in, buf, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ch_error_set(err, CH_ERR_IO, "gunzip: %s: %s", src, strerror(errno));
            break;
        }
        if (r == 0) {
            rc = tgz_inflate_end(g, err);
            break;
        }
        rc = tgz_inflate(g, buf, (size_t)r, emit_fd, &out, err);
    }
    if (rc != CH_OK)
        ch_error_prefix(err, "%s", src);
    free(buf);
    tgz_inflater_free(g);
    close(in);
    if (close(out) < 0 && rc == CH_OK)
        rc = ch_error_set(err, CH_ERR_IO, "gunzip: %s: %s", dst, strerror(errno));
    return rc;
}
