/*
 * bench_validate.c - full implementation-guide validation throughput.
 *
 *   bench_validate [--threads N] FILE|-
 *
 * Reads FILE through the tokenizer and the validator (levels 1-5, the
 * engine's own read path) and prints MB/s, problems found and peak RSS,
 * and the CPU seconds (user + system) the run took: on a shared machine
 * they vary less than the wall clock.  --threads N validates the
 * transaction sets on N worker threads, as `clearinghouse validate` does
 * with large files (0, the default: all on one thread).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "x12_guide.h"
#include "x12_validate.h"

static unsigned long problems;
static void on_diag(void *ctx, const x12_diag *d)
{
    (void)ctx;
    if (d->severity != X12_SEV_WARNING)
        problems++;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    unsigned threads = 0;
    if (argc == 4 && !strcmp(argv[1], "--threads")) {
        threads = (unsigned)atoi(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: bench_validate [--threads N] FILE|-\n");
        return 2;
    }
    int fd = strcmp(argv[1], "-") ? open(argv[1], O_RDONLY) : 0;
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    x12_reader_opts ro = {.on_diag = on_diag, .classify = 1};
    x12_reader *r;
    x12_open_fd(&r, fd, argv[1], &ro, NULL);
    x12_validator *v = x12_validator_new(argv[1], on_diag, NULL);
    ch_error err;
    if (threads && x12_validator_threads(v, threads, 0, &err) != CH_OK) {
        fprintf(stderr, "bench_validate: %s\n", err.msg);
        return 2;
    }
    x12_segment s;
    unsigned long n = 0;
    double t0 = now();
    while (x12_next(r, &s) == X12_SEGMENT) {
        x12_validator_feed(v, &s);
        n++;
    }
    x12_pos last = s.pos;
    x12_validator_finish(v, n ? &last : NULL);
    double dt = now() - t0;
    unsigned long long bytes = x12_reader_offset(r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("validate %2u %8.1f MB  %8.0f MB/s  %6.1f M segments/s  peak RSS %5.1f MB  %lu problems  "
           "cpu %.2f s (%.0f MB/s)  (%s)\n",
           threads, (double)bytes / 1e6, (double)bytes / 1e6 / dt, (double)n / 1e6 / dt,
           (double)ru.ru_maxrss / 1024.0, problems, cpu, (double)bytes / 1e6 / cpu, argv[1]);
    x12_validator_free(v);
    x12_close(r);
    x12_guide_registry_free();
    return 0;
}
