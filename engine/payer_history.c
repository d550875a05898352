/* payer_history.c - the synthetic payer's adjudications (see payer_history.h) */
#include "payer_history.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int clean(const char *s)
{
    return !strpbrk(s, "\t\r\n");
}

int payer_history_line(const payer_adjudication *a, char *buf, size_t size)
{
    if (!clean(a->payer_claim_no) || !clean(a->pcn) || !a->payer_claim_no[0])
        return -1;
    int n = snprintf(buf, size, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%c\n",
                     a->payer_claim_no, a->pcn, a->charge, a->paid, a->patient, a->co45, a->co50,
                     a->institutional ? 'I' : 'P');
    return n < 0 || (size_t)n >= size ? -1 : n;
}

ch_code payer_history_append(const char *path, const char *text, size_t len, ch_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == len && fsync(fd) == 0;
    int e = errno;
    close(fd);
    return ok ? CH_OK : ch_error_set(err, CH_ERR_IO, "%s: %s", path, done < len ? "write failed" : strerror(e));
}

/* Split line into its 8 fields; 1 when it has them all. */
static int parse(char *line, payer_adjudication *a)
{
    char *f[8];
    int n = 0;
    for (char *p = line; n < 8; n++) {
        f[n] = p;
        char *tab = strchr(p, '\t');
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (n != 8)
        return 0;
    f[7][strcspn(f[7], "\r\n")] = '\0';
    memset(a, 0, sizeof *a);
    snprintf(a->payer_claim_no, sizeof a->payer_claim_no, "%s", f[0]);
    snprintf(a->pcn, sizeof a->pcn, "%s", f[1]);
    int64_t *v[5] = {&a->charge, &a->paid, &a->patient, &a->co45, &a->co50};
    for (int i = 0; i < 5; i++) {
        char *end;
        errno = 0;
        long long x = strtoll(f[2 + i], &end, 10);
        if (errno || end == f[2 + i] || *end)
            return 0;
        *v[i] = (int64_t)x;
    }
    a->institutional = f[7][0] == 'I';
    return 1;
}

ch_code payer_history_find(const char *path, const char *no, payer_adjudication *out, ch_error *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT)
            return ch_error_set(err, CH_ERR_NOTFOUND, "payer history: no claim %s", no);
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    }
    char line[512];
    int found = 0;
    payer_adjudication a;
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        if (len && line[len - 1] != '\n' && !feof(fp)) {
            /* longer than any line we write: skip the rest of it */
            int c;
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            continue;
        }
        size_t nl = strlen(no);
        if (strncmp(line, no, nl) || line[nl] != '\t')
            continue;
        if (parse(line, &a)) {
            *out = a;
            found = 1;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad)
        return ch_error_set(err, CH_ERR_IO, "%s: read error", path);
    return found ? CH_OK : ch_error_set(err, CH_ERR_NOTFOUND, "payer history: no claim %s", no);
}

ch_code payer_history_taken_back(const char *path, const char *frequency, const char *no, payer_adjudication *out,
                                 ch_error *err)
{
    if (!path || !no || !no[0] || !frequency || (strcmp(frequency, "7") && strcmp(frequency, "8")))
        return CH_ERR_NOTFOUND;
    ch_error e;
    ch_code rc = payer_history_find(path, no, out, &e);
    if (rc != CH_OK && rc != CH_ERR_NOTFOUND && err)
        *err = e;
    return rc;
}
