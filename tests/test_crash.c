/*
 * test_crash.c - kill -9 the daemon at random moments across 1,000
 * encounters (at least 20 kills), restarting it each time; afterwards every
 * encounter is exactly one claim in exactly one delivered batch, nothing is
 * left in the spool, no claim was paid twice.  The work is in
 * tests/crash_daemon.sh; this runs it with the binary under test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_helpers.h"

Test(crash, sigkill_the_daemon_at_random_moments, .timeout = 240)
{
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    const char *bin = getenv("CH_BIN");
    cr_assert_not_null(bin);
    char cmd[4096];
    /* under valgrind the same proof with fewer encounters */
    snprintf(cmd, sizeof cmd, "CRASH_ENCOUNTERS=%s bash '%s/tests/crash_daemon.sh' '%s' '%s' 2>&1",
             getenv("CH_VALGRIND") ? "200" : "1000", root, bin, root);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", out);
}
