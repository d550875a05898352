/* log.c - see log.h */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "json_out.h"

static FILE *log_fp;
static log_level log_min = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

ch_code log_open(const char *path, log_level min, ch_error *err)
{
    log_close();
    log_min = min;
    if (!path || !*path || !strcmp(path, "-"))
        return CH_OK;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ch_error_set(err, CH_ERR_IO, "log file %s: %s", path, strerror(errno));
    log_fp = fdopen(fd, "a");
    if (!log_fp) {
        close(fd);
        return ch_error_set(err, CH_ERR_IO, "log file %s: %s", path, strerror(errno));
    }
    setvbuf(log_fp, NULL, _IOLBF, 0);
    return CH_OK;
}

void log_close(void)
{
    if (log_fp)
        fclose(log_fp);
    log_fp = NULL;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcasecmp(s, level_names[i]))
            return i;
    if (s && !strcasecmp(s, "warning"))
        return LOG_WARN;
    return -1;
}

/* Keys that name patient data: their values are never written. */
static int phi_key(const char *key)
{
    static const char *const words[] = {"name", "patient", "subscriber", "member", "dob",
                                        "birth", "diagnos", "ssn", "address", "phone", NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasestr(key, *w))
            return 1;
    return 0;
}

void log_emit(log_level level, const char *event, const log_kv *kv, size_t n)
{
    if (level < log_min)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t k = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + k, sizeof ts - k, ".%03dZ", (int)(tv.tv_usec / 1000));
    char line[4096];
    json_out j;
    json_init(&j, line, sizeof line);
    json_obj_begin(&j);
    json_kv_str(&j, "ts", ts);
    json_kv_str(&j, "level", level_names[level]);
    json_kv_str(&j, "event", event);
    json_kv_int(&j, "pid", getpid());
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].key)
            continue;
        if (phi_key(kv[i].key))
            json_kv_str(&j, kv[i].key, "[redacted]");
        else if (kv[i].s)
            json_kv_str(&j, kv[i].key, kv[i].s);
        else
            json_kv_int(&j, kv[i].key, kv[i].n);
    }
    json_obj_end(&j);
    FILE *fp = log_fp ? log_fp : stderr;
    fprintf(fp, "%s\n", line);
    fflush(fp);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level < (int)log_min)
        return;
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* "component: rest" -> event "component" */
    char event[32] = "message";
    const char *rest = text;
    size_t n = strcspn(text, ": ");
    if (n > 0 && n < sizeof event && text[n] == ':' && text[n + 1] == ' ') {
        memcpy(event, text, n);
        event[n] = '\0';
        rest = text + n + 2;
    }
    if (level < LOG_DEBUG)
        level = LOG_DEBUG;
    if (level > LOG_ERROR)
        level = LOG_ERROR;
    LOG((log_level)level, event, LOG_STR("message", rest));
}
