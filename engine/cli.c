/*
 * cli.c - the helpers every command shares (see cli.h).  Kept out of main.c
 * so that the test binary, which links every command but not main(), has
 * them too.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "clearinghouse %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clearinghouse %s --help'.\n", cmd);
    return EXIT_TROUBLE;
}

int cli_interactive(void)
{
    const char *ci = getenv("CI");
    return isatty(STDERR_FILENO) && !(ci && *ci);
}
