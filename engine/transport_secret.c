/*
 * transport_secret.c - reading a secret (key passphrase, token) from its file
 * or environment variable; never from YAML, never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport_impl.h"

/* ================================================================= secrets */

ch_code tsecret_read(transport *t, const transport_secret *s, const char *what, char **out,
                     ch_error *err)
{
    *out = NULL;
    if (s->env[0]) {
        const char *v = getenv(s->env);
        if (!v || !*v)
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s: environment variable %s is not set",
                         what, s->env);
        if (!(*out = strdup(v)))
            return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
        return CH_OK;
    }
    if (!s->file[0])
        return CH_OK;
    int fd = open(s->file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: %s", what, s->file,
                     strerror(errno));
    char buf[4097];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            explicit_bzero(buf, sizeof buf);
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: %s", what, s->file,
                         strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof buf - 1) {
            close(fd);
            explicit_bzero(buf, sizeof buf);
            return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: longer than 4096 bytes",
                         what, s->file);
        }
    }
    close(fd);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (!n || memchr(buf, '\0', n)) {
        explicit_bzero(buf, sizeof buf);
        return tfail(t, err, CH_ERR_CONFIG, 0, "open", NULL, "%s file %s: empty or binary", what, s->file);
    }
    *out = strdup(buf);
    explicit_bzero(buf, sizeof buf);
    if (!*out)
        return tfail(t, err, CH_ERR_NOMEM, 0, "open", NULL, "out of memory");
    return CH_OK;
}

void tsecret_free(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

