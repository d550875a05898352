/*
 * lockfile.h - one daemon per spool.
 *
 * An flock(2) on <spool>/.lock, held for the life of the process: the kernel
 * drops it when the process dies, even by SIGKILL, so a crash never leaves a
 * stale lock behind.  The file holds the holder's pid for operators.
 */
#ifndef LOCKFILE_H
#define LOCKFILE_H

#include <sys/types.h>

#include "ch_error.h"

typedef struct lockfile {
    int fd;
    char path[4096];
} lockfile;

/* Take the lock at path (created 0600).  CH_ERR_BUSY when another process
 * holds it (err names its pid), CH_ERR_IO otherwise. */
ch_code lockfile_take(lockfile *l, const char *path, ch_error *err);

/* The pid written in the lock file at path, or 0. */
pid_t lockfile_holder(const char *path);

void lockfile_release(lockfile *l);

#endif
