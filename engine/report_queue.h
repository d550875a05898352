/*
 * report_queue.h - records handed from one thread to a consumer running on
 * a thread of its own (the posting reports: engine/reconcile_report.c).
 *
 * The producer writes records into chunks of REPORT_QUEUE_CHUNK bytes; a
 * full chunk goes to the consumer thread, which is called with every
 * chunk's bytes in order.  At most REPORT_QUEUE_CHUNKS chunks exist: a
 * producer that is ahead waits (memory stays bounded).  When no thread can
 * be started the consumer runs on the producer's thread as chunks fill.
 * One producer; the consumer's state is its own until report_queue_end
 * returns.
 */
#ifndef REPORT_QUEUE_H
#define REPORT_QUEUE_H

#include <stddef.h>

#define REPORT_QUEUE_CHUNK (256u << 10)
#define REPORT_QUEUE_CHUNKS 8

typedef struct report_queue report_queue;

/* fn(ctx, data, len): one chunk's records, len bytes, on the consumer's thread. */
typedef void (*report_queue_fn)(void *ctx, const unsigned char *data, size_t len);

/* NULL when out of memory.  The thread starts with the first full chunk. */
report_queue *report_queue_new(report_queue_fn fn, void *ctx, const char *thread_name);

/*
 * Room for a record of need bytes (at most REPORT_QUEUE_CHUNK, aligned to 8),
 * then report_queue_put(q, need) once it is written there.  NULL when out of
 * memory or too large.
 */
void *report_queue_room(report_queue *q, size_t need);
void report_queue_put(report_queue *q, size_t need);

/* Hand over what is left and wait until the consumer has seen all of it
 * (the thread is joined).  Nothing may be put afterwards. */
void report_queue_end(report_queue *q);

/* End (when not ended) and free; NULL: nothing. */
void report_queue_free(report_queue *q);

#endif
