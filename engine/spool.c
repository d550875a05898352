/* spool.c - see spool.h */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ch_code spool_mkdirs(const char *dir, ch_error *err)
{
    char p[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p)
        return ch_error_set(err, CH_ERR_LIMIT, "%s: bad directory name", dir);
    memcpy(p, dir, n + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            return ch_error_set(err, CH_ERR_IO, "%s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", p, strerror(errno));
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
        return ch_error_set(err, CH_ERR_IO, "%s: not a directory", p);
    return CH_OK;
}

ch_code spool_init(const char *root, ch_error *err)
{
    static const char *const areas[] = {SPOOL_INBOUND, SPOOL_FAILED, SPOOL_OUTBOUND, SPOOL_INBOX,
                                        SPOOL_ARCHIVE, SPOOL_REPORTS, NULL};
    ch_code rc = spool_mkdirs(root, err);
    for (const char *const *a = areas; rc == CH_OK && *a; a++) {
        char p[PATH_MAX];
        rc = spool_dir(p, sizeof p, root, *a, NULL, err);
    }
    return rc;
}

ch_code spool_dir(char *out, size_t size, const char *root, const char *area, const char *sub, ch_error *err)
{
    int n = sub ? snprintf(out, size, "%s/%s/%s", root, area, sub) : snprintf(out, size, "%s/%s", root, area);
    if (n < 0 || (size_t)n >= size)
        return ch_error_set(err, CH_ERR_LIMIT, "%s/%s: path too long", root, area);
    return spool_mkdirs(out, err);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}

int spool_is_encounter_name(const char *name)
{
    if (name[0] == '.')
        return 0;
    return ends_with(name, ".yaml") || ends_with(name, ".yml") || ends_with(name, ".json");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ch_code spool_list(const char *dir, int (*want)(const char *name), char ***names, size_t *n, ch_error *err)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return CH_OK;
        return ch_error_set(err, CH_ERR_IO, "%s: %s", dir, strerror(errno));
    }
    size_t cap = 0;
    struct dirent *de;
    ch_code rc = CH_OK;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (want && !want(de->d_name))
            continue;
        /* d_type saves a stat per file; file systems that do not fill it
         * in (DT_UNKNOWN) get the stat */
        int reg = de->d_type == DT_REG;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            reg = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
        }
        if (!reg)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            char **nn = realloc(*names, nc * sizeof *nn);
            if (!nn) {
                rc = ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", dir);
                break;
            }
            *names = nn;
            cap = nc;
        }
        if (!((*names)[*n] = strdup(de->d_name))) {
            rc = ch_error_set(err, CH_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        (*n)++;
        errno = 0;
    }
    if (rc == CH_OK && errno)
        rc = ch_error_set(err, CH_ERR_IO, "%s: %s", dir, strerror(errno));
    closedir(d);
    if (rc != CH_OK) {
        spool_list_free(*names, *n);
        *names = NULL;
        *n = 0;
        return rc;
    }
    if (*n > 1)
        qsort(*names, *n, sizeof **names, cmp_names);
    return CH_OK;
}

void spool_list_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

ch_code spool_sync_dir(const char *dir, ch_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", dir, strerror(errno));
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r < 0 && e != EINVAL) /* some file systems cannot fsync a directory */
        return ch_error_set(err, CH_ERR_IO, "%s: fsync: %s", dir, strerror(e));
    return CH_OK;
}

ch_code spool_write_atomic(const char *dir, const char *name, const void *data, size_t len, ch_error *err)
{
    char tmp[PATH_MAX], dst[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp ||
        (size_t)snprintf(dst, sizeof dst, "%s/%s", dir, name) >= sizeof dst)
        return ch_error_set(err, CH_ERR_LIMIT, "%s/%s: path too long", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "%s: fsync: %s", tmp, strerror(e));
    }
    if (close(fd) < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (rename(tmp, dst) < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: rename: %s", dst, strerror(errno));
    return spool_sync_dir(dir, err);
}

/* rename, refusing to replace: renameat2 where the file system has it,
 * link + unlink (which also refuses) where it does not. */
static int rename_noreplace(int fd1, const char *from, int fd2, const char *to)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(fd1, from, fd2, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    if (linkat(fd1, from, fd2, to, 0) < 0)
        return -1;
    if (unlinkat(fd1, from, 0) < 0)
        return -1;
    return 0;
}

ch_code spool_move_at(int from_dir, const char *from_name, int to_dir, const char *to_dir_path, const char *name,
                      char *final, size_t final_size, ch_error *err)
{
    const char *base = name;
    if (!base) {
        base = strrchr(from_name, '/');
        base = base ? base + 1 : from_name;
    }
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    const char *ext = base + stem;
    /* relative to to_dir when it is a descriptor, else the whole path */
    const char *prefix = to_dir == AT_FDCWD ? to_dir_path : NULL;
    char to[PATH_MAX];
    for (unsigned i = 0; i < 10000; i++) {
        int n = i == 0 ? snprintf(to, sizeof to, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", base)
                       : snprintf(to, sizeof to, "%s%s%.*s.%u%s", prefix ? prefix : "", prefix ? "/" : "",
                                  (int)stem, base, i, ext);
        if (n < 0 || (size_t)n >= sizeof to)
            return ch_error_set(err, CH_ERR_LIMIT, "%s/%s: path too long", to_dir_path, base);
        if (rename_noreplace(from_dir, from_name, to_dir, to) == 0) {
            if (final) {
                if (prefix)
                    snprintf(final, final_size, "%s", to);
                else
                    snprintf(final, final_size, "%s/%s", to_dir_path, to);
            }
            return CH_OK;
        }
        if (errno != EEXIST)
            return ch_error_set(err, CH_ERR_IO, "%s -> %s: %s", from_name, to_dir_path, strerror(errno));
    }
    return ch_error_set(err, CH_ERR_EXISTS, "%s: 10000 files of that name in %s already", base, to_dir_path);
}

ch_code spool_move(const char *from, const char *to_dir, const char *name, char *final, size_t final_size,
                   ch_error *err)
{
    return spool_move_at(AT_FDCWD, from, AT_FDCWD, to_dir, name, final, final_size, err);
}

ch_code spool_fail(const char *from, const char *failed_dir, const char *name, const char *reason, char *final,
                   size_t final_size, ch_error *err)
{
    char moved[PATH_MAX];
    ch_code rc = spool_move(from, failed_dir, name, moved, sizeof moved, err);
    if (rc != CH_OK)
        return rc;
    if (final)
        snprintf(final, final_size, "%s", moved);
    const char *base = strrchr(moved, '/');
    base = base ? base + 1 : moved;
    char error_name[NAME_MAX + 8];
    snprintf(error_name, sizeof error_name, "%s.error", base);
    rc = spool_write_atomic(failed_dir, error_name, reason, strlen(reason), err);
    if (rc != CH_OK)
        return rc;
    /* the source directory lost a file */
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s", from);
    char *slash = strrchr(src, '/');
    if (slash) {
        *slash = '\0';
        return spool_sync_dir(src[0] ? src : "/", err);
    }
    return spool_sync_dir(".", err);
}
