/*
 * transport_files.c - local file helpers of the transport layer: the upload
 * source (optionally gzip'ed), the download sink (temporary name, SHA-256,
 * fsync, rename), rename without replacing, directory fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport_impl.h"

/* ============================================================== file helpers */

int twrite_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int rename_noreplace(const char *from, const char *to)
{
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    /* Filesystems without RENAME_NOREPLACE: link() never replaces either. */
    if (link(from, to) == 0) {
        unlink(from);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    /* No hard links either (some network mounts): check, then rename. */
    struct stat st;
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

int fsync_dir(const char *path, int is_dir)
{
    char buf[TRANSPORT_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *d = is_dir ? buf : dirname(buf);
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    /* Some filesystems cannot fsync a directory; that is not an error. */
    if (r < 0 && (errno == EINVAL || errno == EBADF || errno == ENOTSUP))
        r = 0;
    close(fd);
    return r;
}

ch_code sha256_file(const char *path, char hex[SHA256_HEX], uint64_t *size, ch_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[65536];
    uint64_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        sha256_update(&c, buf, (size_t)r);
        total += (uint64_t)r;
    }
    close(fd);
    uint8_t d[SHA256_DIGEST];
    sha256_final(&c, d);
    sha256_hex(d, hex);
    if (size)
        *size = total;
    return CH_OK;
}

/* An unlinked temporary file beside `near` (so payload data stays on the
 * spool's filesystem), or in $TMPDIR. */
static int anon_tmpfile(const char *near)
{
    char dir[TRANSPORT_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", near);
    const char *d = dirname(dir);
    int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    const char *td = getenv("TMPDIR");
    char tmpl[TRANSPORT_PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/.ch-gzip-XXXXXX", td && *td ? td : "/tmp");
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    return fd;
}

ch_code tsource_open(transport *t, const char *local_path, const char *remote_name, tsource *s,
                     ch_error *err)
{
    s->fd = -1;
    s->size = 0;
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: %s", local_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: not a regular file", local_path);
    }
    if (!t->cfg.gzip) {
        s->fd = fd;
        s->size = (uint64_t)st.st_size;
        return CH_OK;
    }
    int z = anon_tmpfile(local_path);
    if (z < 0) {
        close(fd);
        return tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "temporary file for gzip: %s",
                     strerror(errno));
    }
    ch_error e;
    ch_error_clear(&e);
    ch_code rc = tgz_compress_fd(fd, z, &s->size, &e);
    close(fd);
    if (rc == CH_OK && lseek(z, 0, SEEK_SET) < 0)
        rc = ch_error_set(&e, CH_ERR_IO, "gzip: seek: %s", strerror(errno));
    if (rc) {
        close(z);
        return tfail(t, err, rc, 0, "put", remote_name, "%s: %s", local_path, e.msg);
    }
    s->fd = z;
    return CH_OK;
}

void tsource_close(tsource *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

size_t tsource_curl_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    tsource *s = ud;
    for (;;) {
        ssize_t r = read(s->fd, buf, size * nmemb);
        if (r >= 0)
            return (size_t)r;
        if (errno != EINTR)
            return CURL_READFUNC_ABORT;
    }
}

ch_code transport_sent_size(const transport_config *cfg, const char *local_path, uint64_t *size,
                            ch_error *err)
{
    transport t;
    memset(&t, 0, sizeof t);
    t.cfg = *cfg;
    tsource s;
    ch_code rc = tsource_open(&t, local_path, "size", &s, err);
    if (rc == CH_OK) {
        *size = s.size;
        tsource_close(&s);
    }
    return rc;
}

/* ----------------------------------------------------------- download sink */

ch_code tsink_open(transport *t, tsink *s, const char *remote_name, const char *local_dir,
                   const char *final_name, ch_error *err)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->remote_name = remote_name;
    s->fd = -1;
    s->want_gunzip = t->cfg.gzip;
    if (!transport_name_ok(final_name))
        return tfail(t, err, CH_ERR_USAGE, 0, "get", remote_name, "unusable local file name");
    struct stat st;
    if (stat(local_dir, &st) < 0)
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: %s", local_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: not a directory", local_dir);
    if ((size_t)snprintf(s->dir, sizeof s->dir, "%s", local_dir) >= sizeof s->dir ||
        (size_t)snprintf(s->final, sizeof s->final, "%s/%s", local_dir, final_name) >= sizeof s->final ||
        (size_t)snprintf(s->tmp, sizeof s->tmp, "%s/.%s.XXXXXX", local_dir, final_name) >= sizeof s->tmp)
        return tfail(t, err, CH_ERR_LIMIT, 0, "get", remote_name, "local path too long");
    s->fd = mkostemp(s->tmp, O_CLOEXEC);
    if (s->fd < 0)
        return tfail(t, err, CH_ERR_IO, 0, "get", remote_name, "%s: %s", local_dir, strerror(errno));
    sha256_init(&s->sha);
    return CH_OK;
}

static int sink_store(void *ud, const void *p, size_t n)
{
    tsink *s = ud;
    if (twrite_all(s->fd, p, n) < 0) {
        ch_error_set(&s->err, CH_ERR_IO, "%s: %s", s->tmp, strerror(errno));
        return -1;
    }
    sha256_update(&s->sha, p, n);
    s->size += n;
    return 0;
}

static int sink_pass(tsink *s, const void *p, size_t n)
{
    if (!s->gz)
        return sink_store(s, p, n);
    if (tgz_inflate(s->gz, p, n, sink_store, s, &s->err) != CH_OK) {
        if (s->err.code == CH_OK)
            ch_error_set(&s->err, CH_ERR_IO, "gunzip failed");
        return -1;
    }
    return 0;
}

/* Decide raw or gzip from the first two bytes, then pass what was held back. */
static int sink_decide(tsink *s)
{
    s->decided = 1;
    if (tgz_is_gzip(s->head, s->nhead) && tgz_inflater_new(&s->gz, &s->err) != CH_OK)
        return -1;
    return s->nhead ? sink_pass(s, s->head, s->nhead) : 0;
}

int tsink_write(tsink *s, const void *p, size_t n)
{
    if (s->failed)
        return -1;
    const unsigned char *c = p;
    s->received += n;
    if (!s->decided) {
        if (!s->want_gunzip) {
            s->decided = 1;
        } else {
            while (n && s->nhead < 2) {
                s->head[s->nhead++] = *c++;
                n--;
            }
            if (s->nhead < 2)
                return 0;
            if (sink_decide(s) < 0) {
                s->failed = 1;
                return -1;
            }
        }
    }
    if (n && sink_pass(s, c, n) < 0) {
        s->failed = 1;
        return -1;
    }
    return 0;
}

size_t tsink_curl_write(char *p, size_t size, size_t nmemb, void *ud)
{
    return tsink_write(ud, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

void tsink_abort(tsink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->tmp);
    }
    s->fd = -1;
    tgz_inflater_free(s->gz);
    s->gz = NULL;
}

ch_code tsink_commit(tsink *s, char hex[SHA256_HEX], uint64_t *size, ch_error *err)
{
    transport *t = s->t;
    const char *rn = s->remote_name;
    ch_code rc = CH_OK;
    if (s->failed) {
        rc = tfail(t, err, s->err.code ? s->err.code : CH_ERR_IO, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (!s->decided && sink_decide(s) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (s->gz && tgz_inflate_end(s->gz, &s->err) != CH_OK) {
        rc = tfail(t, err, CH_ERR_INVALID, 0, "get", rn, "%s", s->err.msg);
        goto fail;
    }
    if (fsync(s->fd) < 0 || fchmod(s->fd, 0600) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s: %s", s->tmp, strerror(errno));
        goto fail;
    }
    int fd = s->fd;
    s->fd = -1;
    if (close(fd) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "%s: %s", s->tmp, strerror(errno));
        unlink(s->tmp);
        goto fail;
    }
    uint8_t d[SHA256_DIGEST];
    sha256_final(&s->sha, d);
    sha256_hex(d, hex);
    if (size)
        *size = s->size;
    if (rename_noreplace(s->tmp, s->final) < 0) {
        int e = errno;
        if (e == EEXIST) {
            char old[SHA256_HEX];
            uint64_t oldsize = 0;
            ch_error e2;
            if (sha256_file(s->final, old, &oldsize, &e2) == CH_OK && !strcmp(old, hex)) {
                unlink(s->tmp); /* seen twice, same content: keep one */
                tgz_inflater_free(s->gz);
                s->gz = NULL;
                return CH_OK;
            }
            unlink(s->tmp);
            rc = tfail(t, err, CH_ERR_EXISTS, 0, "get", rn,
                       "%s exists already with other content; not replaced", s->final);
            goto fail;
        }
        unlink(s->tmp);
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "rename to %s: %s", s->final, strerror(e));
        goto fail;
    }
    if (fsync_dir(s->dir, 1) < 0) {
        rc = tfail(t, err, CH_ERR_IO, 0, "get", rn, "fsync %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    tgz_inflater_free(s->gz);
    s->gz = NULL;
    return CH_OK;
fail:
    tsink_abort(s);
    return rc;
}

