/*
 * log.h - structured log lines: one JSON object per event.
 *
 *   LOG(LOG_INFO, "batch.sent", LOG_STR("payer", id), LOG_INT("claims", n));
 *   -> {"ts":"2026-11-23T12:00:00.123Z","level":"info","event":"batch.sent",
 *       "payer":"demo","claims":12}
 *
 * Logs carry ids, counts, states and reasons, never protected health
 * information.  As a safety net, a value whose key names patient data
 * (name, patient, subscriber, member, dob, birth, diagnosis, ssn, address)
 * is written as "[redacted]", so a slip in a caller cannot leak it.
 *
 * Until log_open() is called, lines go to stderr at LOG_INFO and above.
 * Thread-compatible (one writer at a time), not thread-safe.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
#define LOG_WARNING LOG_WARN

typedef struct log_kv {
    const char *key;
    const char *s; /* string value, or NULL for a number */
    int64_t n;
} log_kv;

static inline log_kv log_kv_str(const char *k, const char *v)
{
    log_kv r = {k, v ? v : "", 0};
    return r;
}
#define LOG_STR(k, v) log_kv_str((k), (v))
#define LOG_INT(k, v) ((log_kv){(k), NULL, (int64_t)(v)})
#define LOG(level, event, ...)                                                               \
    log_emit((level), (event), (const log_kv[]){__VA_ARGS__},                                \
             sizeof((const log_kv[]){__VA_ARGS__}) / sizeof(log_kv))

/*
 * Send lines to path (appended, created 0600), or to stderr when path is NULL
 * or "-".  Lines below min are dropped.  Returns CH_OK or CH_ERR_IO.
 */
ch_code log_open(const char *path, log_level min, ch_error *err);

/* Parse "debug", "info", "warn", "error"; returns -1 for anything else. */
int log_level_parse(const char *s);

/* Write one event with n key/value pairs. */
void log_emit(log_level level, const char *event, const log_kv *kv, size_t n);

/*
 * A free-text event: "intake: riverside/a.yaml: 1 claim queued" becomes
 * {"event":"intake","message":"riverside/a.yaml: 1 claim queued"}.  The
 * same rule holds: the text carries ids and counts, never PHI.
 */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close a log file opened by log_open (back to stderr). */
void log_close(void);

#endif
