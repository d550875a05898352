/*
 * intake_int.h - what the parts of intake share (internal, not an
 * interface of the engine: see intake.h for that).  A file's job and the
 * encounters read from it, the reader threads (intake_read.c), the run a
 * chunk is recorded in (intake.c) and its files moved by (intake_move.c),
 * and the chunks in flight.
 */
#ifndef INTAKE_INT_H
#define INTAKE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "encounter_check.h"
#include "intake.h"

#define DEFAULT_MAX_BYTES (64u << 20)

/* --- a growable text ------------------------------------------------------------ */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

/* Append to t, printf-style; on no memory the text stays shorter (intake_read.c). */
void intake_text_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- per file ----------------------------------------------------------------------- */

typedef struct item {
    long index;               /* in the file's list, -1 for a single encounter */
    unsigned line;            /* where it starts in the file */
    char *doc;                /* packed */
    size_t len;
    char hash[65];
    char encounter_id[51], payer[32];
    encounter_type type;
    int frequency;
    int64_t total;
    char service_date[9];
} item;

typedef struct file_job {
    char name[NAME_MAX + 1];  /* in the practice's inbound directory */
    item *items;
    size_t nitems, cap;
    unsigned units;           /* encounters in the file */
    unsigned bad_units;
    unsigned problems;        /* problem lines in report */
    text report;
    int gone;                 /* vanished before it was read */
    /* after the ledger */
    unsigned taken, duplicates;
    text taken_list;          /* "[0] RFM00000012" ... */
} file_job;

/* Free what j holds (not j itself). */
static inline void job_free(file_job *j)
{
    for (size_t i = 0; i < j->nitems; i++)
        free(j->items[i].doc);
    free(j->items);
    free(j->report.p);
    free(j->taken_list.p);
}

/* What a worker needs; read-only but for its own scratch space. */
typedef struct shared {
    int dirfd;                /* the inbound directory */
    const config *cfg;
    const config_practice *practice;
    const char *today;
    size_t max_bytes;
    file_job *jobs;
    size_t njobs;
    atomic_size_t next;
} shared;

typedef struct worker {
    shared *sh;
    file_job *job;            /* the file being read */
    encounter e;
    encounter_problems probs;
    pthread_t thread;
} worker;

/* "[index]" of a list's encounter, "" for a single one: how messages and sources name it. */
static inline const char *unit_prefix(long index, char *buf, size_t size)
{
    if (index < 0)
        buf[0] = '\0';
    else
        snprintf(buf, size, "[%ld]", index);
    return buf;
}

/* --- the ledger and the moves, per chunk ------------------------------------------------ */

typedef struct run {
    int inbound_fd;
    const config *cfg;
    ledger *l;
    const intake_opts *o;
    intake_report *rep;
    const config_practice *practice;
    char inbound[PATH_MAX], failed[PATH_MAX], archive[PATH_MAX];
    char stamp[8];             /* HHMMSS of the run: names the archive directories */
    int archive_fd;            /* r->archive, the day's directory */
    unsigned ndirs;            /* archive directories made (by the one mover at a time) */
    const char *actor;
} run;

/* A chunk of files: read by the workers, recorded by the calling thread,
 * moved by its mover. */
typedef struct batchset {
    file_job *jobs;
    size_t n;
    shared sh;
    worker *w;
    unsigned nw;
    /* the mover of this chunk */
    run *r;
    pthread_t mover;
    int moving;
    ch_code move_rc;
    ch_error move_err;
} batchset;

/* --- the readers (intake_read.c) -------------------------------------------------- */

/* Read and check b's files on nw threads (in this one when none starts). */
void intake_start_workers(batchset *b, unsigned nw);
/* Wait until b's files are all read. */
void intake_join_workers(batchset *b);

/* --- the moves (intake_move.c) ------------------------------------------------------ */

/* Move b's recorded files on a thread of their own (in this one when none starts). */
void intake_start_mover(batchset *b, run *r);
/* Wait for b's mover, free its jobs; its error, if any (into err unless NULL). */
ch_code intake_finish_chunk(batchset *b, ch_error *err);

/* --- the run (intake.c) -------------------------------------------------------------- */

/* The local date, CCYYMMDD. */
void intake_today(char out[9]);

#endif
