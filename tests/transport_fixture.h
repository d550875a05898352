/*
 * transport_fixture.h - real test servers for the transport tests.
 *
 * Criterion runs every test in its own worker process, so servers are
 * started lazily, once per test run, and shared: the first worker that needs
 * a kind runs `tests/fixtures/servers.sh KIND start ROOT/SUB` under a file
 * lock; later workers run the same command, which only re-prints the
 * KEY=VALUE lines of the running server (about 20 ms).  The lines are put in
 * the worker's environment with setenv().
 *
 * ROOT is /tmp/ch-transport-<runner pid> ($TMPDIR honoured).  Stopping:
 * test_transport.c's POST_ALL report hook runs in the runner once every test
 * is done (passed, failed or crashed) and stops each server by its pid file;
 * a small watchdog (started with the first server) does the same if the
 * runner dies without getting there.  Tests keep to their own directories
 * and file names (tf_unique), so they can share servers and run in parallel.
 */
#ifndef TRANSPORT_FIXTURE_H
#define TRANSPORT_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

static inline const char *tf_src_root(void)
{
    const char *r = getenv("CH_ROOT");
    return r && *r ? r : ".";
}

/* ROOT for this run: keyed by the Criterion runner's pid (our parent). */
static inline const char *tf_root(void)
{
    static char root[512];
    if (!root[0]) {
        const char *env = getenv("CH_TF_ROOT");
        const char *td = getenv("TMPDIR");
        if (env && *env)
            snprintf(root, sizeof root, "%s", env);
        else
            snprintf(root, sizeof root, "%s/ch-transport-%ld", td && *td ? td : "/tmp", (long)getppid());
    }
    return root;
}

/* printf into one of 64 rotating static buffers (tests only): copy what
 * must outlive 64 more calls. */
static inline const char *tf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *tf_fmt(const char *fmt, ...)
{
    static char bufs[64][4096];
    static int k;
    char *b = bufs[k++ & 63];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

static inline const char *tf_env(const char *k)
{
    const char *v = getenv(k);
    return v ? v : "";
}

/* Start the stop-watchdog once per ROOT: it waits for the runner to exit,
 * then stops whatever servers.sh started under ROOT. */
static inline void tf_watchdog(void)
{
    const char *root = tf_root();
    char mark[600];
    snprintf(mark, sizeof mark, "%s/watchdog.started", root);
    int fd = open(mark, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return;
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "R=%ld; D='%s'; S='%s/tests/fixtures/servers.sh'; "
             "( while kill -0 $R 2>/dev/null; do sleep 1; done; "
             "  for k in sftp https faulty; do d=$D/web; [ $k = sftp ] && d=$D/sftp; "
             "    [ -d $d ] && bash $S $k stop $d >/dev/null 2>&1; done; rm -rf \"$D\" "
             ") </dev/null >/dev/null 2>&1 &",
             (long)getppid(), root, tf_src_root());
    FILE *p = popen(cmd, "r");
    if (p)
        pclose(p);
}

/* Start (or find running) the server KIND ("sftp", "https", "faulty") and
 * put its KEY=VALUE lines into the environment.  0 ok, -1 failure (the
 * reason is printed on stderr). */
static inline int tf_start(const char *kind)
{
    const char *root = tf_root();
    mkdir(root, 0700);
    const char *sub = !strcmp(kind, "sftp") ? "sftp" : "web"; /* https and faulty share a CA */
    char lockp[600], dir[600];
    snprintf(lockp, sizeof lockp, "%s/%s.lock", root, sub);
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    int lk = open(lockp, O_RDWR | O_CREAT, 0600);
    if (lk < 0 || flock(lk, LOCK_EX) < 0) {
        fprintf(stderr, "tf_start: lock %s: %s\n", lockp, strerror(errno));
        return -1;
    }
    tf_watchdog();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/fixtures/servers.sh' %s start '%s' 2>>'%s/servers.log'",
             tf_src_root(), kind, dir, root);
    FILE *p = popen(cmd, "r");
    int n = 0;
    if (p) {
        char line[4096];
        while (fgets(line, sizeof line, p)) {
            line[strcspn(line, "\n")] = '\0';
            char *eq = strchr(line, '=');
            if (!eq)
                continue;
            *eq = '\0';
            char *v = eq + 1;
            size_t vl = strlen(v);
            if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') { /* no embedded quotes in ours */
                v[vl - 1] = '\0';
                v++;
            }
            setenv(line, v, 1);
            n++;
        }
    }
    int st = p ? pclose(p) : -1;
    flock(lk, LOCK_UN);
    close(lk);
    if (st != 0 || n == 0) {
        fprintf(stderr, "tf_start %s: servers.sh failed (status %d), see %s/servers.log\n", kind, st, root);
        return -1;
    }
    return 0;
}

/* Stop every server under ROOT (the runner's report hook). */
static inline void tf_stop_all(const char *root)
{
    struct stat st;
    if (stat(root, &st) < 0)
        return;
    const char *kinds[] = {"faulty", "https", "sftp"};
    for (int i = 0; i < 3; i++) {
        const char *sub = !strcmp(kinds[i], "sftp") ? "sftp" : "web";
        char dir[600], cmd[2048];
        snprintf(dir, sizeof dir, "%s/%s", root, sub);
        if (stat(dir, &st) < 0)
            continue;
        snprintf(cmd, sizeof cmd, "bash '%s/tests/fixtures/servers.sh' %s stop '%s' >/dev/null 2>>'%s/servers.log'",
                 tf_src_root(), kinds[i], dir, root);
        if (system(cmd) != 0)
            fprintf(stderr, "transport tests: stopping %s in %s failed\n", kinds[i], dir);
    }
    if (!getenv("CH_TF_KEEP")) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "transport tests: could not remove %s\n", root);
    }
}

/* A name unique to this worker and call: "PREFIX-<pid>-<n>". */
static inline const char *tf_unique(const char *prefix)
{
    static int n;
    return tf_fmt("%s-%ld-%d", prefix, (long)getpid(), ++n);
}

/* mkdir -p for a test directory; returns path. */
static inline const char *tf_mkdirs(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "tf_mkdirs %s failed\n", path);
    return path;
}

/* Write a file with given content (or len random bytes when content NULL). */
static inline int tf_write(const char *path, const void *content, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (content)
        fwrite(content, 1, len, f);
    else {
        unsigned x = (unsigned)getpid() * 2654435761u;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            fputc((int)(x >> 16) & 0xff, f);
        }
    }
    return fclose(f);
}

/* Read a whole file (malloc'ed, NUL-terminated); *len its size. NULL if absent. */
static inline char *tf_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, r;
    char *b = malloc(cap);
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

/* 1 when both files exist and hold the same bytes. */
static inline int tf_same(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *pa = tf_read(a, &la), *pb = tf_read(b, &lb);
    int same = pa && pb && la == lb && !memcmp(pa, pb, la);
    free(pa);
    free(pb);
    return same;
}

static inline double tf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Upper time bounds stretch under valgrind (make valgrind sets CH_VALGRIND;
 * valgrind itself preloads its vgpreload library). */
static inline double tf_slack(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return getenv("CH_VALGRIND") || (pre && strstr(pre, "vgpreload")) ? 5.0 : 1.0;
}

/* A loopback port with nothing listening (bound, then closed). */
static inline int tf_dead_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(s, (struct sockaddr *)&a, &l) < 0) {
        close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

/* A loopback listener that never accepts or speaks: TCP connects (the
 * kernel completes the handshake into the backlog) and then nothing comes.
 * Returns the socket (close it when done); *port gets the port. */
static inline int tf_silent_listener(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) < 0) {
        close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

#endif
