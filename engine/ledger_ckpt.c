/*
 * ledger_ckpt.c - WAL checkpoints on a thread of their own (see
 * ledger_sqlite_int.h).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses the
 * limit: the committing thread copies the whole WAL into the database file
 * and syncs it, and intake and batch (whose ledger thread is the one the
 * others wait for) stand still meanwhile; the last of it runs at close.  Here
 * the commit only wakes a thread, which checkpoints through a connection of
 * its own (PASSIVE: it never waits for or blocks the writer) while the
 * writer goes on.  Durability is SQLite's either way: a commit is durable
 * once it is in the synced WAL, and a checkpoint only copies committed pages.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_sqlite_int.h"

/* WAL bytes after which a checkpoint is wanted.  The writer goes on while
 * it runs, so the WAL grows past this: half of what SQLite's own
 * checkpoint was set to (128 MiB) keeps it about as large as before. */
#define CKPT_BYTES (64 << 20)

struct lsq_ckpt {
    sqlite3 *main;             /* the writer's connection: its hook */
    char *path;
    int frames;                /* CKPT_BYTES in pages */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started, failed, stop, wanted;
};

static void *ckpt_main(void *vc)
{
    lsq_ckpt *c = vc;
    sqlite3 *db = NULL;
    int ok = sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
             sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) == SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->wanted && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->wanted = 0;
        pthread_mutex_unlock(&c->mu);
        if (ok)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    sqlite3_close(db);
    return NULL;
}

/* After each commit (the write lock is already released). */
static int on_commit(void *vc, sqlite3 *db, const char *name, int frames)
{
    lsq_ckpt *c = vc;
    (void)name;
    if (frames < c->frames)
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (!c->started && !c->failed) {
        if (pthread_create(&c->thread, NULL, ckpt_main, c) == 0) {
            c->started = 1;
            pthread_setname_np(c->thread, "ledger-ckpt"); /* for top and perf */
        } else {
            c->failed = 1;
        }
    }
    int here = !c->started;
    c->wanted = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (here) /* no thread to be had: as SQLite's own automatic checkpoint would */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

lsq_ckpt *lsq_ckpt_start(sqlite3 *db, const char *path)
{
    lsq_ckpt *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return NULL;
    }
    c->main = db;
    c->frames = CKPT_BYTES / 4096;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0)
            c->frames = CKPT_BYTES / sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    sqlite3_wal_hook(db, on_commit, c); /* replaces the automatic checkpoint */
    return c;
}

void lsq_ckpt_stop(lsq_ckpt *c)
{
    if (!c)
        return;
    sqlite3_wal_hook(c->main, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    int started = c->started;
    pthread_mutex_unlock(&c->mu);
    if (started)
        pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->path);
    free(c);
}
