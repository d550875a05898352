/*
 * intake_move.c - moving the files of a recorded chunk out of inbound/:
 * a file whose encounters are all in the ledger to the archive (64 to a
 * directory), any other to failed/ with the .error that says why.  The
 * moves run on a mover thread, after the chunk's transaction committed,
 * while the calling thread records the next chunk.
 */
#include "intake_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

static void error_text(run *r, file_job *j, text *t)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    intake_text_add(t, "# clearinghouse intake %s: %s/%s was not taken (%u problem%s).\n", when, r->practice->id,
                    j->name, j->problems, j->problems == 1 ? "" : "s");
    if (j->units > 1 && (j->taken || j->duplicates))
        intake_text_add(t, "# Encounters of this file that are in the ledger all the same: %s.\n",
                        j->taken_list.p ? j->taken_list.p : "");
    intake_text_add(t, "# Fix what is listed and drop the whole file into inbound/%s/ again (write it under another\n"
                       "# name and rename it into place); encounters already taken are recognized, not taken twice.\n",
                    r->practice->id);
    intake_text_add(t, "%s", j->report.p ? j->report.p : "");
}

/* Files per archive directory.  A rename searches the target directory
 * twice (is the name taken? where does it go?): a directory that fits in
 * one block is searched without the hash index a larger one needs, which
 * made moving 100,000 files a fifth cheaper than with 4,096 per directory. */
#define FILES_PER_DIR 64

/* A new directory of the archive: archive/encounters/<practice>/<day>/<HHMMSS>-<n>/
 * (one that exists, of an earlier run in the same second, is shared). */
static ch_code archive_dir(run *r, char *path, size_t size, int *fd, ch_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "%s-%04u", r->stamp, r->ndirs++);
    snprintf(path, size, "%s/%s", r->archive, name);
    if (mkdirat(r->archive_fd, name, 0700) < 0 && errno != EEXIST)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    if ((*fd = openat(r->archive_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return ch_error_set(err, CH_ERR_IO, "%s: %s", path, strerror(errno));
    return CH_OK;
}

/* Move the files of a recorded chunk: to the archive, or to failed/ with
 * their .error.  Runs on the mover thread, after the chunk's commit. */
static ch_code move_files(run *r, file_job *jobs, size_t n, ch_error *err)
{
    ch_code rc;
    char archive[PATH_MAX];
    int archive_fd = -1;
    unsigned in_dir = 0;
    for (size_t f = 0; f < n; f++) {
        file_job *j = &jobs[f];
        if (j->gone)
            continue;
        char final[PATH_MAX];
        intake_file_result fr = {r->practice->id, j->name, final, 0, j->units, j->taken, j->duplicates,
                                 j->problems, NULL};
        r->rep->files++;
        r->rep->encounters += j->units;
        r->rep->invalid += j->bad_units;
        if (j->problems) {
            text t = {NULL, 0, 0};
            error_text(r, j, &t);
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", r->inbound, j->name);
            rc = spool_fail(path, r->failed, NULL, t.p ? t.p : "problems\n", final, sizeof final, err);
            free(t.p);
            if (rc != CH_OK)
                return rc;
            fr.failed = 1;
            char first[512];
            const char *nl = j->report.p ? strchr(j->report.p, '\n') : NULL;
            snprintf(first, sizeof first, "%.*s", nl ? (int)(nl - j->report.p) : 0, j->report.p ? j->report.p : "");
            fr.first_problem = first;
            r->rep->files_failed++;
            log_msg(LOG_WARNING, "intake: %s/%s: %u problem%s, moved to failed/ (%s)", r->practice->id, j->name,
                    j->problems, j->problems == 1 ? "" : "s", first);
            if (r->o->on_file)
                r->o->on_file(r->o->ctx, &fr);
        } else {
            if (archive_fd >= 0 && in_dir == FILES_PER_DIR) {
                close(archive_fd);
                archive_fd = -1;
            }
            if (archive_fd < 0) {
                if ((rc = archive_dir(r, archive, sizeof archive, &archive_fd, err)) != CH_OK)
                    return rc;
                in_dir = 0;
            }
            rc = spool_move_at(r->inbound_fd, j->name, archive_fd, archive, NULL, final, sizeof final, err);
            if (rc != CH_OK) {
                close(archive_fd);
                return rc;
            }
            in_dir++;
            r->rep->files_taken++;
            log_msg(LOG_DEBUG, "intake: %s/%s: %u encounter%s, %u claim%s taken, %u already in the ledger",
                    r->practice->id, j->name, j->units, j->units == 1 ? "" : "s", j->taken, j->taken == 1 ? "" : "s",
                    j->duplicates);
            if (r->o->on_file)
                r->o->on_file(r->o->ctx, &fr);
        }
    }
    /* No fsync of the directories here, on purpose: the claims are already
     * committed (and synced) in the ledger, and a move lost in a power cut
     * only brings a file back into inbound/, where the next intake finds
     * its encounters in the ledger and archives it again.  Syncing here
     * would cost a journal commit per chunk, under the ledger's own. */
    if (archive_fd >= 0)
        close(archive_fd);
    return CH_OK;
}

static void *mover_main(void *vb)
{
    batchset *b = vb;
    b->move_rc = move_files(b->r, b->jobs, b->n, &b->move_err);
    return NULL;
}

/* Move a recorded chunk's files, on a thread of their own when there is one:
 * a rename costs about as much as recording a claim, so the two overlap. */
void intake_start_mover(batchset *b, run *r)
{
    b->r = r;
    b->move_rc = CH_OK;
    b->moving = pthread_create(&b->mover, NULL, mover_main, b) == 0;
    if (b->moving)
        pthread_setname_np(b->mover, "intake-move");
    if (!b->moving)
        mover_main(b);
}

/* Wait for the chunk's mover, free its jobs; its error, if any. */
ch_code intake_finish_chunk(batchset *b, ch_error *err)
{
    if (b->moving)
        pthread_join(b->mover, NULL);
    b->moving = 0;
    for (size_t i = 0; i < b->n; i++)
        job_free(&b->jobs[i]);
    b->n = 0;
    ch_code rc = b->move_rc;
    b->move_rc = CH_OK;
    if (rc != CH_OK && err)
        *err = b->move_err;
    return rc;
}
