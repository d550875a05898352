/* watch.c - see watch.h */
#include "watch.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

struct watch {
    int fd; /* inotify descriptor, or -1 when polling */
};

ch_code watch_new(watch **out, int poll_only, ch_error *err)
{
    watch *w = calloc(1, sizeof *w);
    if (!w)
        return ch_error_set(err, CH_ERR_NOMEM, "out of memory");
    w->fd = poll_only ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    *out = w;
    return CH_OK;
}

ch_code watch_add(watch *w, const char *dir, ch_error *err)
{
    if (w->fd < 0)
        return CH_OK;
    if (inotify_add_watch(w->fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0)
        return ch_error_set(err, CH_ERR_IO, "watch %s: %s", dir, strerror(errno));
    return CH_OK;
}

int watch_wait(watch *w, int timeout_ms)
{
    if (w->fd < 0) {
        struct pollfd none;
        int rc = poll(&none, 0, timeout_ms);
        return rc < 0 && errno == EINTR ? -1 : 1;
    }
    struct pollfd p = {.fd = w->fd, .events = POLLIN};
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? -1 : 0;
    if (rc == 0)
        return 0;
    /* drain the events: the caller rescans the directories anyway */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(w->fd, buf, sizeof buf) > 0) {
    }
    return 1;
}

int watch_is_inotify(const watch *w) { return w->fd >= 0; }

void watch_free(watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}
