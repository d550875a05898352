/*
 * x12_stream.h - run one input through the tokenizer, the envelope checker
 * and a transaction reader (835, 999, 277CA), with every diagnostic of the
 * three going to one callback and counted against what the reader holds open,
 * so a set that fails validation is still read and is flagged.
 */
#ifndef X12_STREAM_H
#define X12_STREAM_H

#include "x12_reader.h"

typedef struct x12_sink {
    void (*feed)(void *obj, const x12_segment *s);
    void (*finish)(void *obj);
    /* told of each tokenizer or envelope diagnostic before it is forwarded */
    void (*count)(void *obj, const x12_diag *d);
    void *obj;
} x12_sink;

/*
 * Stream the input into sink->feed, then call sink->finish.  Returns CH_OK
 * when the input was read to its end, the tokenizer's code (CH_ERR_SYNTAX,
 * CH_ERR_LIMIT, ...) with err filled when it could not go on (everything
 * before was fed and finish was called), CH_ERR_NOMEM.
 */
ch_code x12_stream_fd(int fd, const char *name, const x12_sink *sink, x12_diag_fn on_diag,
                      void *diag_ctx, ch_error *err);
ch_code x12_stream_mem(const void *buf, size_t len, const char *name, const x12_sink *sink,
                       x12_diag_fn on_diag, void *diag_ctx, ch_error *err);

#endif
