/*
 * batch_int.h - what batch.c and batch_file.c share (internal to batching).
 *
 * A chunk is one file's worth of claims, rendered to memory in the file's
 * first ledger transaction.  The file itself is written, fsync'd, validated
 * and (when clean) renamed into place by batch_file_start() on a thread of
 * its own, while the calling thread goes on with the ledger: recording the
 * file before and settling the one after (see batch.c).
 */
#ifndef BATCH_INT_H
#define BATCH_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "batch_837.h"

#define BATCH_MAX_BLAME_TEXT 4096

typedef struct bclaim {
    int64_t id;
    char pcn[21];
    size_t off, len;         /* its segments in the chunk buffer */
    unsigned nseg;
    unsigned st;             /* transaction set, 0-based */
    int64_t total;
    uint64_t file_off, file_end;
    int blamed;
    char why[512];
} bclaim;

typedef struct failure {
    int64_t id;
    char pcn[21];
    char why[512];
} failure;

/* A queued claim as read from the ledger, before it is rendered. */
typedef struct brow {
    int64_t id;
    char pcn[21];
    size_t doc_off, doc_len;  /* its packed encounter in the chunk's docs */
} brow;

typedef struct chunk {
    const config *cfg;
    const batch_opts *o;
    batch_837_ctx ctx;
    unsigned per_st;
    bclaim *c;
    size_t n, cap;
    failure *f;
    size_t nf, capf;
    char *buf;
    size_t len, bcap;
    unsigned nst, st_claims, hl;
    int64_t total;
    size_t fetched;
    /* the rows read, until they are rendered */
    brow *rows;
    size_t nrows, caprows;
    char *docs;
    size_t dlen, dcap;
    /* rendering one claim */
    char *scratch;
    FILE *mf;
    x12_writer w;
    encounter e;
    encounter_problems probs;
    ch_code fatal;
    ch_error fatal_err;
} chunk;

/* --- batch_render.c ---------------------------------------------------------------- */

/* A chunk for the claims of one practice, payer and claim type; NULL when
 * out of memory.  Free with batch_chunk_free(). */
chunk *batch_chunk_new(const config *cfg, const batch_opts *o, const config_practice *pr,
                       const config_payer_link *link, encounter_type type);
void batch_chunk_free(chunk *ch);
/* Empty it for the next file. */
void batch_chunk_reset(chunk *ch);
/* A ledger_claims_each callback: keeps the claim's row and a copy of its
 * document (ch->fatal on running out of memory). */
int batch_chunk_collect(void *ch, const ledger_claim *lc);
/*
 * Render the collected rows: each claim that passes the payer's edits and
 * can be written goes into ch->buf and ch->c, in transaction sets of at
 * most per_st claims, one set per per_st rows read (so a set holds fewer
 * when claims of its rows fail); the others into ch->f with the reason.
 * When there is more than one set, helper (another chunk of the same group,
 * or NULL) renders the second half on a thread of its own.  The rows and
 * their documents are released.
 */
void batch_chunk_render(chunk *ch, chunk *helper);

/* The validation problems of a file, mapped to the claims they point at. */
typedef struct blame {
    chunk *ch;
    unsigned claim_problems, file_problems;
    char file_first[512];
    char report[BATCH_MAX_BLAME_TEXT];
    size_t rlen;
} blame;

/* One file between its first transaction and its settling. */
typedef struct batch_file {
    chunk *ch;                 /* its claims; read-only while the file is written */
    int64_t batch_id;
    uint64_t isa13, gs06, st02;
    char name[128];
    char tmp[PATH_MAX], final[PATH_MAX], outdir[PATH_MAX];
    batch_validate_fn validate;
    /* results, valid after batch_file_wait() */
    ch_code rc;                /* writing or reading it failed: err */
    ch_error err;
    uint64_t bytes;
    char hash[65];
    batch_validation val;
    blame bl;
    int renamed;               /* clean: in place under final, directory synced */
    ch_code place_rc;          /* clean, but the rename or the sync failed: place_err */
    ch_error place_err;
    /* the thread */
    pthread_t thread;
    int threaded, running;
} batch_file;

/*
 * Write f->tmp, validate it and, when clean, rename it to f->final and sync
 * the directory: on a thread of its own when one can be had, else now.
 * f->ch must not change until batch_file_wait() returns.
 */
void batch_file_start(batch_file *f);
void batch_file_wait(batch_file *f);

#endif
