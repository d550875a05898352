/*
 * transport_dir.c - the `dir` transport: a local or mounted directory.
 *
 * Used by the demo payer and the tests, and by payers reached through a
 * mounted share.  Same contract as SFTP: uploads are written under the
 * temporary name, fsync'ed and renamed into place without replacing
 * anything; archive is a rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "transport_impl.h"

/* Failures of a mount that may come back are worth a retry. */
static int transient(int e)
{
    return e == EIO || e == ESTALE || e == ENOTCONN || e == ETIMEDOUT || e == EAGAIN ||
           e == EHOSTDOWN || e == EHOSTUNREACH;
}

static ch_code dfail(transport *t, ch_error *err, const char *step, const char *name, int e,
                     const char *what)
{
    ch_code code = e == ENOENT ? CH_ERR_NOTFOUND : e == EACCES || e == EPERM ? CH_ERR_DENIED
                                                                             : CH_ERR_IO;
    return tfail(t, err, code, transient(e), step, name, "%s: %s", what, strerror(e));
}

static int join(char *out, size_t outsz, const char *dir, const char *pre, const char *name,
                const char *suf)
{
    return (size_t)snprintf(out, outsz, "%s/%s%s%s", dir, pre, name, suf) < outsz ? 0 : -1;
}

static ch_code dir_open(transport *t, ch_error *err)
{
    (void)t;
    (void)err;
    return CH_OK;
}

static ch_code need(transport *t, const char *dir, const char *what, const char *step,
                    const char *name, ch_error *err)
{
    if (!dir[0])
        return tfail(t, err, CH_ERR_CONFIG, 0, step, name, "the profile has no %s", what);
    return CH_OK;
}

static ch_code dir_put(transport *t, const char *local_path, const char *remote_name, ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->upload_dir, "upload_dir", "put", remote_name, err);
    if (rc)
        return rc;
    char tmp[TRANSPORT_PATH_MAX], fin[TRANSPORT_PATH_MAX];
    if (join(tmp, sizeof tmp, d->upload_dir, t->cfg.temp_prefix, remote_name, t->cfg.temp_suffix) ||
        join(fin, sizeof fin, d->upload_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "put", remote_name, "path too long");
    struct stat st;
    if (lstat(fin, &st) == 0)
        return tfail(t, err, CH_ERR_EXISTS, 0, "put", remote_name,
                     "%s exists already (delivered before?); not overwritten", fin);
    tsource src;
    if ((rc = tsource_open(t, local_path, remote_name, &src, err)))
        return rc;
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (out < 0) {
        int e = errno;
        tsource_close(&src);
        return dfail(t, err, "put", remote_name, e, tmp);
    }
    char buf[65536];
    int e = 0;
    for (;;) {
        ssize_t r = read(src.fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = tfail(t, err, CH_ERR_IO, 0, "put", remote_name, "%s: %s", local_path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        for (ssize_t o = 0; o < r;) {
            ssize_t w = write(out, buf + o, (size_t)(r - o));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                e = errno;
                break;
            }
            o += w;
        }
        if (e)
            break;
    }
    tsource_close(&src);
    if (!rc && !e && fsync(out) < 0)
        e = errno;
    if (close(out) < 0 && !e)
        e = errno;
    if (!rc && e)
        rc = dfail(t, err, "put", remote_name, e, tmp);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (rename_noreplace(tmp, fin) < 0) {
        e = errno;
        unlink(tmp);
        if (e == EEXIST)
            return tfail(t, err, CH_ERR_EXISTS, 0, "put", remote_name,
                         "%s exists already (delivered before?); not overwritten", fin);
        return dfail(t, err, "put", remote_name, e, fin);
    }
    if (fsync_dir(d->upload_dir, 1) < 0)
        return dfail(t, err, "put", remote_name, errno, d->upload_dir);
    return CH_OK;
}

static ch_code dir_exists(transport *t, const char *remote_name, int *exists, uint64_t *size,
                          ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->upload_dir, "upload_dir", "exists", remote_name, err);
    if (rc)
        return rc;
    char fin[TRANSPORT_PATH_MAX];
    if (join(fin, sizeof fin, d->upload_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "exists", remote_name, "path too long");
    struct stat st;
    if (lstat(fin, &st) < 0) {
        if (errno == ENOENT)
            return CH_OK;
        return dfail(t, err, "exists", remote_name, errno, fin);
    }
    *exists = 1;
    if (size)
        *size = (uint64_t)st.st_size;
    return CH_OK;
}

static ch_code dir_list(transport *t, char ***names, size_t *n, ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->response_dir, "response_dir", "list", NULL, err);
    if (rc)
        return rc;
    DIR *dp = opendir(d->response_dir);
    if (!dp)
        return dfail(t, err, "list", NULL, errno, d->response_dir);
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        int reg = de->d_type == DT_REG;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            reg = fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
        }
        if (reg && tnames_push(names, n, &cap, de->d_name, strlen(de->d_name)) < 0) {
            closedir(dp);
            transport_names_free(*names, *n);
            *names = NULL;
            *n = 0;
            return tfail(t, err, CH_ERR_NOMEM, 0, "list", NULL, "out of memory");
        }
    }
    closedir(dp);
    return CH_OK;
}

static ch_code dir_get(transport *t, const char *remote_name, tsink *sink, ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->response_dir, "response_dir", "get", remote_name, err);
    if (rc)
        return rc;
    char src[TRANSPORT_PATH_MAX];
    if (join(src, sizeof src, d->response_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "get", remote_name, "path too long");
    int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return dfail(t, err, "get", remote_name, errno, src);
    char buf[65536];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return dfail(t, err, "get", remote_name, e, src);
        }
        if (r == 0)
            break;
        if (tsink_write(sink, buf, (size_t)r) < 0)
            break; /* tsink_commit reports it */
    }
    close(fd);
    return CH_OK;
}

static ch_code dir_remove(transport *t, const char *remote_name, ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->response_dir, "response_dir", "remove", remote_name, err);
    if (rc)
        return rc;
    char src[TRANSPORT_PATH_MAX];
    if (join(src, sizeof src, d->response_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "remove", remote_name, "path too long");
    if (unlink(src) < 0)
        return dfail(t, err, "remove", remote_name, errno, src);
    fsync_dir(d->response_dir, 1);
    return CH_OK;
}

static ch_code dir_archive(transport *t, const char *remote_name, ch_error *err)
{
    const transport_dir_config *d = &t->cfg.dir;
    ch_code rc = need(t, d->archive_dir, "archive_dir", "archive", remote_name, err);
    if (rc || (rc = need(t, d->response_dir, "response_dir", "archive", remote_name, err)))
        return rc;
    char src[TRANSPORT_PATH_MAX], dst[TRANSPORT_PATH_MAX];
    if (join(src, sizeof src, d->response_dir, "", remote_name, "") ||
        join(dst, sizeof dst, d->archive_dir, "", remote_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "path too long");
    if (rename_noreplace(src, dst) < 0) {
        if (errno != EEXIST)
            return dfail(t, err, "archive", remote_name, errno, dst);
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, ".%Y%m%dT%H%M%SZ", &tm);
        if (join(dst, sizeof dst, d->archive_dir, "", remote_name, stamp))
            return tfail(t, err, CH_ERR_LIMIT, 0, "archive", remote_name, "path too long");
        if (rename_noreplace(src, dst) < 0)
            return dfail(t, err, "archive", remote_name, errno, dst);
    }
    fsync_dir(d->archive_dir, 1);
    fsync_dir(d->response_dir, 1);
    return CH_OK;
}

static ch_code dir_discard(transport *t, const char *temp_name, ch_error *err)
{
    char p[TRANSPORT_PATH_MAX];
    if (join(p, sizeof p, t->cfg.dir.upload_dir, "", temp_name, ""))
        return tfail(t, err, CH_ERR_LIMIT, 0, "discard", temp_name, "path too long");
    if (unlink(p) < 0)
        return dfail(t, err, "discard", temp_name, errno, p);
    return CH_OK;
}

static void dir_close(transport *t) { (void)t; }

const transport_ops transport_dir_ops = {
    dir_open, dir_put, dir_exists, dir_list, dir_get, dir_remove, dir_archive, dir_discard, dir_close,
};
