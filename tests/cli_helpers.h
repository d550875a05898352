/* cli_helpers.h - run the clearinghouse binary from a test. */
#ifndef CLI_HELPERS_H
#define CLI_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/*
 * Run `$CH_BIN ARGS` through sh in $CH_ROOT, capturing stdout (and stderr
 * appended) into *out (malloc'ed, caller frees).  Returns the exit status.
 */
static inline int ch_run(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline int ch_run(char **out, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("CH_BIN") ? getenv("CH_BIN") : "build/clearinghouse";
    const char *root = getenv("CH_ROOT") ? getenv("CH_ROOT") : ".";
    snprintf(cmd, sizeof cmd, "cd '%s' && CH_BIN='%s' && export CH_BIN && \"$CH_BIN\" %s 2>&1", root, bin, args);
    FILE *p = popen(cmd, "r");
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (p && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = p ? pclose(p) : -1;
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
