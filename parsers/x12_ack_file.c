/*
 * x12_ack_file.c - acknowledgment files: written under a hidden temporary
 * name in the target directory, fsynced, then linked to their real name so a
 * reader never sees half a file and an existing acknowledgment is never
 * replaced; the directory is fsynced so the name survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "x12_ack_int.h"

void ack_fail(x12_ack *a, ch_code code, const char *fmt, ...)
{
    if (a->err.code)
        return; /* keep the first */
    va_list ap;
    va_start(ap, fmt);
    ch_error_vset(&a->err, code, fmt, ap);
    va_end(ap);
}

void ack_clean(char *dst, size_t size, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '*' || c == '^' || c == ':' || c == '~')
            continue;
        dst[o++] = (char)c;
    }
    while (o && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
}

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *bad = 1;
    return d;
}

ch_code ack_opts_copy(x12_ack *a, const x12_ack_opts *o)
{
    int bad = 0;
    a->o = *o;
    a->dir = dup_or_null(o->dir, &bad);
    a->base = dup_or_null(o->basename, &bad);
    a->self_id = dup_or_null(o->self_id ? o->self_id : "UNKNOWN", &bad);
    a->partner_id = dup_or_null(o->partner_id ? o->partner_id : "UNKNOWN", &bad);
    a->o.dir = a->o.basename = a->o.self_id = a->o.partner_id = NULL;
    a->next_isa13 = o->isa13 && o->isa13 <= 999999999ul ? o->isa13 : 1;
    a->next_gs06 = o->gs06 && o->gs06 <= 999999999ul ? o->gs06 : 1;
    return bad ? CH_ERR_NOMEM : CH_OK;
}

/* mkdir -p, new directories 0700. */
ch_code ack_mkdirs(const char *dir, ch_error *err)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return ch_error_set(err, CH_ERR_USAGE, "ack: directory name too long");
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return ch_error_set(err, CH_ERR_IO, "ack: mkdir %s: %s", p, strerror(errno));
        *s = c;
        if (!c)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ch_error_set(err, CH_ERR_IO, "ack: %s is not a directory", dir);
    return CH_OK;
}

ch_code ack_file_open(x12_ack *a, ack_file *f, const char *name)
{
    if (a->nfiles >= X12_ACK_MAX_FILES) {
        ack_fail(a, CH_ERR_LIMIT, "ack: more than %d acknowledgment files for one input",
                 X12_ACK_MAX_FILES);
        return a->err.code;
    }
    if (snprintf(f->path, sizeof f->path, "%s/%s", a->dir, name) >= (int)sizeof f->path ||
        snprintf(f->tmp, sizeof f->tmp, "%s/.%s.XXXXXX", a->dir, name) >= (int)sizeof f->tmp) {
        ack_fail(a, CH_ERR_USAGE, "ack: file name too long in %s", a->dir);
        return a->err.code;
    }
    int fd = mkstemp(f->tmp);
    if (fd < 0) {
        ack_fail(a, CH_ERR_IO, "ack: create in %s: %s", a->dir, strerror(errno));
        return a->err.code;
    }
    f->fp = fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
    if (!f->fp) {
        ack_fail(a, CH_ERR_IO, "ack: %s: %s", f->tmp, strerror(errno));
        close(fd);
        unlink(f->tmp);
        return a->err.code;
    }
    return CH_OK;
}

void ack_file_discard(ack_file *f)
{
    if (!f->fp)
        return;
    fclose(f->fp);
    unlink(f->tmp);
    f->fp = NULL;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Give the temporary file its name; without hard links (some network and
 * FAT file systems), rename it when nothing has the name yet. */
static int publish(const ack_file *f)
{
    if (link(f->tmp, f->path) == 0) {
        unlink(f->tmp);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    struct stat st;
    if (lstat(f->path, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(f->tmp, f->path);
}

static ch_code remember(x12_ack *a, const char *path)
{
    if (a->nfiles == a->capfiles) {
        unsigned cap = a->capfiles ? a->capfiles * 2 : 8;
        char **n = realloc(a->files, cap * sizeof *n);
        if (!n)
            return CH_ERR_NOMEM;
        a->files = n;
        a->capfiles = cap;
    }
    if (!(a->files[a->nfiles] = strdup(path)))
        return CH_ERR_NOMEM;
    a->nfiles++;
    return CH_OK;
}

ch_code ack_file_commit(x12_ack *a, ack_file *f)
{
    FILE *fp = f->fp;
    f->fp = NULL;
    int bad = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
    int e = errno;
    if (fclose(fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad || publish(f) != 0) {
        e = bad ? e : errno;
        unlink(f->tmp);
        ack_fail(a, e == EEXIST ? CH_ERR_EXISTS : CH_ERR_IO, "ack: %s: %s", f->path,
                 e == EEXIST ? "exists already (not replaced)" : strerror(e));
        return a->err.code;
    }
    sync_dir(a->dir);
    if (remember(a, f->path) != CH_OK)
        ack_fail(a, CH_ERR_NOMEM, "ack: out of memory listing %s", f->path);
    return a->err.code;
}
