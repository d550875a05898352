/* report_queue.c - see report_queue.h */
#include "report_queue.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t len;
    _Alignas(8) unsigned char data[REPORT_QUEUE_CHUNK];
} chunk;

struct report_queue {
    report_queue_fn fn;
    void *ctx;
    char name[16];
    pthread_mutex_t mu;
    pthread_cond_t work, freed;
    chunk *head, *tail;       /* full, for the consumer */
    chunk *spare;             /* seen by the consumer, to be filled again */
    unsigned nchunks;
    int started, failed, stop, ended;
    pthread_t thread;
    chunk *cur;               /* the producer's */
};

static void *consumer(void *vq)
{
    report_queue *q = vq;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->work, &q->mu);
        chunk *c = q->head;
        if (!c)
            break; /* stopped, and all seen */
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        q->fn(q->ctx, c->data, c->len);
        pthread_mutex_lock(&q->mu);
        c->next = q->spare;
        q->spare = c;
        pthread_cond_signal(&q->freed);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

report_queue *report_queue_new(report_queue_fn fn, void *ctx, const char *thread_name)
{
    report_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->fn = fn;
    q->ctx = ctx;
    snprintf(q->name, sizeof q->name, "%s", thread_name ? thread_name : "");
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->freed, NULL);
    return q;
}

/* Give a full chunk to the consumer (on this thread when there is none). */
static void hand_over(report_queue *q, chunk *c)
{
    pthread_mutex_lock(&q->mu);
    if (!q->started && !q->failed) {
        if (pthread_create(&q->thread, NULL, consumer, q) == 0) {
            q->started = 1;
            if (q->name[0])
                pthread_setname_np(q->thread, q->name); /* for top and perf */
        } else
            q->failed = 1;
    }
    if (q->started) {
        c->next = NULL;
        if (q->tail)
            q->tail->next = c;
        else
            q->head = c;
        q->tail = c;
        pthread_cond_signal(&q->work);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    pthread_mutex_unlock(&q->mu);
    q->fn(q->ctx, c->data, c->len);
    c->next = q->spare;
    q->spare = c;
}

/* An empty chunk: a spare one, a new one, or (at the limit) the next one
 * the consumer gives back. */
static chunk *take(report_queue *q)
{
    pthread_mutex_lock(&q->mu);
    while (!q->spare && q->nchunks >= REPORT_QUEUE_CHUNKS)
        pthread_cond_wait(&q->freed, &q->mu);
    chunk *c = q->spare;
    if (c)
        q->spare = c->next;
    else if ((c = malloc(sizeof *c)) != NULL)
        q->nchunks++;
    pthread_mutex_unlock(&q->mu);
    if (c)
        c->len = 0;
    return c;
}

void *report_queue_room(report_queue *q, size_t need)
{
    if (need > REPORT_QUEUE_CHUNK || q->ended)
        return NULL;
    if (q->cur && REPORT_QUEUE_CHUNK - q->cur->len >= need)
        return q->cur->data + q->cur->len;
    if (q->cur) {
        hand_over(q, q->cur);
        q->cur = NULL;
    }
    if (!(q->cur = take(q)))
        return NULL;
    return q->cur->data;
}

void report_queue_put(report_queue *q, size_t need)
{
    q->cur->len += (need + 7) & ~(size_t)7;
    if (q->cur->len > REPORT_QUEUE_CHUNK)
        q->cur->len = REPORT_QUEUE_CHUNK;
}

void report_queue_end(report_queue *q)
{
    if (q->ended)
        return;
    if (q->cur && q->cur->len) {
        hand_over(q, q->cur);
        q->cur = NULL;
    }
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_signal(&q->work);
    int started = q->started;
    pthread_mutex_unlock(&q->mu);
    if (started)
        pthread_join(q->thread, NULL);
    q->ended = 1;
}

void report_queue_free(report_queue *q)
{
    if (!q)
        return;
    report_queue_end(q);
    free(q->cur);
    while (q->spare) {
        chunk *c = q->spare;
        q->spare = c->next;
        free(c);
    }
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->freed);
    free(q);
}
