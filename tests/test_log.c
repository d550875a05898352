/* test_log.c - structured log lines, and no patient data in them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    static char buf[8192];
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    return buf;
}

Test(log, json_lines_with_redaction)
{
    char path[] = "/tmp/ch-log-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    cr_assert_eq(log_open(path, LOG_INFO, NULL), CH_OK);
    LOG(LOG_INFO, "batch.sent", LOG_STR("payer", "demo"), LOG_INT("claims", 12));
    LOG(LOG_DEBUG, "dropped.below.level", LOG_INT("x", 1));
    LOG(LOG_WARN, "oops", LOG_STR("patient_name", "DOE, JANE"), LOG_STR("member_id", "XYZ123"),
        LOG_STR("reason", "a \"quoted\" reason"));
    log_close();
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    char *s = slurp(path);
    cr_assert(strstr(s, "\"event\":\"batch.sent\",\"pid\":"), "%s", s);
    cr_assert(strstr(s, "\"payer\":\"demo\",\"claims\":12}"), "%s", s);
    cr_assert_null(strstr(s, "dropped"));
    cr_assert_null(strstr(s, "DOE"), "PHI leaked: %s", s);
    cr_assert_null(strstr(s, "XYZ123"), "PHI leaked: %s", s);
    cr_assert(strstr(s, "\"patient_name\":\"[redacted]\""));
    cr_assert(strstr(s, "a \\\"quoted\\\" reason"));
    unlink(path);
}

Test(log, levels_parse)
{
    cr_assert_eq(log_level_parse("debug"), LOG_DEBUG);
    cr_assert_eq(log_level_parse("WARN"), LOG_WARN);
    cr_assert_eq(log_level_parse("warning"), LOG_WARN);
    cr_assert_eq(log_level_parse("loud"), -1);
}
