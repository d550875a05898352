/*
 * operator.h - who is running a command and which practices they may see.
 *
 * The operator is named by --operator NAME, else the environment variable
 * CH_OPERATOR, else the Unix user name.  When the configuration has an
 * `operators:` section, the operator's practices come from it and an
 * operator not listed gets an empty scope (sees nothing, changes nothing);
 * without the section every operator sees every practice.
 *
 * The scope is handed to the ledger, which enforces it in its queries
 * (see "operators" in ledger.h).
 */
#ifndef OPERATOR_H
#define OPERATOR_H

#include "config.h"
#include "ledger.h"

#define OPERATOR_ENV "CH_OPERATOR"

/*
 * Fill *scope for the operator named by opt_name (NULL: CH_OPERATOR, else
 * the Unix user).  scope->operator_name is set.  Prints a note to stderr
 * when the operator is not configured.  Returns 0.
 */
int operator_scope(const config *cfg, const char *cmd, const char *opt_name, ledger_scope *scope);

/*
 * A --practice the operator asked for: 0 when it is in scope (or NULL);
 * otherwise prints "clearinghouse CMD: practice P: not permitted for
 * operator X" (or "... is not configured") and returns EXIT_TROUBLE.
 */
int operator_practice_check(const config *cfg, const char *cmd, const ledger_scope *scope, const char *practice);

/* "replay of ... by operator NAME": the actor recorded in events. */
const char *operator_actor(const ledger_scope *scope);

#endif
