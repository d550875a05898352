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
 * not sent) or that a 999 rejected (in whole or in part). */
ch_code ledger_batches_scoped(ledger *l, const ledger_scope *scope, const char *practice, int problem_only,
                              ledger_batch_fn fn, void *ctx, ch_error *err);

/* The reason of the latest 999 that rejected (a transaction set of) the
 * batch into reason (size bytes); "" when no 999 rejected it. */
ch_code ledger_batch_rejection(ledger *l, int64_t batch_id, char *reason, size_t size, ch_error *err);

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

/* --- what comes back: acknowledgments, claim statuses, remittances (schema 3) ---
 *
 * Implemented in ledger_remit.c (storing), ledger_remit_match.c (lookups)
 * and ledger_remit_read.c (reading back).  Reconciliation (engine/reconcile.h) calls
 * these inside one transaction per file; a remittance is identified by its
 * payer and trace key (TRN03/TRN02) and is never posted twice.
 */

/* A claim as responses see it. */
typedef struct ledger_claim_brief {
    int64_t id;
    char pcn[39];              /* ours are at most 20; room for what a payer may echo */
    char practice[32], payer[32];
    ledger_state state;
    int64_t total_cents;
    char service_date[9];
    int64_t batch_id;
    char payer_claim_no[51];
} ledger_claim_brief;

/* The payer key of a PCN under one payer's rules (see match_rules.h). */
typedef size_t (*ledger_key_fn)(void *ctx, const char *pcn, char *out, size_t size);

/*
 * Index the payer keys of the payer's claims under the rules signature sig
 * (claims added since the last call under this sig; cheap when none).
 */
ch_code ledger_claim_keys_refresh(ledger *l, const char *payer, const char *sig, ledger_key_fn fn, void *ctx,
                                  ch_error *err);

/*
 * Claims that responses may touch (sent and after, not void) whose PCN is key,
 * or, when sig is given, whose payer key under sig is key; limited to payer
 * and practice when given.  Up to max in out; *n is how many there are
 * (counted up to max + 1).
 */
ch_code ledger_claims_by_key(ledger *l, const char *payer, const char *practice, const char *sig, const char *key,
                             ledger_claim_brief *out, size_t max, size_t *n, ch_error *err);

/*
 * ledger_claims_by_key, with the packed encounter that out[0] holds (for its
 * lines; one lookup instead of two): *doc is owned by the ledger and valid
 * until the next call (NULL, *doc_len 0: nothing found, or no document).
 */
ch_code ledger_claims_by_key_doc(ledger *l, const char *payer, const char *practice, const char *sig,
                                 const char *key, ledger_claim_brief *out, size_t max, size_t *n, const void **doc,
                                 size_t *doc_len, ch_error *err);

/* The same by total charge and a first service date within [from, to]. */
ch_code ledger_claims_by_charge_dates(ledger *l, const char *payer, const char *practice, int64_t charge,
                                      const char *from, const char *to, ledger_claim_brief *out, size_t max,
                                      size_t *n, ch_error *err);

/* One claim by id: CH_ERR_NOTFOUND. */
ch_code ledger_claim_brief_get(ledger *l, int64_t id, ledger_claim_brief *out, ch_error *err);

/* The packed encounter the claim holds (malloc'd: free()). */
ch_code ledger_claim_doc(ledger *l, int64_t id, void **doc, size_t *len, ch_error *err);

/*
 * A response's verdict on a claim read as c (its state then): move it to
 * `to` (one event, why) when it is still in c->state and the move is
 * allowed, and store the payer's claim number when given (NULL or "":
 * keep).  One statement for both.  *moved (may be NULL): 1 when it moved.
 * CH_ERR_INVALID when the claim left c->state meanwhile.
 */
ch_code ledger_claim_respond(ledger *l, const ledger_claim_brief *c, ledger_state to, const char *payer_claim_no,
                             const char *actor, const char *why, int *moved, ch_error *err);

/* Store the payer's claim number (277CA REF*1K, 835 CLP07). */
ch_code ledger_claim_set_payer_claim_no(ledger *l, int64_t id, const char *no, ch_error *err);

/*
 * Batches whose GS06 is gs06; when several, those sent by sender to receiver
 * ("ZZ:ID", NULL: any).  Up to max in out, *n how many.
 */
ch_code ledger_batches_by_gs06(ledger *l, uint64_t gs06, const char *sender, const char *receiver,
                               ledger_batch *out, size_t max, size_t *n, ch_error *err);

/* A 999 AK2 received for a batch (batch_id 0: unknown).  *dup (may be NULL)
 * is 1 when this file's AK2 for the set was recorded before. */
typedef struct ledger_ack {
    int64_t batch_id;
    const char *file, *sha256, *gs06, *st02;
    int accepted;
    const char *status;    /* IK501 */
    const char *reason;    /* summary and errors, no PHI */
    unsigned claims;       /* how many claims it marked */
} ledger_ack;
ch_code ledger_ack_add(ledger *l, const ledger_ack *a, int *dup, ch_error *err);

typedef struct ledger_remittance {
    int64_t id;
    char payer[32];          /* payer profile name, else the payer's id */
    char trace_key[64];      /* TRN03/TRN02 */
    char practice[32];       /* by payee NPI / tax id; "" unknown */
    int64_t paid_cents;      /* BPR02 */
    char method[4], pay_date[9];
    char payee_npi[11], payee_tax_id[51];
    char file[1024];
    char sha256[65];
    unsigned claims;
    int flagged;             /* unbalanced or invalid: see the worklist */
    char posted_at[32];
} ledger_remittance;

/* Record a remittance (r->id set).  CH_ERR_EXISTS (r->id = the one posted
 * before) when its payer and trace key were posted already. */
ch_code ledger_remittance_add(ledger *l, ledger_remittance *r, ch_error *err);
ch_code ledger_remittance_finish(ledger *l, int64_t id, unsigned claims, int flagged, ch_error *err);
ch_code ledger_remittance_get(ledger *l, const char *payer, const char *trace_key, ledger_remittance *r,
                              ch_error *err);
/*
 * Posting reports (reconcile_report.h) are written after the postings are
 * committed; a remittance is marked once its report is in place.  One whose
 * run died in between is listed here, oldest first (fn returns non-zero to
 * stop), so that the next run writes its report.
 */
typedef int (*ledger_id_fn)(void *ctx, int64_t id);
ch_code ledger_remittances_unreported(ledger *l, ledger_id_fn fn, void *ctx, ch_error *err);
/* The reports of these n remittances are in place (one statement). */
ch_code ledger_remittances_reported(ledger *l, const int64_t *ids, size_t n, ch_error *err);

typedef struct ledger_claim_payment {
    int64_t id, claim_id, remittance_id;
    char status_code[3];     /* CLP02 */
    char outcome[10];        /* paid, partial, denied, reversal */
    int64_t billed, paid, patient_resp, allowed;
    char payer_claim_no[51];
    int reversal;
    int64_t reversed_by;     /* 0: stands */
    char posted_at[32];
} ledger_claim_payment;

/* One CAS triplet. */
typedef struct ledger_adjustment {
    const char *group, *reason, *quantity;   /* quantity NULL or "": none */
    int64_t cents;
} ledger_adjustment;

/* A service line of a claim payment, with its CAS. */
typedef struct ledger_line_payment {
    unsigned line_no;        /* the LX of the line we sent; 0 unmatched */
    const char *procedure, *modifiers, *control;
    int64_t billed, paid, allowed, units_x100;
    const ledger_adjustment *adj;
    size_t nadj;
} ledger_line_payment;

/*
 * Post a claim payment with its claim-level adjustments and its lines
 * (each with its adjustments): p->id and p->posted_at are set.  One row
 * (schema 6: lines and adjustments are JSON columns of claim_payments, read
 * as rows through the views line_payments and adjustments).  Nothing is
 * kept of the arrays after the call.
 */
ch_code ledger_claim_payment_add(ledger *l, ledger_claim_payment *p, const ledger_adjustment *adj, size_t nadj,
                                 const ledger_line_payment *lines, size_t nlines, ch_error *err);
/* The claim's latest payment that is not a reversal and was not reversed;
 * with payer_claim_no (not NULL or ""), one with that number.  CH_ERR_NOTFOUND. */
ch_code ledger_claim_payment_open(ledger *l, int64_t claim_id, const char *payer_claim_no, ledger_claim_payment *out,
                                  ch_error *err);
ch_code ledger_claim_payment_reverse(ledger *l, int64_t id, int64_t by, ch_error *err);
typedef int (*ledger_payment_fn)(void *ctx, const ledger_claim_payment *p);
/* A claim's payments, oldest first. */
ch_code ledger_claim_payments_each(ledger *l, int64_t claim_id, ledger_payment_fn fn, void *ctx, ch_error *err);

/* One PLB pair. */
ch_code ledger_plb_add(ledger *l, int64_t remittance_id, const char *provider_id, const char *fiscal_date,
                       const char *reason, const char *reference, int64_t cents, ch_error *err);

/* One posted claim payment for reports: the payment, its claim and its
 * adjustments ("CO:45:1234" each, claim and lines, blank separated). */
typedef struct ledger_posting {
    ledger_claim_payment pay;
    char practice[32], pcn[39];
    ledger_state state;        /* the claim's state now */
    char trace_key[64];
    const char *adjustments;   /* valid during the call */
} ledger_posting;
typedef int (*ledger_posting_fn)(void *ctx, const ledger_posting *p);
ch_code ledger_postings_each(ledger *l, int64_t remittance_id, ledger_posting_fn fn, void *ctx, ch_error *err);

/* The worklist: what a person has to look at. kind: unmatched, ambiguous,
 * underpaid, unbalanced, invalid, payee, state, rejected. */
typedef struct ledger_work_item {
    int64_t id;
    char kind[16];
    char practice[32], payer[32];
    int64_t claim_id, remittance_id;  /* 0: none */
    char file[1024];
    char reference[64];      /* the PCN or trace as received */
    int64_t amount_cents;
    char reason[512];        /* no PHI */
    char created_at[32];
} ledger_work_item;
ch_code ledger_worklist_add(ledger *l, const ledger_work_item *w, ch_error *err);
typedef int (*ledger_work_fn)(void *ctx, const ledger_work_item *w);
/* Open items, oldest first (practice / kind NULL: any). */
ch_code ledger_worklist_each(ledger *l, const char *practice, const char *kind, ledger_work_fn fn, void *ctx,
                             ch_error *err);

#endif
