/* app.c - see app.h */
#include "app.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "spool.h"


int app_open(app *a, const char *cmd, const char *config_path)
{
    ch_error err;
    memset(a, 0, sizeof *a);
    /* Reading a document allocates and frees a few arenas; with glibc's
     * default trimming each free hands memory back to the kernel and the
     * next parse faults it in again (and with threads, every trim is a TLB
     * shootdown).  Keep freed memory: the commands are short-lived. */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    const char *path = config_path ? config_path : CONFIG_DEFAULT_PATH;
    if (config_load(&a->cfg, path, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        return EXIT_TROUBLE;
    }
    if (log_open(a->cfg->log_file, (log_level)(LOG_ERROR - (int)a->cfg->log_level), &err) != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        app_close(a);
        return EXIT_TROUBLE;
    }
    if (!strcmp(a->cfg->ledger_backend, "sqlite")) {
        /* the database's directory must exist; the spool root usually holds it */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", a->cfg->ledger_path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if (spool_mkdirs(dir, &err) != CH_OK) {
                fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
                app_close(a);
                return EXIT_TROUBLE;
            }
        }
    }
    const char *target = !strcmp(a->cfg->ledger_backend, "sqlite") ? a->cfg->ledger_path : a->cfg->ledger_dsn_env;
    if (ledger_open(&a->led, a->cfg->ledger_backend, target, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse %s: %s\n", cmd, err.msg);
        app_close(a);
        return EXIT_TROUBLE;
    }
    return EXIT_OK;
}

void app_close(app *a)
{
    ledger_close(a->led);
    config_free(a->cfg);
    log_close();
    memset(a, 0, sizeof *a);
}

int app_check_payer(app *a, const char *cmd, const char *payer)
{
    if (!payer || config_profile(a->cfg, payer))
        return EXIT_OK;
    app_close(a);
    return cli_usage_error(cmd, "payer '%s' is not configured", payer);
}
