/* log.c - see log.h */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static int log_level = LOG_WARNING;

ch_code log_open(const char *path, int level, ch_error *err)
{
    log_close();
    log_level = level;
    if (!path || !path[0] || !strcmp(path, "-"))
        return CH_OK;
    FILE *fp = fopen(path, "ae");
    if (!fp)
        return ch_error_set(err, CH_ERR_IO, "log %s: %s", path, strerror(errno));
    setvbuf(fp, NULL, _IOLBF, 0);
    log_fp = fp;
    return CH_OK;
}

void log_close(void)
{
    if (log_fp)
        fclose(log_fp);
    log_fp = NULL;
    log_level = LOG_WARNING;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > log_level)
        return;
    FILE *fp = log_fp ? log_fp : stderr;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* one fprintf per line, so lines from two processes do not interleave */
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(fp, "%s clearinghouse[%ld] %s: %s\n", when, (long)getpid(),
            names[level < 0 ? 0 : level > LOG_DEBUG ? LOG_DEBUG : level], msg);
}
