/*
 * ledger.h - the system of record: practices, payers, claims and their
 * history, batches and control numbers.
 *
 * A narrow interface, so that a PostgreSQL backend can follow the SQLite
 * one (ledger_sqlite.c) without touching callers: no SQL crosses it, only
 * the operations the engine needs.  Each backend keeps a schema_migrations
 * table and upgrades its schema on open.
 *
 * Claims move through states (ledger_state); every move appends an event
 * (who, what, when, why) to an append-only log that the backend refuses to
 * change or delete.  Control numbers (ISA13, GS06, ST02) come from a
 * counter per sender/receiver pair that only moves forward and is
 * committed before a number is used, so a number is never reused, also
 * across a crash (a crash can only skip numbers).
 *
 * Transactions: ledger_begin / ledger_commit / ledger_rollback group
 * operations.  Operations called outside an explicit transaction run in
 * their own.  A ledger handle is used by one thread at a time.
 *
 * Errors: CH_ERR_DB (backend failure, with its message), CH_ERR_BUSY
 * (locked by another process for longer than the busy timeout),
 * CH_ERR_NOTFOUND, CH_ERR_INVALID (a state change that is not allowed),
 * CH_ERR_LIMIT (control numbers exhausted).  Messages carry claim ids and
 * batch ids, never PHI.
 */
#ifndef LEDGER_H
#define LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "ch_error.h"

typedef struct ledger ledger;

typedef enum ledger_state {
    LEDGER_QUEUED = 0,     /* taken in, waiting for a batch */
    LEDGER_BATCHED,        /* assigned to a batch whose file is being written */
    LEDGER_READY,          /* in a validated file in outbound/, waiting to be sent */
    LEDGER_SENDING,
    LEDGER_SENT,
    LEDGER_ACKNOWLEDGED,   /* 999 accepted the functional group */
    LEDGER_ACCEPTED,       /* 277CA accepted the claim */
    LEDGER_REJECTED,       /* 999 or 277CA rejected it */
    LEDGER_PAID,           /* 835 paid it in full */
    LEDGER_PARTIAL,        /* 835 paid part of it */
    LEDGER_DENIED,         /* 835 paid nothing */
    LEDGER_FAILED,         /* on the practice's worklist: see last_error */
    LEDGER_VOID,           /* replaced or voided */
    LEDGER_STATE__COUNT
} ledger_state;

/* "queued", "batched", ...; never NULL. */
const char *ledger_state_name(ledger_state s);
/* The state named s; CH_ERR_INVALID when there is none. */
ch_code ledger_state_parse(const char *s, ledger_state *out);
/* 1 when a claim may move from one state to another. */
int ledger_transition_ok(ledger_state from, ledger_state to);

typedef enum ledger_control_kind { LEDGER_ISA13 = 0, LEDGER_GS06, LEDGER_ST02 } ledger_control_kind;

/*
 * Open (creating when missing) the ledger.  backend is "sqlite" (target: the
 * database file; its directory must exist) or "postgresql" (not built yet:
 * CH_ERR_CONFIG).  The schema is created or upgraded here.
 * *out is owned by the caller: ledger_close().
 */
ch_code ledger_open(ledger **out, const char *backend, const char *target, ch_error *err);
void ledger_close(ledger *l);

/* A write transaction (taken at once, so two writers queue, never deadlock). */
ch_code ledger_begin(ledger *l, ch_error *err);
ch_code ledger_commit(ledger *l, ch_error *err);
/* Undo everything since ledger_begin.  Safe to call when none is open. */
void ledger_rollback(ledger *l);

/* The schema version in use. */
int ledger_schema_version(ledger *l);

/* --- reference data -------------------------------------------------------- */

/* Insert or update a practice / payer row (from the configuration). */
ch_code ledger_practice_put(ledger *l, const char *id, const char *name, const char *npi, ch_error *err);
ch_code ledger_payer_put(ledger *l, const char *id, const char *payer_id, const char *name, ch_error *err);

/* --- intake ------------------------------------------------------------------ */

typedef struct ledger_submission {
    const char *practice, *payer;
    const char *claim_type;      /* "837P" or "837I" */
    const char *encounter_id;
    const char *content_hash;    /* of the packed document */
    int frequency;               /* 1, 7 or 8 */
    int64_t total_cents;
    const char *service_date;    /* first date of service, CCYYMMDD (for listing) */
    const void *doc;             /* the packed encounter (encounter_pack) */
    size_t doc_len;
    const char *claim_prefix;    /* the practice's patient control number prefix */
    const char *source;          /* the file it came from (for the record) */
    const char *actor;           /* who is taking it in ("intake") */
} ledger_submission;

typedef enum ledger_outcome {
    LEDGER_NEW = 1,        /* a new claim, queued */
    LEDGER_DUPLICATE,      /* this exact content was taken before: nothing changed */
    LEDGER_REVISED,        /* a new version of an encounter whose claim had not gone out:
                              the claim now holds it (and is queued again) */
    LEDGER_REPLACEMENT,    /* a replacement/void of a claim that went out: a new claim */
    LEDGER_REFUSED         /* a changed original of a claim that went out: see why */
} ledger_outcome;

typedef struct ledger_intake_result {
    ledger_outcome outcome;
    int64_t claim_id;
    char pcn[21];              /* patient control number (CLM01) */
    unsigned version;          /* the encounter's version now (1 for the first) */
    char why[200];             /* for REFUSED: what to do instead */
} ledger_intake_result;

/*
 * Take one encounter.  Deduplicates by practice + encounter id + content
 * hash (see ledger_outcome).  A new claim gets a patient control number:
 * the practice's prefix and its claim id, at most 20 characters.  Appends
 * the events.  Call inside ledger_begin/commit to take many at once.
 */
ch_code ledger_claim_submit(ledger *l, const ledger_submission *s, ledger_intake_result *r, ch_error *err);

/* --- claims -------------------------------------------------------------------- */

typedef struct ledger_claim {
    int64_t id;
    char pcn[21];
    char practice[32], payer[32];
    char claim_type[5];
    char encounter_id[51];
    unsigned version;
    int frequency;
    ledger_state state;
    int64_t total_cents;
    char service_date[9];
    int64_t batch_id;          /* 0: none */
    int64_t replaces;          /* 0: none */
    char created_at[32], updated_at[32];
    char last_error[512];      /* why it failed, for the worklist */
    const void *doc;           /* packed encounter; NULL unless asked for */
    size_t doc_len;
} ledger_claim;

struct ledger_scope;

typedef struct ledger_filter {
    const char *practice, *payer, *claim_type; /* NULL: any */
    /* the practices the caller may see (see ledger_scope below), enforced in
     * the query; NULL: every practice (the engine's own work, not an operator) */
    const struct ledger_scope *scope;
    int state;                 /* a ledger_state, or -1 for any */
    int64_t batch_id;          /* 0: any */
    int64_t after_id;          /* only ids above this (paging) */
    const char *pcn;           /* NULL: any */
    size_t limit;              /* 0: no limit */
    int with_doc;              /* fill doc / doc_len */
} ledger_filter;

/* Receives each claim in id order; the pointers are valid during the call.
 * Return nonzero to stop. */
typedef int (*ledger_claim_fn)(void *ctx, const ledger_claim *c);

ch_code ledger_claims_each(ledger *l, const ledger_filter *f, ledger_claim_fn fn, void *ctx, ch_error *err);

/* Claims per state for the filter's practice/payer/claim type. */
ch_code ledger_claims_count(ledger *l, const ledger_filter *f, uint64_t counts[LEDGER_STATE__COUNT], ch_error *err);

/*
 * Move a claim to state `to`, setting its batch (0: none; -1: keep) and,
 * for LEDGER_FAILED, its last_error to why.  Appends an event.
 * CH_ERR_NOTFOUND, or CH_ERR_INVALID when the move is not allowed.
 */
ch_code ledger_claim_move(ledger *l, int64_t claim_id, ledger_state to, int64_t batch_id, const char *actor,
                          const char *why, ch_error *err);

typedef struct ledger_event {
    int64_t id, claim_id, batch_id;
    char at[32];
    char actor[64];
    char from_state[16], to_state[16];
    char why[512];
} ledger_event;

typedef int (*ledger_event_fn)(void *ctx, const ledger_event *e);

/* The events of a claim, oldest first. */
ch_code ledger_claim_events(ledger *l, int64_t claim_id, ledger_event_fn fn, void *ctx, ch_error *err);

/* --- batches ---------------------------------------------------------------------- */

typedef struct ledger_group {
    char practice[32], payer[32], claim_type[5];
    uint64_t count;
} ledger_group;

/* The (practice, payer, claim type) groups holding queued claims.
 * *groups is malloc'd (free()); *n may be 0. */
ch_code ledger_queued_groups(ledger *l, ledger_group **groups, size_t *n, ch_error *err);

/*
 * Allocate count consecutive control numbers of one kind for the pair
 * sender/receiver; *first is the first.  Numbers run 1..999999999 and are
 * never handed out twice: CH_ERR_LIMIT when they run out.
 */
ch_code ledger_control_next(ledger *l, const char *sender, const char *receiver, ledger_control_kind kind,
                            unsigned count, uint64_t *first, ch_error *err);

typedef struct ledger_batch {
    int64_t id;
    char practice[32], payer[32], claim_type[5];
    char state[16];            /* writing, ready, discarded, sending, sent, failed */
    char sender[32], receiver[32];
    uint64_t isa13, gs06, st02_first;
    unsigned st_count, claim_count;
    int64_t total_cents;
    char file[4096];           /* path of the file (final name) */
    uint64_t bytes;
    char content_hash[65];
    char created_at[32], updated_at[32];
    char error[512];
} ledger_batch;

/* Record a new batch (state "writing"); b->id is set. */
ch_code ledger_batch_create(ledger *l, ledger_batch *b, ch_error *err);

/*
 * Put queued claims into a batch: each moves queued -> batched with one
 * event.  All or nothing: CH_ERR_INVALID (naming the claim) when one of
 * them is no longer queued; call inside a transaction and roll back.
 */
ch_code ledger_batch_add_claims(ledger *l, int64_t batch_id, const int64_t *claim_ids, size_t n, const char *actor,
                                const char *why, ch_error *err);

/* Change a batch's state, recording bytes / hash / error when given. */
ch_code ledger_batch_update(ledger *l, int64_t id, const char *state, uint64_t bytes, const char *content_hash,
                            const char *error, ch_error *err);

/*
 * Move every claim of a batch that is in state `from` to state `to`
 * (keeping or clearing the batch as keep_batch says), one event each.
 * *moved (may be NULL) is how many moved.
 */
ch_code ledger_batch_move_claims(ledger *l, int64_t batch_id, ledger_state from, ledger_state to, int keep_batch,
                                 const char *actor, const char *why, uint64_t *moved, ch_error *err);

typedef int (*ledger_batch_fn)(void *ctx, const ledger_batch *b);

/* Batches in a state (NULL: all), oldest first. */
ch_code ledger_batches_each(ledger *l, const char *state, ledger_batch_fn fn, void *ctx, ch_error *err);

/* One batch by id: CH_ERR_NOTFOUND when there is none. */
ch_code ledger_batch_get(ledger *l, int64_t id, ledger_batch *b, ch_error *err);

/* --- exchange with payers: send and collect (ledger_exchange.c) ------------------ */

/*
 * A batch on its way to the payer.  It enters `sending` with its remote
 * name (decided once: the crash check looks for exactly that name), counts
 * failed attempts, and waits until next_attempt_at before the next one;
 * `error` (ledger_batch) holds the last failure.  sending -> sent records
 * sent_at; past the payer's retry limit it becomes `failed`.
 */
typedef struct ledger_send_info {
    char remote_name[256];     /* "" until the batch enters sending */
    unsigned attempts;         /* failed attempts so far */
    int64_t next_attempt_ms;   /* epoch milliseconds; 0: at once */
    char sent_at[32];          /* "" until sent */
} ledger_send_info;

typedef int (*ledger_send_fn)(void *ctx, const ledger_batch *b, const ledger_send_info *s);

/* The batches of payer (NULL: every payer) in `sending`, then those in
 * `ready`, each group oldest first.  Return nonzero from fn to stop. */
ch_code ledger_batches_to_send(ledger *l, const char *payer, ledger_send_fn fn, void *ctx, ch_error *err);

ch_code ledger_batch_send_info(ledger *l, int64_t id, ledger_send_info *s, ch_error *err);

/*
 * ready -> sending with its remote name, and its claims ready -> sending,
 * in one transaction (the caller's, or its own).  CH_ERR_INVALID when the
 * batch is no longer ready, CH_ERR_EXISTS when another batch of the payer
 * has that remote name.
 */
ch_code ledger_batch_start_send(ledger *l, int64_t id, const char *remote_name, const char *actor, ch_error *err);

/* Record a failed attempt on a batch in `sending`: attempts, when the next
 * may start (epoch ms, 0: at once) and why. */
ch_code ledger_batch_send_failed(ledger *l, int64_t id, unsigned attempts, int64_t next_attempt_ms,
                                 const char *why, ch_error *err);

/* A note on a batch that stays in `sending` (held for an operator: the
 * payer's side could not be checked), without counting an attempt. */
ch_code ledger_batch_send_note(ledger *l, int64_t id, const char *why, ch_error *err);

/* sending -> sent (sent_at now), claims sending -> sent, one transaction. */
ch_code ledger_batch_sent(ledger *l, int64_t id, const char *actor, ch_error *err);

/* sending -> failed with why, claims sending -> failed (why on the
 * worklist), one transaction. */
ch_code ledger_batch_send_give_up(ledger *l, int64_t id, const char *actor, const char *why, ch_error *err);

/* A file collected from a payer (spool/inbox/<payer>/). */
typedef struct ledger_received {
    int64_t id;
    char payer[32];
    char name[256];            /* the name on the payer's side */
    uint64_t size;
    char sha256[65];
    char local_path[4096];
    char received_at[32];
    char state[16];            /* new, reconciled, failed */
    char note[512];
} ledger_received;

/*
 * Record a collected file.  CH_ERR_EXISTS when the payer's file with that
 * SHA-256 was recorded before (*existing, may be NULL, is that record);
 * otherwise *id (may be NULL) is the new record's id.
 */
ch_code ledger_received_add(ledger *l, const char *payer, const char *name, uint64_t size, const char *sha256,
                            const char *local_path, int64_t *id, ledger_received *existing, ch_error *err);

typedef int (*ledger_received_fn)(void *ctx, const ledger_received *r);

/* Received files of payer (NULL: all) in state (NULL: any), oldest first. */
ch_code ledger_received_each(ledger *l, const char *payer, const char *state, ledger_received_fn fn, void *ctx,
                             ch_error *err);

/* Set a received file's state (new, reconciled, failed) and note. */
ch_code ledger_received_set_state(ledger *l, int64_t id, const char *state, const char *note, ch_error *err);

/* --- operators (ledger_ops.c) ------------------------------------------------
 *
 * What an operator may see and change is enforced here, in the queries, not
 * by the commands that print the results: every function below that reads or
 * changes claims or batches takes a scope and never returns, counts or moves
 * a row of a practice outside it.  A claim or batch outside the scope reads
 * as CH_ERR_NOTFOUND, the same as one that does not exist, so an id does not
 * tell whether another practice has it.
 */

#define LEDGER_SCOPE_MAX 64

typedef struct ledger_scope {
    int all;                                  /* every practice */
    unsigned n;                               /* else only these (0: nothing at all) */
    char practices[LEDGER_SCOPE_MAX][32];
    char operator_name[64];                   /* for events: "operator NAME" */
} ledger_scope;

/* 1 when the scope lets its operator see practice (NULL scope: always). */
int ledger_scope_allows(const ledger_scope *s, const char *practice);
/* Add a practice to a scope; CH_ERR_LIMIT past LEDGER_SCOPE_MAX. */
ch_code ledger_scope_add(ledger_scope *s, const char *practice, ch_error *err);
/* The scope's practices as a JSON array of strings, for a query (ledger
 * backends); "[]" when it allows nothing. */
void ledger_scope_json(const ledger_scope *s, char *buf, size_t size);

/* One claim by id inside scope, with its document when with_doc; fn is
 * called once.  CH_ERR_NOTFOUND when there is none in scope. */
ch_code ledger_claim_get(ledger *l, const ledger_scope *scope, int64_t claim_id, int with_doc, ledger_claim_fn fn,
                         void *ctx, ch_error *err);

/* The payer's claim number (REF*1K of an accepting 277CA; sent back as
 * REF*F8 on a replacement or void).  buf is "" when there is none yet. */
ch_code ledger_claim_payer_number(ledger *l, int64_t claim_id, char *buf, size_t size, ch_error *err);
/* Record it (reconciliation does, on an accepting 277CA), with an event. */
ch_code ledger_claim_set_payer_number(ledger *l, int64_t claim_id, const char *number, const char *actor,
                                      ch_error *err);

/* Append an event to a claim without changing its state (a note in its
 * history, such as "replaced by claim N"). */
ch_code ledger_claim_note(ledger *l, int64_t claim_id, const char *actor, const char *why, ch_error *err);

/* The batch a claim was last in (its batch, or the last batch its events
 * name); 0 when it was never batched. */
ch_code ledger_claim_last_batch(ledger *l, int64_t claim_id, int64_t *batch_id, ch_error *err);

/* The newest claim that replaces claim_id (frequency 7 or 8); 0 when none. */
ch_code ledger_claim_replaced_by(ledger *l, int64_t claim_id, int64_t *by, ch_error *err);

/* Batches inside scope (and of practice, when not NULL), oldest first.
 * problem_only: only batches that failed (discarded, or carrying an error and
 * not sent). */
ch_code ledger_batches_scoped(ledger *l, const ledger_scope *scope, const char *practice, int problem_only,
                              ledger_batch_fn fn, void *ctx, ch_error *err);

/* One batch by id inside scope: CH_ERR_NOTFOUND otherwise. */
ch_code ledger_batch_get_scoped(ledger *l, const ledger_scope *scope, int64_t id, ledger_batch *b, ch_error *err);

/* The rejected and failed claims that were in a batch (their batch, or
 * named by their events), inside scope, in id order. */
ch_code ledger_batch_problem_claims(ledger *l, const ledger_scope *scope, int64_t batch_id, ledger_claim_fn fn,
                                    void *ctx, ch_error *err);

typedef struct ledger_summary_row {
    char practice[32], payer[32];
    ledger_state state;
    uint64_t count;
    int64_t total_cents;
} ledger_summary_row;

typedef int (*ledger_summary_fn)(void *ctx, const ledger_summary_row *r);

/* Claims per practice, payer and state inside scope (and practice). */
ch_code ledger_claims_summary(ledger *l, const ledger_scope *scope, const char *practice, ledger_summary_fn fn,
                              void *ctx, ch_error *err);

typedef struct ledger_exchange {
    char practice[32], payer[32];
    char at[32];               /* when */
    char what[16];             /* "sent" (a sent batch) or the latest batch's state */
    int64_t batch_id;
} ledger_exchange;

typedef int (*ledger_exchange_fn)(void *ctx, const ledger_exchange *x);

/* The last exchange with each payer, per practice inside scope: the latest
 * sent batch (its updated_at), or when none was sent yet the latest batch. */
ch_code ledger_last_exchanges(ledger *l, const ledger_scope *scope, const char *practice, ledger_exchange_fn fn,
                              void *ctx, ch_error *err);

/* Money posted today (UTC) from remittances inside scope.  *available is 0
 * when this ledger holds no posted payments table (reconciliation has not
 * been installed): *cents is then 0 and means nothing. */
ch_code ledger_money_posted_today(ledger *l, const ledger_scope *scope, const char *practice, int64_t *cents,
                                  int *available, ch_error *err);

#endif
