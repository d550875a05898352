/*
 * log.h - the engine's log: one line per event, to standard error or a file.
 *
 *   2026-03-01T12:00:00Z clearinghouse[123] info: intake: riverside/a.yaml: 1 claim queued
 *
 * What goes in: file names, field paths, claim ids and patient control
 * numbers, batch ids, counts.  What never does: PHI (names, member ids,
 * birth dates, diagnoses) - callers pass only messages built from those.
 * Until log_open() is called, warnings and errors go to standard error.
 */
#ifndef LOG_H
#define LOG_H

#include "ch_error.h"

enum { LOG_ERROR = 0, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Log lines at level or more important to path ("" or "-": standard
 * error), appending.  CH_ERR_IO when the file cannot be opened. */
ch_code log_open(const char *path, int level, ch_error *err);
void log_close(void);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
