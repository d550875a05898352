/*
 * tu.h - test utilities: a throw-away engine home (temp dir with the shipped
 * configuration and payer profiles, a spool and a ledger), file helpers.
 */
#ifndef TU_H
#define TU_H

#include <stddef.h>

#include "config.h"
#include "ledger.h"

/* The project root: $CH_ROOT, else ".". */
const char *tu_root(void);

/* A path under the project root (static buffer, one of 8 in rotation). */
const char *tu_src(const char *rel);

typedef struct tu_env {
    char dir[256];       /* the temp dir, also the current directory */
    char prev[4096];     /* the directory before */
    config *cfg;
    ledger *led;
} tu_env;

/*
 * mkdtemp a home, chdir into it, copy conf/clearinghouse.yaml and
 * payer-profiles/ from the project, load the configuration and open the
 * ledger.  Aborts the test (cr_assert) on failure.
 */
void tu_env_init(tu_env *e);
/* Reload the configuration (after editing files) and reopen the ledger. */
void tu_env_reload(tu_env *e);
/* Close, chdir back, remove the temp dir. */
void tu_env_fini(tu_env *e);

/* Read a whole file (NUL-terminated, malloc'd), NULL when it cannot be read. */
char *tu_read(const char *path, size_t *len);
/* Write text to path (cr_assert on failure). */
void tu_write(const char *path, const char *text);
/* Copy a file (cr_assert on failure). */
void tu_copy(const char *from, const char *to);
/* Files in dir whose name ends with suffix ("" for all), not counting dot files. */
int tu_count(const char *dir, const char *suffix);
/* The first file in dir whose name ends with suffix, into out; 0 if none. */
int tu_first(const char *dir, const char *suffix, char *out, size_t size);
/* rm -rf */
void tu_rmtree(const char *path);
/* Run a shell command in the current directory; its exit status. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
