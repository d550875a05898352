/*
 * cmd_validate.c - `clearinghouse validate [--json] [--ack DIR] FILE...`:
 * X12 files against the implementation guides.
 *
 * Streams each file through the tokenizer and the validator (x12_validate.h)
 * and prints one line per problem as it is found, then a summary per file.
 * Memory stays bounded whatever the file size: nothing is kept per problem
 * (--json streams them too).  Large files are validated on worker threads,
 * one transaction set each (x12_validator_threads), with the same report.  The report shows the values found, since it
 * is for the operator or biller who has to fix them; it is not a log.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "json_out.h"
#include "progress.h"
#include "x12_guide.h"
#include "x12_validate.h"

#include "x12_ack.h"

typedef struct validate_ctx {
    int json;
    json_out j;
    unsigned nerr, nwarn;   /* this file, every layer */
    int first_problem;
    const char *ack_dir;    /* --ack DIR, or NULL */
    x12_ack *ack;           /* this file's acknowledgments */
    int threads;            /* --threads N; -1: by file size and CPUs */
    x12_validator *v;       /* this file's, once made */
} validate_ctx;

/* Files this large or larger (or a pipe) are worth worker threads. */
#define THREADS_FROM_BYTES (4u << 20)

static void on_diag(void *vctx, const x12_diag *d);

/* The tokenizer's diagnostics go through the validator, which keeps them
 * in file order with its own when it has worker threads. */
static void reader_diag(void *vctx, const x12_diag *d)
{
    validate_ctx *c = vctx;
    if (c->v)
        x12_validator_pass(c->v, d);
    else
        on_diag(c, d);
}

/* Worker threads for a file of size bytes (0: unknown, a pipe). */
static unsigned threads_for(const validate_ctx *c, uint64_t size)
{
    if (c->ack_dir)
        return 0; /* acknowledgments follow the sets as they close */
    if (c->threads >= 0)
        return (unsigned)c->threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2 || (size && size < THREADS_FROM_BYTES))
        return 0;
    return (unsigned)(cpus - 1 > 7 ? 7 : cpus - 1);
}

static void on_diag(void *vctx, const x12_diag *d)
{
    validate_ctx *c = vctx;
    if (d->severity == X12_SEV_WARNING)
        c->nwarn++;
    else
        c->nerr++;
    if (c->ack)
        x12_ack_diag(c->ack, d);
    if (c->json) {
        char buf[2048];
        x12_diag_json(d, buf, sizeof buf, 1);
        json_raw(&c->j, buf);
        return;
    }
    char line[1200];
    x12_diag_format(d, line, sizeof line, 1);
    printf("  %s %s\n", d->severity == X12_SEV_WARNING ? "warning:" : "error:  ", line);
}

/* Validate one file; returns its exit status. */
static int validate_file(validate_ctx *c, const char *path)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) {
        int e = errno;
        fprintf(stderr, "clearinghouse validate: %s: %s\n", path, strerror(e));
        if (c->json) {
            json_obj_begin(&c->j);
            json_kv_str(&c->j, "file", path);
            json_kv_str(&c->j, "status", "unreadable");
            json_kv_str(&c->j, "error", strerror(e));
            json_obj_end(&c->j);
        }
        return EXIT_TROUBLE;
    }
    struct stat st;
    uint64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    c->nerr = c->nwarn = 0;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "file", path);
        json_key(&c->j, "problems");
        json_arr_begin(&c->j);
    } else {
        printf("%s\n", path);
    }
    int rc = EXIT_OK;
    ch_error err;
    x12_reader_opts ro = {.on_diag = reader_diag, .diag_ctx = c, .classify = 1};
    x12_reader *r = NULL;
    x12_validator *v = NULL;
    c->v = NULL;
    unsigned sets = 0, bad = 0, unchecked = 0;
    if (x12_open_fd(&r, fd, path, &ro, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse validate: %s\n", err.msg);
        rc = EXIT_TROUBLE;
        goto out;
    }
    if (c->ack_dir) {
        const char *slash = strrchr(path, '/');
        x12_ack_opts ao = {.dir = c->ack_dir, .basename = slash ? slash + 1 : path};
        c->ack = x12_ack_new(&ao, &err);
        if (!c->ack) {
            fprintf(stderr, "clearinghouse validate: --ack: %s\n", err.msg);
            rc = EXIT_TROUBLE;
            goto out;
        }
    }
    v = x12_validator_new(path, on_diag, c);
    if (!v) {
        fprintf(stderr, "clearinghouse validate: %s: out of memory\n", path);
        rc = EXIT_TROUBLE;
        goto out;
    }
    unsigned nt = threads_for(c, size);
    if (nt && x12_validator_threads(v, nt, 0, &err) != CH_OK)
        fprintf(stderr, "clearinghouse validate: %s: %s; validating on one thread\n", path, err.msg);
    c->v = v;
    progress pg;
    progress_start(&pg, path, size);
    x12_segment seg;
    int got;
    uint64_t n = 0;
    while ((got = x12_next(r, &seg)) == X12_SEGMENT) {
        if (c->ack)
            x12_ack_feed(c->ack, &seg);
        x12_validator_feed(v, &seg);
        if ((++n & 0xffff) == 0)
            progress_update(&pg, x12_reader_offset(r));
    }
    progress_end(&pg);
    x12_pos last = seg.pos;
    last.offset = x12_reader_offset(r);
    x12_validator_finish(v, n ? &last : NULL);
    if (c->ack) {
        if (x12_ack_finish(c->ack, &err) != CH_OK) {
            fprintf(stderr, "clearinghouse validate: --ack: %s\n", err.msg);
            rc = EXIT_TROUBLE;
        } else if (!c->json) {
            char **paths;
            unsigned np = x12_ack_files(c->ack, &paths);
            for (unsigned i = 0; i < np; i++)
                printf("  acknowledgment: %s\n", paths[i]);
        }
    }
    sets = x12_validator_sets(v);
    bad = x12_validator_sets_with_errors(v);
    unchecked = x12_validator_sets_unchecked(v);
    const ch_error *re = x12_reader_error(r);
    if (got == X12_FAIL && re->code == CH_ERR_IO)
        rc = EXIT_TROUBLE;
    else if (c->nerr)
        rc = EXIT_PROBLEMS;
out:
    c->v = NULL;
    x12_ack_free(c->ack);
    c->ack = NULL;
    x12_validator_free(v);
    x12_close(r);
    if (fd != STDIN_FILENO)
        close(fd);
    if (c->json) {
        json_arr_end(&c->j);
        json_kv_uint(&c->j, "transaction_sets", sets);
        json_kv_uint(&c->j, "sets_with_errors", bad);
        json_kv_uint(&c->j, "sets_not_validated", unchecked);
        json_kv_uint(&c->j, "errors", c->nerr);
        json_kv_uint(&c->j, "warnings", c->nwarn);
        json_kv_str(&c->j, "status", rc == EXIT_OK ? "valid" : rc == EXIT_PROBLEMS ? "problems" : "unreadable");
        json_obj_end(&c->j);
    } else if (rc != EXIT_TROUBLE) {
        printf("  %u transaction set%s: %u valid, %u with problems%s", sets, sets == 1 ? "" : "s",
               sets - bad, bad, unchecked ? "" : "");
        if (unchecked)
            printf(" (%u not validated: no guide)", unchecked);
        printf("; %u error%s, %u warning%s\n", c->nerr, c->nerr == 1 ? "" : "s", c->nwarn,
               c->nwarn == 1 ? "" : "s");
        printf("  %s\n", rc == EXIT_OK ? "valid" : "NOT valid");
    }
    return rc;
}

static void help(void)
{
    printf("usage: clearinghouse validate [--json] [--ack DIR] [--threads N] FILE...\n\n"
           "Checks X12 files against the HIPAA 5010 implementation guides built into\n"
           "this program (837P, 837I, 835, 999, 277CA): envelopes, data types and\n"
           "lengths, loops and segment order, required and not-used segments and\n"
           "elements, code values, balancing (claim and line charges, 835 payments),\n"
           "situational rules, HL structure, and the shape of NPIs, diagnosis and\n"
           "procedure codes, dates, states, ZIP codes, taxonomies and tax ids.\n"
           "Prints one line per problem with its segment number, loop, element, the\n"
           "value found and what the guide expects.  FILE may be - for standard input.\n\n"
           "  --json      one JSON array with an object per file\n"
           "  --ack DIR   also write 999/TA1 acknowledgments into DIR\n"
           "  --threads N validate transaction sets on N worker threads besides the\n"
           "              reading one (default: one fewer than the CPUs, for files of\n"
           "              4 MB or more and pipes; 0: one thread).  The report is the\n"
           "              same either way.  Not with --ack.\n"
           "  --help      this text\n\n"
           "Exit status: 0 all files valid, 1 a file has problems, 2 usage or I/O error.\n");
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"ack", required_argument, NULL, 'a'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    validate_ctx c;
    memset(&c, 0, sizeof c);
    c.threads = -1;
    const char *ack_dir = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "ja:t:h", opts, NULL)) != -1) {
        if (ch == 'j')
            c.json = 1;
        else if (ch == 'a')
            ack_dir = optarg;
        else if (ch == 't') {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || n < 0 || n > 16)
                return cli_usage_error("validate", "--threads takes a number from 0 to 16");
            c.threads = (int)n;
        }
        else if (ch == 'h') {
            help();
            return EXIT_OK;
        } else
            return cli_usage_error("validate", "unknown option");
    }
    if (optind >= argc)
        return cli_usage_error("validate", "no FILE given");
    c.ack_dir = ack_dir;
    int rc = EXIT_OK;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_arr_begin(&c.j);
    }
    for (int i = optind; i < argc; i++) {
        int r = validate_file(&c, argv[i]);
        if (r > rc)
            rc = r;
    }
    if (c.json) {
        json_arr_end(&c.j);
        putchar('\n');
    }
    x12_guide_registry_free();
    return rc;
}
