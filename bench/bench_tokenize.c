/*
 * bench_tokenize.c - tokenizer throughput and peak memory.
 *
 *   bench_tokenize [--envelope] FILE|-
 *
 * Reads FILE through the streaming tokenizer (fd mode, the engine's own read
 * path), touching every element, and prints MB/s, segments/s and peak RSS.
 * With --envelope the envelope checker runs too.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "x12_envelope.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int envelope = 0, i = 1;
    if (i < argc && !strcmp(argv[i], "--envelope")) {
        envelope = 1;
        i++;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench_tokenize [--envelope] FILE|-\n");
        return 2;
    }
    int fd = strcmp(argv[i], "-") ? open(argv[i], O_RDONLY) : 0;
    if (fd < 0) {
        perror(argv[i]);
        return 2;
    }
    x12_reader *r;
    x12_open_fd(&r, fd, argv[i], NULL, NULL);
    x12_env *e = envelope ? x12_env_new(argv[i], NULL, NULL, NULL) : NULL;
    x12_segment s;
    unsigned long long nseg = 0, elems = 0, bytes_in_elems = 0;
    double t0 = now();
    while (x12_next(r, &s) == X12_SEGMENT) {
        nseg++;
        for (unsigned k = 1; k <= s.nelem; k++)
            bytes_in_elems += x12_elem(&s, k).len;
        elems += s.nelem;
        if (e)
            x12_env_feed(e, &s);
    }
    double dt = now() - t0;
    unsigned long long bytes = x12_reader_offset(r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-10s %8.1f MB  %8.0f MB/s  %6.1f M segments/s  peak RSS %5.1f MB%s\n",
           envelope ? "envelope" : "tokenize", (double)bytes / 1e6, (double)bytes / 1e6 / dt,
           (double)nseg / 1e6 / dt, (double)ru.ru_maxrss / 1024.0,
           x12_reader_errors(r) ? "  (input had errors)" : "");
    (void)bytes_in_elems;
    (void)elems;
    x12_env_free(e);
    x12_close(r);
    return 0;
}
