/*
 * app.h - what the spool commands (intake, batch, claims) do first: read the
 * configuration, start the log, open the ledger.
 */
#ifndef APP_H
#define APP_H

#include "config.h"
#include "ledger.h"

typedef struct app {
    config *cfg;
    ledger *led;
} app;

/*
 * Load the configuration at path (NULL: CONFIG_DEFAULT_PATH), open its log
 * and its ledger (creating the spool root for a SQLite ledger under it).
 * On failure prints "clearinghouse CMD: ..." to stderr and returns the exit
 * status to use (2); on success 0.
 */
int app_open(app *a, const char *cmd, const char *config_path);

/*
 * For a command's --payer: 0 when payer is NULL or has a profile in the
 * configuration; otherwise closes the app, prints the usage error for cmd
 * and returns its exit status (2).
 */
int app_check_payer(app *a, const char *cmd, const char *payer);

void app_close(app *a);

#endif
