/* progress.c - see progress.h */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_start(progress *p, const char *label, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->on = cli_interactive();
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
}

static void draw(progress *p)
{
    if (p->total)
        fprintf(stderr, "\r%s: %3u%% (%llu of %llu)", p->label,
                (unsigned)(p->done * 100 / p->total), (unsigned long long)p->done,
                (unsigned long long)p->total);
    else
        fprintf(stderr, "\r%s: %llu", p->label, (unsigned long long)p->done);
    fflush(stderr);
}

void progress_update(progress *p, uint64_t done)
{
    if (!p->on)
        return;
    p->done = done;
    long long t = now_ms();
    if (t - p->last_ms < 200)
        return;
    p->last_ms = t;
    draw(p);
}

void progress_end(progress *p)
{
    if (!p->on || p->last_ms == 0)
        return;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
