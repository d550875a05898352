/* ch_error.c - see ch_error.h */
#include "ch_error.h"

#include <stdio.h>
#include <string.h>

static const char *const names[CH_ERR__COUNT] = {
    [CH_OK] = "no error",
    [CH_ERR_USAGE] = "usage error",
    [CH_ERR_IO] = "I/O error",
    [CH_ERR_NOMEM] = "out of memory",
    [CH_ERR_SYNTAX] = "unreadable input",
    [CH_ERR_LIMIT] = "limit exceeded",
    [CH_ERR_INVALID] = "invalid data",
    [CH_ERR_CONFIG] = "configuration error",
    [CH_ERR_DB] = "ledger error",
    [CH_ERR_TRANSPORT] = "transport error",
    [CH_ERR_NOTFOUND] = "not found",
    [CH_ERR_EXISTS] = "already exists",
    [CH_ERR_DENIED] = "not permitted",
    [CH_ERR_BUSY] = "busy",
    [CH_ERR_TIMEOUT] = "timed out",
    [CH_ERR_INTERNAL] = "internal error",
};

const char *ch_strerror(ch_code code)
{
    if ((unsigned)code >= CH_ERR__COUNT)
        return "unknown error";
    return names[code];
}

ch_code ch_error_vset(ch_error *err, ch_code code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return code;
}

ch_code ch_error_set(ch_error *err, ch_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ch_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

ch_code ch_error_prefix(ch_error *err, const char *fmt, ...)
{
    if (!err)
        return CH_OK;
    char head[CH_ERROR_MSG], old[CH_ERROR_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", head, old);
    return err->code;
}

void ch_error_clear(ch_error *err)
{
    if (err) {
        err->code = CH_OK;
        err->msg[0] = '\0';
    }
}
