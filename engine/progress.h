/*
 * progress.h - a one-line progress meter on stderr, only on a terminal.
 *
 * When stderr is not a terminal (piped, logged, CI) every call is a no-op,
 * so commands can report progress unconditionally.  Redraws at most five
 * times a second.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int on;
    char label[64];
    uint64_t total, done;
    long long last_ms;
} progress;

/* total 0: unknown (counts only). */
void progress_start(progress *p, const char *label, uint64_t total);
void progress_update(progress *p, uint64_t done);
void progress_end(progress *p);

#endif
