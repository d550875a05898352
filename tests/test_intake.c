/*
 * test_intake.c - spool/inbound/ to the ledger: good files become claims and
 * are archived, bad files go to failed/ with a .error naming each problem,
 * nothing is lost, the same encounter never makes two claims, files being
 * written are left alone.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "intake.h"
#include "tu.h"

#define TODAY "20261123"

static const char *good_dir(void) { return tu_src("tests/data/encounters/good"); }
static const char *bad_dir(void) { return tu_src("tests/data/encounters/bad"); }

/* Copy every sample of dir into spool/inbound/<practice>/ (by name prefix). */
static int drop_good(void)
{
    DIR *d = opendir(good_dir());
    cr_assert(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[1024];
        snprintf(from, sizeof from, "%s/%s", good_dir(), de->d_name);
        snprintf(to, sizeof to, "spool/inbound/%s/%s", !strncmp(de->d_name, "lakeside", 8) ? "lakeside" : "riverside",
                 de->d_name);
        mkdir("spool/inbound/riverside", 0700);
        mkdir("spool/inbound/lakeside", 0700);
        tu_copy(from, to);
        n++;
    }
    closedir(d);
    return n;
}

static void run_intake(tu_env *e, intake_report *rep)
{
    intake_opts o = {.jobs = 2, .today = TODAY};
    ch_error err;
    cr_assert_eq(intake_run(e->cfg, e->led, &o, rep, &err), CH_OK, "%s", err.msg);
}

static uint64_t count_state(tu_env *e, int state)
{
    uint64_t counts[LEDGER_STATE__COUNT];
    ledger_filter f = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_count(e->led, &f, counts, &err), CH_OK);
    if (state >= 0)
        return counts[state];
    uint64_t t = 0;
    for (int i = 0; i < LEDGER_STATE__COUNT; i++)
        t += counts[i];
    return t;
}

/* files under archive/encounters/<practice>/ (any depth) */
static int count_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_tree(sub);
        else
            n++;
    }
    closedir(d);
    return n;
}

static int archived(const char *practice)
{
    char dir[256];
    snprintf(dir, sizeof dir, "spool/archive/encounters/%s", practice);
    return count_tree(dir);
}

Test(intake, good_encounters_become_queued_claims)
{
    tu_env e;
    tu_env_init(&e);
    int files = drop_good();
    intake_report rep;
    run_intake(&e, &rep);
    cr_expect_eq(rep.files, (uint64_t)files);
    cr_expect_eq(rep.files_failed, 0);
    cr_expect_eq(rep.claims_new, 9, "7 files, one of them a list of three");
    cr_expect_eq(count_state(&e, LEDGER_QUEUED), 9);
    cr_expect_eq(tu_count("spool/inbound/riverside", ""), 0);
    cr_expect_eq(tu_count("spool/inbound/lakeside", ""), 0);
    cr_expect_eq(archived("riverside") + archived("lakeside"), files, "every file is kept");
    /* patient control numbers carry the practice's prefix */
    ledger_filter f = {.state = -1, .practice = "lakeside"};
    uint64_t counts[LEDGER_STATE__COUNT];
    ch_error err;
    cr_assert_eq(ledger_claims_count(e.led, &f, counts, &err), CH_OK);
    cr_expect_eq(counts[LEDGER_QUEUED], 2);
    tu_env_fini(&e);
}

Test(intake, the_same_encounter_twice_is_one_claim)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake_report rep;
    run_intake(&e, &rep);
    cr_assert_eq(rep.claims_new, 9);
    /* the same files again, one of them re-indented (same content) */
    drop_good();
    char *t = tu_read("spool/inbound/riverside/riverside-replacement.yaml", NULL);
    cr_assert(t);
    char *u = malloc(strlen(t) + 64);
    sprintf(u, "# dropped again\n\n%s\n", t);
    tu_write("spool/inbound/riverside/riverside-replacement.yaml", u);
    free(t);
    free(u);
    run_intake(&e, &rep);
    cr_expect_eq(rep.claims_new, 0);
    cr_expect_eq(rep.duplicates, 9);
    cr_expect_eq(rep.files_failed, 0);
    cr_expect_eq(count_state(&e, -1), 9, "no second claim");
    cr_expect_eq(archived("riverside") + archived("lakeside"), 14, "both copies kept (x.yaml and x.1.yaml)");
    tu_env_fini(&e);
}

typedef struct got_t {
    int64_t total;
    unsigned version;
} got_t;

static int grab(void *c, const ledger_claim *cl)
{
    got_t *g = c;
    g->total = cl->total_cents;
    g->version = cl->version;
    return 1;
}

Test(intake, a_changed_encounter_is_a_new_version_of_the_same_claim)
{
    tu_env e;
    tu_env_init(&e);
    mkdir("spool/inbound/riverside", 0700);
    char from[4096];
    snprintf(from, sizeof from, "%s/riverside-replacement.yaml", good_dir());
    tu_copy(from, "spool/inbound/riverside/a.yaml");
    intake_report rep;
    run_intake(&e, &rep);
    cr_assert_eq(rep.claims_new, 1);
    char *t = tu_read(from, NULL);
    char *p = strstr(t, "charge: \"110.00\"");
    cr_assert(p);
    memcpy(p, "charge: \"120.00\"", 16);
    tu_write("spool/inbound/riverside/a-fixed.yaml", t);
    free(t);
    run_intake(&e, &rep);
    cr_expect_eq(rep.claims_new, 0);
    cr_expect_eq(rep.claims_revised, 1);
    cr_expect_eq(count_state(&e, -1), 1);
    got_t got = {0, 0};
    ledger_filter f = {.state = -1};
    ch_error err;
    cr_assert_eq(ledger_claims_each(e.led, &f, grab, &got, &err), CH_OK);
    cr_expect_eq(got.total, 12000);
    cr_expect_eq(got.version, 2);
    tu_env_fini(&e);
}

Test(intake, bad_encounters_go_to_failed_with_the_reason)
{
    tu_env e;
    tu_env_init(&e);
    mkdir("spool/inbound/riverside", 0700);
    mkdir("spool/inbound/lakeside", 0700);
    char path[4096];
    snprintf(path, sizeof path, "%s/expect.tsv", bad_dir());
    char *index = tu_read(path, NULL);
    cr_assert(index);
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(index, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char name[256], practice[64];
        cr_assert_eq(sscanf(line, "%255[^\t]\t%63[^\t]", name, practice), 2);
        char from[4096], to[1024];
        snprintf(from, sizeof from, "%s/%s", bad_dir(), name);
        snprintf(to, sizeof to, "spool/inbound/%s/%s", practice, name);
        tu_copy(from, to);
        n++;
    }
    intake_report rep;
    run_intake(&e, &rep);
    cr_expect_eq(rep.files, (uint64_t)n);
    cr_expect_eq(rep.files_failed, (uint64_t)n);
    cr_expect_eq(rep.claims_new, 1, "the good half of list-with-bad.yaml");
    cr_expect_eq(tu_count("spool/inbound/riverside", ""), 0);
    cr_expect_eq(tu_count("spool/inbound/lakeside", ""), 0);
    /* each file in failed/<practice>/ with its .error, holding the named problem */
    free(index);
    index = tu_read(path, NULL);
    save = NULL;
    for (char *line = strtok_r(index, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char name[256], practice[64], want[512];
        cr_assert_eq(sscanf(line, "%255[^\t]\t%63[^\t]\t%511[^\n]", name, practice, want), 3);
        char moved[1024], err_path[1100];
        snprintf(moved, sizeof moved, "spool/failed/%s/%s", practice, name);
        snprintf(err_path, sizeof err_path, "%s.error", moved);
        cr_expect_eq(access(moved, F_OK), 0, "%s is kept", moved);
        char *text = tu_read(err_path, NULL);
        cr_expect(text, "%s exists", err_path);
        if (text) {
            cr_expect(strstr(text, want), "%s: expected \"%s\" in:\n%s", err_path, want, text);
            struct stat st;
            stat(err_path, &st);
            cr_expect_eq(st.st_mode & 0777, 0600, "%s is private", err_path);
        }
        free(text);
    }
    free(index);
    char *list = tu_read("spool/failed/riverside/list-with-bad.yaml.error", NULL);
    cr_assert(list);
    cr_expect(strstr(list, "[0] RFM00000001 (new)"), "%s", list);
    free(list);
    struct stat st;
    cr_assert_eq(stat("spool/failed/riverside", &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0700);
    tu_env_fini(&e);
}

Test(intake, files_being_written_are_left_alone)
{
    tu_env e;
    tu_env_init(&e);
    mkdir("spool/inbound/riverside", 0700);
    char from[4096];
    snprintf(from, sizeof from, "%s/riverside-office-visit.yaml", good_dir());
    /* half a file under a temporary name, a dot file, a .part, a note */
    char *t = tu_read(from, NULL);
    t[strlen(t) / 2] = '\0';
    tu_write("spool/inbound/riverside/.visit.yaml.tmp", t);
    tu_write("spool/inbound/riverside/.visit.yaml", t);
    tu_write("spool/inbound/riverside/visit.yaml.part", t);
    tu_write("spool/inbound/riverside/README.txt", "notes\n");
    free(t);
    intake_report rep;
    run_intake(&e, &rep);
    cr_expect_eq(rep.files, 0);
    cr_expect_eq(access("spool/inbound/riverside/.visit.yaml.tmp", F_OK), 0);
    cr_expect_eq(access("spool/inbound/riverside/visit.yaml.part", F_OK), 0);
    cr_expect_eq(access("spool/inbound/riverside/README.txt", F_OK), 0);
    /* renamed into place, it is read */
    tu_copy(from, "spool/inbound/riverside/.visit.yaml.tmp");
    cr_assert_eq(rename("spool/inbound/riverside/.visit.yaml.tmp", "spool/inbound/riverside/visit.yaml"), 0);
    run_intake(&e, &rep);
    cr_expect_eq(rep.files, 1);
    cr_expect_eq(rep.claims_new, 1);
    tu_env_fini(&e);
}

Test(intake, a_crash_between_ledger_and_move_is_harmless)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake_report rep;
    run_intake(&e, &rep);
    /* as if the engine died after committing but before moving the files:
     * they are back in inbound */
    drop_good();
    run_intake(&e, &rep);
    cr_expect_eq(rep.claims_new, 0);
    cr_expect_eq(rep.duplicates, 9);
    cr_expect_eq(rep.files_taken, 7);
    tu_env_fini(&e);
}

Test(intake, one_intake_at_a_time)
{
    tu_env e;
    tu_env_init(&e);
    int fd = open("spool/.intake.lock", O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    cr_assert_eq(flock(fd, LOCK_EX), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* a lock is per open file description: take it from another process */
        intake_report rep;
        ch_error err;
        intake_opts o = {.jobs = 1};
        _exit(intake_run(e.cfg, e.led, &o, &rep, &err) == CH_ERR_BUSY ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a second intake is refused");
    close(fd);
    intake_opts o = {.practice = "nobody"};
    intake_report rep;
    ch_error err;
    cr_expect_eq(intake_run(e.cfg, e.led, &o, &rep, &err), CH_ERR_NOTFOUND);
    tu_env_fini(&e);
}

Test(intake, one_practice_only)
{
    tu_env e;
    tu_env_init(&e);
    drop_good();
    intake_opts o = {.practice = "lakeside", .jobs = 1, .today = TODAY};
    intake_report rep;
    ch_error err;
    cr_assert_eq(intake_run(e.cfg, e.led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(rep.claims_new, 2);
    cr_expect_eq(tu_count("spool/inbound/riverside", ""), 5, "the other practice's files wait");
    tu_env_fini(&e);
}

Test(intake, many_small_transactions)
{
    /* chunks of 2 files: readers, the ledger and the mover all overlap */
    tu_env e;
    tu_env_init(&e);
    int files = drop_good();
    mkdir("spool/inbound/riverside", 0700);
    for (int i = 0; i < 9; i++) {
        char path[128];
        snprintf(path, sizeof path, "spool/inbound/riverside/bad-%d.yaml", i);
        tu_write(path, i % 2 ? "encounter_id: X\n" : "not: [valid\n");
    }
    intake_opts o = {.jobs = 2, .today = TODAY, .chunk = 2};
    intake_report rep;
    ch_error err;
    cr_assert_eq(intake_run(e.cfg, e.led, &o, &rep, &err), CH_OK, "%s", err.msg);
    cr_expect_eq(rep.files, (uint64_t)files + 9);
    cr_expect_eq(rep.files_failed, 9);
    cr_expect_eq(rep.claims_new, 9);
    cr_expect_eq(count_state(&e, LEDGER_QUEUED), 9);
    cr_expect_eq(archived("riverside") + archived("lakeside"), files);
    cr_expect_eq(tu_count("spool/failed/riverside", ".error"), 9);
    tu_env_fini(&e);
}
