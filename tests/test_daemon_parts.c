/* test_daemon_parts.c - the lock that keeps one daemon per spool, and the
 * spool watcher. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lockfile.h"
#include "watch.h"

Test(lockfile, one_holder_and_released_on_death)
{
    char dir[] = "/tmp/ch-lock-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) {
        lockfile l;
        if (lockfile_take(&l, path, NULL) != CH_OK)
            _exit(3);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(4);
        pause();
        _exit(0);
    }
    char c;
    cr_assert_eq(read(pipefd[0], &c, 1), 1);
    lockfile mine;
    ch_error err;
    cr_assert_eq(lockfile_take(&mine, path, &err), CH_ERR_BUSY);
    char pidstr[32];
    snprintf(pidstr, sizeof pidstr, "pid %ld", (long)child);
    cr_assert(strstr(err.msg, pidstr), "%s", err.msg);
    kill(child, SIGKILL); /* a crash: the kernel releases the lock */
    waitpid(child, NULL, 0);
    cr_assert_eq(lockfile_take(&mine, path, &err), CH_OK, "%s", err.msg);
    struct stat st;
    stat(path, &st);
    cr_assert_eq(st.st_mode & 0777, 0600);
    lockfile_release(&mine);
    unlink(path);
    rmdir(dir);
}

static void watch_sees_a_renamed_file(int poll_only)
{
    char dir[] = "/tmp/ch-watch-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    watch *w;
    cr_assert_eq(watch_new(&w, poll_only, NULL), CH_OK);
    cr_assert_eq(watch_add(w, dir, NULL), CH_OK);
    cr_assert_eq(watch_is_inotify(w), !poll_only);
    if (!poll_only)
        cr_assert_eq(watch_wait(w, 50), 0, "nothing happened yet");
    char tmp[256], final[256];
    snprintf(tmp, sizeof tmp, "%s/.enc.tmp", dir);
    snprintf(final, sizeof final, "%s/enc.yaml", dir);
    FILE *fp = fopen(tmp, "w");
    fputs("id: x\n", fp);
    fclose(fp);
    rename(tmp, final);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(watch_wait(w, poll_only ? 100 : 5000), 1);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!poll_only)
        cr_assert_lt(b.tv_sec - a.tv_sec, 2, "inotify wakes at once");
    watch_free(w);
    unlink(final);
    rmdir(dir);
}

Test(watch, inotify) { watch_sees_a_renamed_file(0); }
Test(watch, polling_fallback) { watch_sees_a_renamed_file(1); }
