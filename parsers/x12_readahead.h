/*
 * x12_readahead.h - the tokenizer on a second thread.
 *
 * The same contract as x12_reader.h's x12_next() (segments in order, zero-
 * copy views valid until the next call, diagnostics through the callback),
 * but reading and tokenizing run ahead on their own thread while the caller
 * works on the segments already read.  For a long pipeline stage such as
 * validation this hides the tokenizer's cost almost entirely.
 *
 * The reading thread copies each segment (its bytes, element offsets and,
 * when it does not simply follow the previous one, its position) into one
 * of a few fixed batches; the caller's thread hands them out.  Memory is
 * bounded: X12_AHEAD_BATCHES batches of about X12_AHEAD_BATCH bytes plus one
 * segment, whatever the file size.  The tokenizer's diagnostics are queued
 * with the segments and delivered on the caller's thread, in file order,
 * just before the segment they were found at.
 */
#ifndef X12_READAHEAD_H
#define X12_READAHEAD_H

#include "x12_reader.h"

#ifndef X12_AHEAD_BATCHES
#define X12_AHEAD_BATCHES 4
#endif
#ifndef X12_AHEAD_BATCH
#define X12_AHEAD_BATCH (512u << 10)
#endif

typedef struct x12_ahead x12_ahead;

/*
 * Start reading fd on a new thread.  name is used in diagnostics (copied);
 * opts as for x12_open_fd (on_diag is called on the caller's thread).  The
 * caller keeps ownership of fd and closes it after x12_ahead_close().
 * Returns CH_OK, CH_ERR_NOMEM, or CH_ERR_INTERNAL when no thread can be
 * started (err says which).
 */
ch_code x12_ahead_open(x12_ahead **out, int fd, const char *name, const x12_reader_opts *opts,
                       ch_error *err);

/* As x12_next(): X12_SEGMENT, X12_END or X12_FAIL (then x12_ahead_error). */
int x12_ahead_next(x12_ahead *a, x12_segment *seg);

/* Why reading stopped (CH_OK after a normal end). */
const ch_error *x12_ahead_error(const x12_ahead *a);

/* Bytes of the input handed out so far (all of it after X12_END). */
uint64_t x12_ahead_offset(const x12_ahead *a);

/* Stop the reading thread (if still running) and free everything. */
void x12_ahead_close(x12_ahead *a);

#endif
