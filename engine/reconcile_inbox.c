/* reconcile_inbox.c - the daemon's reconciliation: every file in
 * SPOOL/inbox/<payer>/, then moved to SPOOL/archive/<payer>/ (see reconcile.h). */
#include "reconcile.h"

#include <limits.h>
#include <stdio.h>

#include "log.h"
#include "spool.h"

static int any_name(const char *name) { return name[0] != '.'; }

static ch_code inbox_payer(reconciler *r, const config *cfg, const char *payer, unsigned *done, ch_error *err)
{
    char dir[PATH_MAX], arch[PATH_MAX];
    ch_code rc;
    if ((rc = spool_dir(dir, sizeof dir, cfg->spool, SPOOL_INBOX, payer, err)) != CH_OK ||
        (rc = spool_dir(arch, sizeof arch, cfg->spool, SPOOL_ARCHIVE, payer, err)) != CH_OK)
        return rc;
    char **names = NULL;
    size_t n = 0;
    if ((rc = spool_list(dir, any_name, &names, &n, err)) != CH_OK)
        return rc;
    for (size_t i = 0; i < n && rc == CH_OK; i++) {
        char path[PATH_MAX], final[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        reconcile_file_result res;
        ch_error e;
        ch_code frc = reconcile_file(r, path, payer, &res, &e);
        if (frc == CH_ERR_DB || frc == CH_ERR_BUSY || frc == CH_ERR_NOMEM) {
            rc = frc; /* leave the file where it is: the next round tries again */
            if (err)
                *err = e;
            break;
        }
        if (frc != CH_OK)
            log_msg(LOG_WARNING, "reconcile: %s", e.msg);
        rc = spool_move(path, arch, names[i], final, sizeof final, err);
        if (rc == CH_OK)
            (*done)++;
    }
    spool_list_free(names, n);
    return rc;
}

ch_code reconcile_inbox(const config *cfg, ledger *l, const char *payer, unsigned *done, ch_error *err)
{
    *done = 0;
    reconciler *r;
    ch_code rc = reconcile_new(&r, cfg, l, NULL, err);
    if (rc != CH_OK)
        return rc;
    if (payer)
        rc = inbox_payer(r, cfg, payer, done, err);
    else
        for (size_t i = 0; i < cfg->nprofiles && rc == CH_OK; i++)
            rc = inbox_payer(r, cfg, cfg->profiles[i]->name, done, err);
    ch_code rc2 = reconcile_finish(r, NULL, NULL, rc == CH_OK ? err : NULL);
    reconcile_free(r);
    return rc != CH_OK ? rc : rc2;
}
