/*
 * bench_sftp.c - files/s sending small batch files to an SFTP server, with
 * one SSH connection reused for every file versus a new connection per file.
 *
 *   bench_sftp [--files N] [--size BYTES] [--mode both|reuse|per-file]
 *
 * The server comes from the environment, as tests/fixtures/servers.sh sftp
 * prints it (SFTP_HOST, SFTP_PORT, SFTP_USER, SFTP_KEY, SFTP_HOSTKEY_SHA256,
 * SFTP_DATA); bench/run-sftp.sh starts one and runs this.  Each run uploads
 * into a fresh directory under SFTP_DATA and checks afterwards that every
 * file arrived with the right size (the server's disk is local).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *env(const char *k)
{
    const char *v = getenv(k);
    if (!v || !*v) {
        fprintf(stderr, "bench_sftp: %s is not set (run bench/run-sftp.sh)\n", k);
        exit(2);
    }
    return v;
}

static int make_config(transport_config *c, const char *updir)
{
    char y[8192];
    snprintf(y, sizeof y,
             "transport:\n  connect_timeout: 10\n  stall_timeout: 30\n  sftp:\n    host: %s\n    port: %s\n"
             "    user: %s\n    private_key_file: %s\n    host_key_sha256: %s\n    upload_dir: %s\n",
             env("SFTP_HOST"), env("SFTP_PORT"), env("SFTP_USER"), env("SFTP_KEY"),
             env("SFTP_HOSTKEY_SHA256"), updir);
    ch_error e = {0};
    if (transport_config_parse_text(y, strlen(y), "bench", c, &e) != CH_OK) {
        fprintf(stderr, "bench_sftp: %s\n", e.msg);
        return -1;
    }
    return 0;
}

/* Count regular files of the expected size in dir (local view of the server). */
static int count_ok(const char *dir, long size)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char p[2048];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.' && stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size)
            n++;
    }
    closedir(d);
    return n;
}

/* Send n files; reuse: one transport for all, else one per file.  Returns
 * elapsed seconds, or -1. */
static double run(const char *label, int reuse, int n, const char *src, long size, long *conns)
{
    char updir[1024];
    snprintf(updir, sizeof updir, "%s/bench-%s-%ld", env("SFTP_DATA"), label, (long)getpid());
    if (mkdir(updir, 0700) < 0) {
        perror(updir);
        return -1;
    }
    transport_config c;
    if (make_config(&c, updir) < 0)
        return -1;
    ch_error e = {0};
    transport *t = NULL;
    *conns = 0;
    double t0 = now();
    for (int i = 0; i < n; i++) {
        if (!t && transport_open(&c, &t, &e) != CH_OK) {
            fprintf(stderr, "bench_sftp: %s\n", e.msg);
            return -1;
        }
        char name[64];
        snprintf(name, sizeof name, "B%06d.x12", i);
        if (transport_put(t, src, name, &e) != CH_OK) {
            fprintf(stderr, "bench_sftp: %s\n", e.msg);
            transport_close(t);
            return -1;
        }
        if (!reuse) {
            *conns += transport_connections(t);
            transport_close(t);
            t = NULL;
        }
    }
    if (t) {
        *conns += transport_connections(t);
        transport_close(t);
    }
    double dt = now() - t0;
    int got = count_ok(updir, size);
    if (got != n) {
        fprintf(stderr, "bench_sftp: %s: %d of %d files arrived intact\n", label, got, n);
        return -1;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", updir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_sftp: could not remove %s\n", updir);
    return dt;
}

int main(int argc, char **argv)
{
    int files = 1000;
    long size = 2048;
    const char *mode = "both";
    static const struct option opts[] = {{"files", required_argument, NULL, 'n'},
                                         {"size", required_argument, NULL, 's'},
                                         {"mode", required_argument, NULL, 'm'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "n:s:m:", opts, NULL)) != -1) {
        if (ch == 'n')
            files = atoi(optarg);
        else if (ch == 's')
            size = atol(optarg);
        else if (ch == 'm')
            mode = optarg;
        else {
            fprintf(stderr, "usage: bench_sftp [--files N] [--size BYTES] [--mode both|reuse|per-file]\n");
            return 2;
        }
    }
    if (files < 1 || size < 0) {
        fprintf(stderr, "bench_sftp: --files must be >= 1, --size >= 0\n");
        return 2;
    }
    /* one small batch-like file, sent under n names */
    char src[] = "/tmp/bench-sftp-XXXXXX";
    int fd = mkstemp(src);
    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    FILE *f = fdopen(fd, "w");
    for (long i = 0; i < size; i++)
        fputc("ISA*00*~GS*HC*S*R~ST*837*0001~CLM*PCN1*100***11:B:1~\n"[i % 52], f);
    fclose(f);

    printf("== sftp send: %d files of %ld bytes to OpenSSH on %s:%s (temporary name + rename each)\n", files, size,
           env("SFTP_HOST"), env("SFTP_PORT"));
    int rc = 0;
    double reuse_rate = 0, per_rate = 0;
    long conns;
    if (!strcmp(mode, "both") || !strcmp(mode, "reuse")) {
        double dt = run("reuse", 1, files, src, size, &conns);
        if (dt < 0)
            rc = 1;
        else {
            reuse_rate = files / dt;
            printf("  one connection reused : %5d files in %7.2f s = %8.1f files/s  (%ld SSH connection%s)\n", files,
                   dt, reuse_rate, conns, conns == 1 ? "" : "s");
        }
    }
    if (!strcmp(mode, "both") || !strcmp(mode, "per-file")) {
        double dt = run("perfile", 0, files, src, size, &conns);
        if (dt < 0)
            rc = 1;
        else {
            per_rate = files / dt;
            printf("  a connection per file : %5d files in %7.2f s = %8.1f files/s  (%ld SSH connections)\n", files,
                   dt, per_rate, conns);
        }
    }
    if (reuse_rate > 0 && per_rate > 0)
        printf("  reusing the connection is %.1fx faster\n", reuse_rate / per_rate);
    unlink(src);
    return rc;
}
