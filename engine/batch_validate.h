/*
 * batch_validate.h - the check every batch file passes before it is ready.
 *
 * One function, so that the validator behind it can change without the
 * batching code noticing: the implementation-guide validator
 * (parsers/x12_validate.h), so claims are checked segment by segment against
 * the 837P/837I guides, levels 1 to 5, before a payer ever sees them.
 *
 * Each problem goes to on_diag with its position (byte offset, segment
 * number), which the caller maps back to the claim that holds it.
 */
#ifndef BATCH_VALIDATE_H
#define BATCH_VALIDATE_H

#include "ch_error.h"
#include "x12_diag.h"

typedef struct batch_validation {
    unsigned errors;      /* diagnostics of severity error or fatal */
    unsigned warnings;
    unsigned long segments;
} batch_validation;

/* The signature, so tests (and later a stricter validator) can stand in. */
typedef ch_code (*batch_validate_fn)(const char *path, x12_diag_fn on_diag, void *ctx, batch_validation *out,
                                     ch_error *err);

/*
 * Validate the X12 file at path.  Returns CH_OK when the file could be read
 * to its end (problems or not: see out->errors), CH_ERR_IO when it could
 * not be opened or read, CH_ERR_NOMEM.  on_diag may be NULL.
 */
ch_code batch_validate_file(const char *path, x12_diag_fn on_diag, void *ctx, batch_validation *out, ch_error *err);

#endif
