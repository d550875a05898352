/*
 * ch_error.h - the one error convention of the whole code base.
 *
 * Every fallible function returns a ch_code (CH_OK == 0 on success) and, when
 * the caller passes a non-NULL ch_error *, fills it with a one-line message.
 * Messages name files, positions, payers and steps; they never carry
 * protected health information (names, member ids, birth dates, diagnoses),
 * because they end up in logs.  Callers may pass NULL when they only need the
 * code.  Like CURLcode, a code can be turned into words with ch_strerror().
 */
#ifndef CH_ERROR_H
#define CH_ERROR_H

#include <stdarg.h>

typedef enum ch_code {
    CH_OK = 0,
    CH_ERR_USAGE,     /* bad command line or API misuse */
    CH_ERR_IO,        /* open/read/write/rename/fsync failed */
    CH_ERR_NOMEM,     /* allocation failed */
    CH_ERR_SYNTAX,    /* input cannot be read (malformed X12, YAML, JSON) */
    CH_ERR_LIMIT,     /* a bound was hit (segment too long, too many elements) */
    CH_ERR_INVALID,   /* input read but violates a rule */
    CH_ERR_CONFIG,    /* configuration or payer profile problem */
    CH_ERR_DB,        /* ledger / database failure */
    CH_ERR_TRANSPORT, /* SFTP / HTTPS / directory exchange failed */
    CH_ERR_NOTFOUND,  /* the thing asked for does not exist */
    CH_ERR_EXISTS,    /* the thing exists already (duplicate) */
    CH_ERR_DENIED,    /* operator scope or permission refuses it */
    CH_ERR_BUSY,      /* locked by another process */
    CH_ERR_TIMEOUT,   /* a deadline passed */
    CH_ERR_INTERNAL,  /* a bug: an invariant did not hold */
    CH_ERR__COUNT
} ch_code;

#define CH_ERROR_MSG 512

typedef struct ch_error {
    ch_code code;
    char msg[CH_ERROR_MSG];
} ch_error;

/* A short constant description of a code ("I/O error"). Never NULL. */
const char *ch_strerror(ch_code code);

/*
 * Record an error and return its code, so a caller can write
 *     return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
 * err may be NULL; the message is truncated to CH_ERROR_MSG - 1 bytes.
 */
ch_code ch_error_set(ch_error *err, ch_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ch_code ch_error_vset(ch_error *err, ch_code code, const char *fmt, va_list ap);

/* Prefix an existing message with more context ("payer acme: send: ..."). */
ch_code ch_error_prefix(ch_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to CH_OK with an empty message. err may be NULL. */
void ch_error_clear(ch_error *err);

#endif
