/*
 * cli.h - what every command shares.
 *
 * A command is a function `int cmd_NAME(int argc, char **argv)` (argv[0] is
 * the command name) returning an exit status: 0 ok, 1 problems found,
 * 2 usage or I/O error.  Each command prints its own --help.
 */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

enum { EXIT_OK = 0, EXIT_PROBLEMS = 1, EXIT_TROUBLE = 2 };

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cli_command;

/* The table of commands, ending with a zeroed entry (engine/main.c). */
extern const cli_command cli_commands[];

/* Print "clearinghouse CMD: MSG" and "Try 'clearinghouse CMD --help'" to
 * stderr; returns EXIT_TROUBLE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when progress should be drawn: stderr is a terminal and not in CI. */
int cli_interactive(void);

#endif
