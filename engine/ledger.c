/*
 * ledger.c - the parts of the ledger that do not depend on a backend:
 * state names, the allowed state changes, and choosing the backend.
 */
#include "ledger.h"

#include <string.h>

#include "ledger_backend.h"

static const char *const state_names[LEDGER_STATE__COUNT] = {
    [LEDGER_QUEUED] = "queued",   [LEDGER_BATCHED] = "batched",   [LEDGER_READY] = "ready",
    [LEDGER_SENDING] = "sending", [LEDGER_SENT] = "sent",         [LEDGER_ACKNOWLEDGED] = "acknowledged",
    [LEDGER_ACCEPTED] = "accepted", [LEDGER_REJECTED] = "rejected", [LEDGER_PAID] = "paid",
    [LEDGER_PARTIAL] = "partial", [LEDGER_DENIED] = "denied",     [LEDGER_FAILED] = "failed",
    [LEDGER_VOID] = "void",
};

const char *ledger_state_name(ledger_state s)
{
    return (unsigned)s < LEDGER_STATE__COUNT ? state_names[s] : "unknown";
}

ch_code ledger_state_parse(const char *s, ledger_state *out)
{
    for (int i = 0; i < LEDGER_STATE__COUNT; i++)
        if (!strcmp(s, state_names[i])) {
            *out = (ledger_state)i;
            return CH_OK;
        }
    return CH_ERR_INVALID;
}

#define B(s) (1u << (s))

/* to-states allowed from each state.  Staying in a state is allowed where a
 * claim can be revised in place (queued, failed) and records an event. */
static const unsigned allowed[LEDGER_STATE__COUNT] = {
    [LEDGER_QUEUED] = B(LEDGER_QUEUED) | B(LEDGER_BATCHED) | B(LEDGER_FAILED) | B(LEDGER_VOID),
    /* batched: the file was validated (ready), or it was discarded before
     * anyone saw it (back to queued, or failed with the reason) */
    [LEDGER_BATCHED] = B(LEDGER_READY) | B(LEDGER_QUEUED) | B(LEDGER_FAILED),
    [LEDGER_READY] = B(LEDGER_SENDING) | B(LEDGER_QUEUED) | B(LEDGER_FAILED) | B(LEDGER_VOID),
    [LEDGER_SENDING] = B(LEDGER_SENT) | B(LEDGER_READY) | B(LEDGER_FAILED),
    [LEDGER_SENT] = B(LEDGER_ACKNOWLEDGED) | B(LEDGER_ACCEPTED) | B(LEDGER_REJECTED) | B(LEDGER_PAID) |
                    B(LEDGER_PARTIAL) | B(LEDGER_DENIED),
    [LEDGER_ACKNOWLEDGED] = B(LEDGER_ACCEPTED) | B(LEDGER_REJECTED) | B(LEDGER_PAID) | B(LEDGER_PARTIAL) |
                            B(LEDGER_DENIED),
    /* ... or void: a void claim (frequency 8) the payer carried out */
    [LEDGER_ACCEPTED] = B(LEDGER_REJECTED) | B(LEDGER_PAID) | B(LEDGER_PARTIAL) | B(LEDGER_DENIED) | B(LEDGER_VOID),
    /* a rejected claim never reached adjudication: it may be corrected and sent again */
    [LEDGER_REJECTED] = B(LEDGER_QUEUED) | B(LEDGER_FAILED) | B(LEDGER_VOID),
    /* an 835 reversal (CLP02 22) takes a payment back: accepted again,
     * waiting for the corrected payment */
    [LEDGER_PAID] = B(LEDGER_VOID) | B(LEDGER_ACCEPTED),
    [LEDGER_PARTIAL] = B(LEDGER_PAID) | B(LEDGER_VOID) | B(LEDGER_ACCEPTED),
    [LEDGER_DENIED] = B(LEDGER_PAID) | B(LEDGER_PARTIAL) | B(LEDGER_VOID) | B(LEDGER_ACCEPTED),
    [LEDGER_FAILED] = B(LEDGER_FAILED) | B(LEDGER_QUEUED) | B(LEDGER_VOID),
    [LEDGER_VOID] = 0,
};

int ledger_transition_ok(ledger_state from, ledger_state to)
{
    if ((unsigned)from >= LEDGER_STATE__COUNT || (unsigned)to >= LEDGER_STATE__COUNT)
        return 0;
    return (allowed[from] >> to) & 1u;
}

ch_code ledger_open(ledger **out, const char *backend, const char *target, ch_error *err)
{
    *out = NULL;
    if (!backend || !strcmp(backend, "sqlite"))
        return ledger_sqlite_open(out, target, err);
    if (!strcmp(backend, "postgresql"))
        return ch_error_set(err, CH_ERR_CONFIG, "ledger backend postgresql is not available in this build yet");
    return ch_error_set(err, CH_ERR_CONFIG, "unknown ledger backend '%s'", backend);
}
