/*
 * cmd_ops.h - what the operator's commands share: `rejects`
 * (cmd_rejects.c), `replay` (cmd_replay.c), `correct` and `void`
 * (cmd_correct.c) and `status` (cmd_status.c).  Internal to those commands;
 * commands.h is how main reaches them.
 *
 * Each one runs as an operator (--operator, CH_OPERATOR or the Unix user,
 * see operator.h) and hands the operator's scope to the ledger, which never
 * reads a claim or batch of a practice outside it.  A --practice outside the
 * scope is refused ("not permitted", exit 2), and a claim or batch id
 * outside it reads as not found, the same as one that does not exist.
 */
#ifndef CMD_OPS_H
#define CMD_OPS_H

#include <stdint.h>

#include "app.h"
#include "ledger.h"

typedef struct ops_args {
    const char *config, *operator_name, *practice;
    int64_t claim, batch;
    int json;
} ops_args;

/* Options: --config --operator --practice --json, and --claim / --batch when
 * ids is set (a positive number each).  Fills *a (no copies: the strings are
 * argv's).  Returns -1 to go on, else the exit status (help printed, or a
 * usage error). */
int ops_parse(const char *cmd, int argc, char **argv, int ids, ops_args *a, void (*help)(void));

/* app_open, the operator's scope and the --practice check.  EXIT_OK with *a
 * open (the caller app_closes it), else the exit status with nothing open. */
int ops_open(const char *cmd, const ops_args *o, app *a, ledger_scope *scope);

/* The claim asked for (o->claim), inside scope and --practice, into *c
 * (without its document).  EXIT_OK, else EXIT_TROUBLE after printing why. */
int ops_get_claim(const char *cmd, app *a, const ledger_scope *scope, const ops_args *o, ledger_claim *c);

/* Counting claims: a ledger_claim_fn adding one to ((ops_count_ctx *)ctx)->n. */
typedef struct ops_count_ctx {
    uint64_t n;
} ops_count_ctx;
int ops_on_count(void *vc, const ledger_claim *c);

#endif
