/*
 * watch.h - wait for files to appear in spool directories.
 *
 * inotify where the kernel offers it (IN_MOVED_TO and IN_CLOSE_WRITE: a file
 * renamed into place or finished), otherwise a polling fallback at the
 * configured interval.  watch_wait() sleeps until something changed, the
 * timeout passed or a signal arrived, so a waiting daemon uses no CPU.
 */
#ifndef WATCH_H
#define WATCH_H

#include "ch_error.h"

typedef struct watch watch;

/* poll_only: do not use inotify (for tests, or filesystems without it). */
ch_code watch_new(watch **out, int poll_only, ch_error *err);

/* Add a directory (not recursive).  Missing directories are an error. */
ch_code watch_add(watch *w, const char *dir, ch_error *err);

/*
 * Wait up to timeout_ms.  Returns 1 when a watched directory changed (in
 * polling mode: when the timeout passed, as the caller must look anyway),
 * 0 on timeout, -1 when interrupted by a signal.
 */
int watch_wait(watch *w, int timeout_ms);

/* 1 when inotify is in use. */
int watch_is_inotify(const watch *w);

void watch_free(watch *w);

#endif
