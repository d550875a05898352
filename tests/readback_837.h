/*
 * readback_837.h - read the claims back out of an 837P/837I file the engine
 * wrote, into struct encounter, so a round trip can be compared field by
 * field.  Test code: it knows only the segments batch_837.c writes.
 *
 * Fields an 837 does not carry are filled from elsewhere: practice from the
 * billing provider's NPI (configuration), payer from NM1*PR (the profiles),
 * encounter_id is left empty (the ledger knows it by CLM01).
 */
#ifndef READBACK_837_H
#define READBACK_837_H

#include <stddef.h>

#include "config.h"
#include "encounter.h"

typedef struct rb_claim {
    char pcn[39];
    encounter e;
} rb_claim;

/* 0 on success; on failure -1 with why filled. */
int rb_read_837(const config *cfg, const char *path, rb_claim **out, size_t *n, char *why, size_t whysize);
void rb_free(rb_claim *v, size_t n);

#endif
