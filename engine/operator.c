/* operator.c - see operator.h */
#include "operator.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void who(const char *opt_name, char *out, size_t size)
{
    const char *n = opt_name && opt_name[0] ? opt_name : getenv(OPERATOR_ENV);
    if (n && n[0]) {
        snprintf(out, size, "%s", n);
        return;
    }
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && pw->pw_name[0]) {
        snprintf(out, size, "%s", pw->pw_name);
        return;
    }
    n = getenv("USER");
    snprintf(out, size, "%s", n && n[0] ? n : "unknown");
}

int operator_scope(const config *cfg, const char *cmd, const char *opt_name, ledger_scope *scope)
{
    memset(scope, 0, sizeof *scope);
    who(opt_name, scope->operator_name, sizeof scope->operator_name);
    if (!cfg->operators_configured) {
        scope->all = 1;
        return 0;
    }
    const config_operator *o = config_operator_find(cfg, scope->operator_name);
    if (!o) {
        fprintf(stderr, "clearinghouse %s: operator '%s' is not in the configuration's operators: no practices\n",
                cmd, scope->operator_name);
        return 0;
    }
    if (o->all) {
        scope->all = 1;
        return 0;
    }
    for (size_t i = 0; i < o->npractices && i < LEDGER_SCOPE_MAX; i++)
        ledger_scope_add(scope, o->practices[i], NULL);
    return 0;
}

int operator_practice_check(const config *cfg, const char *cmd, const ledger_scope *scope, const char *practice)
{
    if (!practice)
        return 0;
    if (!ledger_scope_allows(scope, practice)) {
        fprintf(stderr, "clearinghouse %s: practice '%s': not permitted for operator '%s'\n", cmd, practice,
                scope->operator_name);
        return EXIT_TROUBLE;
    }
    if (!config_practice_find(cfg, practice)) {
        fprintf(stderr, "clearinghouse %s: practice '%s' is not configured\n", cmd, practice);
        return EXIT_TROUBLE;
    }
    return 0;
}

const char *operator_actor(const ledger_scope *scope)
{
    return scope->operator_name[0] ? scope->operator_name : "operator";
}
