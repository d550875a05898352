/* tu.c - see tu.h */
#include "tu.h"

#include "log.h"
#include "spool.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_root(void)
{
    const char *r = getenv("CH_ROOT");
    return r && r[0] ? r : ".";
}

const char *tu_src(const char *rel)
{
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 4096, "%s/%s", tu_root(), rel);
    return b;
}

char *tu_read(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    if (b) {
        b[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return b;
}

void tu_write(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    cr_assert(fp, "cannot write %s: %s", path, strerror(errno));
    fputs(text, fp);
    fclose(fp);
}

void tu_copy(const char *from, const char *to)
{
    size_t n;
    char *b = tu_read(from, &n);
    cr_assert(b, "cannot read %s", from);
    FILE *fp = fopen(to, "wb");
    cr_assert(fp, "cannot write %s: %s", to, strerror(errno));
    fwrite(b, 1, n, fp);
    fclose(fp);
    free(b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int tu_count(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && ends_with(de->d_name, suffix))
            n++;
    closedir(d);
    return n;
}

int tu_first(const char *dir, const char *suffix, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    char best[1024] = "";
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && ends_with(de->d_name, suffix) && (!best[0] || strcmp(de->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    if (!best[0])
        return 0;
    snprintf(out, size, "%s/%s", dir, best);
    return 1;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    remove(p);
    return 0;
}

void tu_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tu_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(stdout);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void open_all(tu_env *e)
{
    ch_error err;
    cr_assert_eq(config_load(&e->cfg, "conf/clearinghouse.yaml", &err), CH_OK, "config: %s", err.msg);
    cr_assert_eq(spool_init(e->cfg->spool, &err), CH_OK, "spool: %s", err.msg);
    cr_assert_eq(ledger_open(&e->led, "sqlite", e->cfg->ledger_path, &err), CH_OK, "ledger: %s", err.msg);
}

void tu_env_init(tu_env *e)
{
    memset(e, 0, sizeof *e);
    log_open(NULL, LOG_ERROR, NULL); /* the tests check what they expect; keep the output short */
    cr_assert(getcwd(e->prev, sizeof e->prev));
    snprintf(e->dir, sizeof e->dir, "/tmp/chtest.XXXXXX");
    cr_assert(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
    const char *conf = tu_src("conf/clearinghouse.yaml");
    const char *prof = tu_src("payer-profiles");
    cr_assert_eq(chdir(e->dir), 0);
    cr_assert_eq(mkdir("conf", 0700), 0);
    cr_assert_eq(mkdir("payer-profiles", 0700), 0);
    tu_copy(conf, "conf/clearinghouse.yaml");
    DIR *d = opendir(prof);
    cr_assert(d, "no %s", prof);
    struct dirent *de;
    while ((de = readdir(d)))
        if (ends_with(de->d_name, ".yaml")) {
            char from[4096], to[512];
            snprintf(from, sizeof from, "%s/%s", prof, de->d_name);
            snprintf(to, sizeof to, "payer-profiles/%s", de->d_name);
            tu_copy(from, to);
        }
    closedir(d);
    open_all(e);
}

void tu_env_reload(tu_env *e)
{
    ledger_close(e->led);
    config_free(e->cfg);
    e->led = NULL;
    e->cfg = NULL;
    open_all(e);
}

void tu_env_fini(tu_env *e)
{
    ledger_close(e->led);
    config_free(e->cfg);
    if (chdir(e->prev) != 0)
        return;
    if (!getenv("CH_KEEP"))
        tu_rmtree(e->dir);
}
