/* lockfile.c - see lockfile.h */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

pid_t lockfile_holder(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (pid_t)atol(buf);
}

ch_code lockfile_take(lockfile *l, const char *path, ch_error *err)
{
    l->fd = -1;
    snprintf(l->path, sizeof l->path, "%s", path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "lock %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return ch_error_set(err, CH_ERR_BUSY, "another engine (pid %ld) holds %s",
                                (long)lockfile_holder(path), path);
        return ch_error_set(err, CH_ERR_IO, "lock %s: %s", path, strerror(e));
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "lock %s: %s", path, strerror(errno));
    }
    l->fd = fd;
    return CH_OK;
}

void lockfile_release(lockfile *l)
{
    if (l->fd >= 0) {
        if (ftruncate(l->fd, 0) != 0) {
            /* the lock goes with the descriptor anyway */
        }
        close(l->fd);
    }
    l->fd = -1;
}
