/*
 * cmd_fmt.c - `clearinghouse fmt FILE`: one segment per line ("unwrap").
 *
 * With --delimiters 'ECRS' (element, component, repetition, segment; e.g.
 * '*:^~') the file is rewritten with other delimiters, ISA11 and ISA16
 * included.  Data that holds one of the new delimiters cannot be rewritten
 * safely: fmt stops and says where.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "x12_writer.h"

typedef struct fmt_ctx {
    unsigned nerr;
} fmt_ctx;

static void on_diag(void *vctx, const x12_diag *d)
{
    fmt_ctx *c = vctx;
    char line[1024];
    if (d->severity != X12_SEV_WARNING)
        c->nerr++;
    x12_diag_format(d, line, sizeof line, 1);
    fprintf(stderr, "clearinghouse fmt: %s\n", line);
}

static void help(void)
{
    printf("usage: clearinghouse fmt [--delimiters ECRS] FILE\n\n"
           "Prints an X12 file with one segment per line (each segment keeps its\n"
           "terminator), whatever its original line breaks: the common 'unwrap'.\n"
           "FILE may be - for standard input.\n\n"
           "  --delimiters ECRS  rewrite with element separator E, component separator C,\n"
           "                     repetition separator R and segment terminator S,\n"
           "                     e.g. --delimiters '*:^~'; \\n stands for a newline\n"
           "  --help             this text\n\n"
           "Exit status: 0 ok, 1 the file has problems (reported on stderr),\n"
           "2 usage or I/O error.\n");
}

int cmd_fmt(int argc, char **argv)
{
    static const struct option opts[] = {{"delimiters", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *delims = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        if (ch == 'd')
            delims = optarg;
        else if (ch == 'h') {
            help();
            return EXIT_OK;
        } else
            return cli_usage_error("fmt", "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error("fmt", "give exactly one FILE");
    x12_delims to = {0};
    char dl[8] = "";
    if (delims) {
        /* "\n" in the argument stands for a newline terminator */
        size_t n = 0;
        for (const char *p = delims; *p && n < sizeof dl - 1; p++)
            dl[n++] = (p[0] == '\\' && p[1] == 'n') ? (p++, '\n') : *p;
        dl[n] = '\0';
        delims = dl;
        if (strlen(delims) != 4)
            return cli_usage_error("fmt", "--delimiters takes 4 characters: element, component, "
                                          "repetition, segment (e.g. '*:^~' or '|>!\\n')");
        for (int i = 0; i < 4; i++)
            for (int k = i + 1; k < 4; k++)
                if (delims[i] == delims[k])
                    return cli_usage_error("fmt", "--delimiters must be 4 different characters");
        for (int i = 0; i < 4; i++) {
            char c = delims[i];
            if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ')
                return cli_usage_error("fmt", "a delimiter cannot be a letter, digit or space");
        }
        to.element = delims[0];
        to.component = delims[1];
        to.repetition = delims[2];
        to.segment = delims[3];
    }
    const char *path = argv[optind];
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) {
        fprintf(stderr, "clearinghouse fmt: %s: %s\n", path, strerror(errno));
        return EXIT_TROUBLE;
    }
    fmt_ctx c = {0};
    x12_reader_opts ro = {.on_diag = on_diag, .diag_ctx = &c};
    x12_reader *r;
    ch_error err;
    if (x12_open_fd(&r, fd, path, &ro, &err) != CH_OK) {
        fprintf(stderr, "clearinghouse fmt: %s\n", err.msg);
        close(fd);
        return EXIT_TROUBLE;
    }
    x12_writer w;
    int rc = EXIT_OK, got;
    x12_segment seg;
    const x12_delims *cur = NULL;
    while ((got = x12_next(r, &seg)) == X12_SEGMENT) {
        if (seg.delims != cur || x12_is(&seg, "ISA")) {
            /* each interchange keeps its own delimiters unless told otherwise */
            x12w_init(&w, stdout, delims ? &to : seg.delims, 1);
            cur = seg.delims;
        }
        if (x12w_copy(&w, &seg, &err) != CH_OK) {
            fprintf(stderr, "clearinghouse fmt: %s: %s\n", path, err.msg);
            rc = err.code == CH_ERR_IO ? EXIT_TROUBLE : EXIT_PROBLEMS;
            break;
        }
    }
    if (got == X12_FAIL && x12_reader_error(r)->code == CH_ERR_IO)
        rc = EXIT_TROUBLE;
    else if (rc == EXIT_OK && c.nerr)
        rc = EXIT_PROBLEMS;
    x12_close(r);
    if (fd != STDIN_FILENO)
        close(fd);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "clearinghouse fmt: write error: %s\n", strerror(errno));
        rc = EXIT_TROUBLE;
    }
    return rc;
}
