/*
 * payer_schedule.h - two optional sections of a payer profile:
 *
 *   schedule:            when the daemon works for this payer
 *     batch_every: 15m   batch waiting claims at least this often
 *     batch_at: 500      ...or as soon as this many wait
 *     send_every: 1m     look for ready batches
 *     collect_every: 10m poll for responses (reconciliation follows)
 *
 *   simulator:           the answering side of a demonstration payer
 *     paid_percent: 80
 *     patient_percent: 20
 *     reject: ["99499"]  procedures its 277CA rejects
 *     deny: ["99080"]    procedures its 835 denies
 *
 * Both are data read by one engine (daemon.c, payer_sim.c).
 */
#ifndef PAYER_SCHEDULE_H
#define PAYER_SCHEDULE_H

#include "ch_error.h"
#include "payer_sim.h"
#include "ydoc.h"

typedef struct payer_schedule {
    unsigned batch_every, batch_at, send_every, collect_every; /* seconds / claims */
} payer_schedule;

/* Defaults when the section is absent: batch every 15 minutes or at 500,
 * send every minute, collect every 10 minutes. */
void payer_schedule_defaults(payer_schedule *s);

/* Read `schedule:` (node may be NULL: defaults).  CH_ERR_CONFIG with file:line. */
ch_code payer_schedule_load(const ydoc_node *node, payer_schedule *s, const char *file, ch_error *err);

/* Read `simulator:` into r (defaults from payer_sim_defaults; the payer id
 * and name come from the profile).  *present says whether it was there. */
ch_code payer_sim_load(const ydoc_node *node, sim_rules *r, int *present, const char *file, ch_error *err);

#endif
