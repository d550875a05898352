/*
 * cmd_inspect.c - `clearinghouse inspect FILE...`: the envelopes of X12 files.
 *
 * Streams each file through the tokenizer and the envelope checker and prints
 * what it holds: interchanges (sender, receiver, control number, date,
 * test/production), functional groups (functional id, guide version) and
 * transaction sets (type, control number, segment count), with every envelope
 * problem found.  Memory stays bounded: the summary is printed as it is read.
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
#include "x12_envelope.h"

#define MAX_JSON_PROBLEMS 1000

typedef struct inspect_ctx {
    int json;
    json_out j;
    unsigned nerr, nwarn;
    /* JSON: problems are kept (bounded) and written after the structure */
    char **problems;
    unsigned nproblems, dropped;
    int in_isa, in_gs;
} inspect_ctx;

static const char *usage_name(const char *u)
{
    return !strcmp(u, "P") ? "production" : !strcmp(u, "T") ? "test" : !strcmp(u, "I") ? "information" : u;
}

static void delim_str(char c, char *buf, size_t size)
{
    if (c == '\0')
        snprintf(buf, size, "none");
    else if (c == '\n')
        snprintf(buf, size, "LF");
    else if (c == '\r')
        snprintf(buf, size, "CR");
    else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
        snprintf(buf, size, "0x%02X", (unsigned char)c);
    else
        snprintf(buf, size, "%c", c);
}

static void on_diag(void *vctx, const x12_diag *d)
{
    inspect_ctx *c = vctx;
    if (d->severity == X12_SEV_WARNING)
        c->nwarn++;
    else
        c->nerr++;
    if (!c->json) {
        char line[1024];
        x12_diag_format(d, line, sizeof line, 1);
        printf("  %s %s\n", d->severity == X12_SEV_WARNING ? "warning:" : "problem:", line);
        return;
    }
    if (c->nproblems >= MAX_JSON_PROBLEMS) {
        c->dropped++;
        return;
    }
    char buf[2048];
    x12_diag_json(d, buf, sizeof buf, 1);
    char **np = realloc(c->problems, (c->nproblems + 1) * sizeof *np);
    char *s = strdup(buf);
    if (!np || !s) {
        free(s);
        if (np)
            c->problems = np;
        c->dropped++;
        return;
    }
    c->problems = np;
    c->problems[c->nproblems++] = s;
}

static void isa_open(void *vctx, const x12_isa_info *i)
{
    inspect_ctx *c = vctx;
    char e[8], r[8], k[8], s[8];
    delim_str(i->delims.element, e, sizeof e);
    delim_str(i->delims.repetition, r, sizeof r);
    delim_str(i->delims.component, k, sizeof k);
    delim_str(i->delims.segment, s, sizeof s);
    if (!c->json) {
        printf("  interchange %u  control %s  version %s  %s\n", i->index, i->control, i->version,
               usage_name(i->usage));
        printf("    from %s:%s  to %s:%s  date %s %s\n", i->sender_q, i->sender, i->receiver_q,
               i->receiver, i->date, i->time);
        printf("    delimiters: element %s  repetition %s  component %s  segment %s\n", e, r, k, s);
        return;
    }
    json_out *j = &c->j;
    json_obj_begin(j);
    json_kv_uint(j, "index", i->index);
    json_kv_uint(j, "offset", i->offset);
    json_kv_str(j, "control", i->control);
    json_kv_str(j, "version", i->version);
    json_kv_str(j, "usage", usage_name(i->usage));
    json_kv_str(j, "sender_qualifier", i->sender_q);
    json_kv_str(j, "sender", i->sender);
    json_kv_str(j, "receiver_qualifier", i->receiver_q);
    json_kv_str(j, "receiver", i->receiver);
    json_kv_str(j, "date", i->date);
    json_kv_str(j, "time", i->time);
    json_key(j, "delimiters");
    json_obj_begin(j);
    json_kv_str(j, "element", e);
    json_kv_str(j, "repetition", r);
    json_kv_str(j, "component", k);
    json_kv_str(j, "segment", s);
    json_obj_end(j);
    json_key(j, "groups");
    json_arr_begin(j);
    c->in_isa = 1;
}

static void gs_open(void *vctx, const x12_isa_info *isa, const x12_gs_info *g)
{
    (void)isa;
    inspect_ctx *c = vctx;
    if (!c->json) {
        printf("    group %u  %s  control %s  version %s  from %s to %s  date %s\n", g->index, g->fid,
               g->control, g->version, g->sender, g->receiver, g->date);
        return;
    }
    json_out *j = &c->j;
    json_obj_begin(j);
    json_kv_uint(j, "index", g->index);
    json_kv_str(j, "functional_id", g->fid);
    json_kv_str(j, "control", g->control);
    json_kv_str(j, "version", g->version);
    json_kv_str(j, "sender", g->sender);
    json_kv_str(j, "receiver", g->receiver);
    json_kv_str(j, "date", g->date);
    json_key(j, "transactions");
    json_arr_begin(j);
    c->in_gs = 1;
}

static void st_close(void *vctx, const x12_gs_info *g, const x12_st_info *t)
{
    (void)g;
    inspect_ctx *c = vctx;
    if (!c->json) {
        printf("      transaction %u  %s  control %s  %s  %u segments%s\n", t->index, t->id, t->control,
               t->impl[0] ? t->impl : "-", t->nseg, t->closed ? "" : " (no SE)");
        return;
    }
    json_out *j = &c->j;
    json_obj_begin(j);
    json_kv_uint(j, "index", t->index);
    json_kv_str(j, "type", t->id);
    json_kv_str(j, "control", t->control);
    json_kv_str(j, "implementation", t->impl);
    json_kv_uint(j, "segments", t->nseg);
    json_kv_uint(j, "offset", t->offset);
    json_kv_bool(j, "trailer", t->closed);
    if (t->closed)
        json_kv_str(j, "se01", t->se_count);
    json_obj_end(j);
}

static void gs_close(void *vctx, const x12_isa_info *isa, const x12_gs_info *g)
{
    (void)isa;
    inspect_ctx *c = vctx;
    if (!c->json || !c->in_gs)
        return;
    json_out *j = &c->j;
    json_arr_end(j);
    json_kv_uint(j, "transaction_count", g->nsets);
    json_kv_bool(j, "trailer", g->closed);
    json_obj_end(j);
    c->in_gs = 0;
}

static void isa_close(void *vctx, const x12_isa_info *i)
{
    inspect_ctx *c = vctx;
    if (!c->json || !c->in_isa)
        return;
    json_out *j = &c->j;
    json_arr_end(j);
    json_kv_uint(j, "group_count", i->ngroups);
    json_kv_bool(j, "trailer", i->closed);
    json_obj_end(j);
    c->in_isa = 0;
}

/* Inspect one file; returns its exit status. */
static int inspect_file(inspect_ctx *c, const char *path)
{
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) {
        fprintf(stderr, "clearinghouse inspect: %s: %s\n", path, strerror(errno));
        if (c->json) {
            json_obj_begin(&c->j);
            json_kv_str(&c->j, "file", path);
            json_kv_str(&c->j, "status", "unreadable");
            json_kv_str(&c->j, "error", strerror(errno));
            json_obj_end(&c->j);
        }
        return EXIT_TROUBLE;
    }
    struct stat st;
    uint64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    c->nerr = c->nwarn = 0;
    c->nproblems = c->dropped = 0;
    c->in_isa = c->in_gs = 0;
    if (c->json) {
        json_obj_begin(&c->j);
        json_kv_str(&c->j, "file", path);
        json_key(&c->j, "interchanges");
        json_arr_begin(&c->j);
    } else {
        printf("%s\n", path);
    }
    x12_reader_opts ro = {.on_diag = on_diag, .diag_ctx = c};
    x12_env_events ev = {isa_open, gs_open, NULL, st_close, gs_close, isa_close, c};
    x12_reader *r = NULL;
    ch_error err;
    int rc = EXIT_OK;
    if (x12_open_fd(&r, fd, path, &ro, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse inspect: %s\n", err.msg);
        rc = EXIT_TROUBLE;
        goto out;
    }
    x12_env *env = x12_env_new(path, &ev, on_diag, c);
    if (!env) {
        x12_close(r);
        rc = EXIT_TROUBLE;
        goto out;
    }
    progress pg;
    progress_start(&pg, path, size);
    x12_segment seg;
    int got;
    uint64_t n = 0;
    while ((got = x12_next(r, &seg)) == X12_SEGMENT) {
        x12_env_feed(env, &seg);
        if ((++n & 0xffff) == 0)
            progress_update(&pg, x12_reader_offset(r));
    }
    progress_end(&pg);
    x12_pos last = seg.pos;
    last.offset = x12_reader_offset(r);
    x12_env_finish(env, n ? &last : NULL);
    const ch_error *re = x12_reader_error(r);
    if (got == X12_FAIL && re->code == CH_ERR_IO)
        rc = EXIT_TROUBLE;
    else if (c->nerr)
        rc = EXIT_PROBLEMS;
    x12_env_free(env);
    x12_close(r);
out:
    if (fd != STDIN_FILENO)
        close(fd);
    if (c->json) {
        json_arr_end(&c->j);
        json_key(&c->j, "problems");
        json_arr_begin(&c->j);
        for (unsigned i = 0; i < c->nproblems; i++) {
            json_raw(&c->j, c->problems[i]);
            free(c->problems[i]);
        }
        json_arr_end(&c->j);
        json_kv_uint(&c->j, "errors", c->nerr);
        json_kv_uint(&c->j, "warnings", c->nwarn);
        json_kv_uint(&c->j, "problems_not_listed", c->dropped);
        json_kv_str(&c->j, "status", rc == EXIT_OK ? "ok" : rc == EXIT_PROBLEMS ? "problems" : "unreadable");
        json_obj_end(&c->j);
    } else {
        if (rc == EXIT_OK)
            printf("  ok%s\n", c->nwarn ? " (with warnings)" : "");
        else if (rc == EXIT_PROBLEMS)
            printf("  %u problem%s\n", c->nerr, c->nerr == 1 ? "" : "s");
    }
    free(c->problems);
    c->problems = NULL;
    return rc;
}

static void help(void)
{
    printf("usage: clearinghouse inspect [--json] FILE...\n\n"
           "Lists, for each X12 file, its interchanges (sender, receiver, control number,\n"
           "date, test or production, delimiters), functional groups (functional id,\n"
           "guide version) and transaction sets (type, control number, segment count),\n"
           "and every envelope problem: counts and control numbers in SE, GE and IEA,\n"
           "missing trailers, unreadable ISA headers.  FILE may be - for standard input.\n\n"
           "  --json   one JSON array with an object per file\n"
           "  --help   this text\n\n"
           "Exit status: 0 all files ok, 1 a file has problems, 2 usage or I/O error.\n");
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    inspect_ctx c;
    memset(&c, 0, sizeof c);
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (ch == 'j')
            c.json = 1;
        else if (ch == 'h') {
            help();
            return EXIT_OK;
        } else
            return cli_usage_error("inspect", "unknown option");
    }
    if (optind >= argc)
        return cli_usage_error("inspect", "no FILE given");
    int rc = EXIT_OK;
    if (c.json) {
        json_init_file(&c.j, stdout);
        json_arr_begin(&c.j);
    }
    for (int i = optind; i < argc; i++) {
        int r = inspect_file(&c, argv[i]);
        if (r > rc)
            rc = r;
    }
    if (c.json) {
        json_arr_end(&c.j);
        putchar('\n');
    }
    return rc;
}
