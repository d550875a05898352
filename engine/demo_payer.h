/*
 * demo_payer.h - the answering side of a demonstration payer.
 *
 * Watches a directory the engine delivers 837 files into (a `dir:`
 * transport's upload directory); for each file it writes, into the payer's
 * response directory, what a real payer sends back: a 999 from the engine's
 * own validator and acknowledgment writer, then a 277CA and an 835 from the
 * synthetic payer (payer_sim.h) following the profile's `simulator:` rules.
 * The 837 is then moved to <in_dir>/answered/ (never deleted).  Responses are
 * written under a temporary name and renamed, as a payer's gateway would.
 * The daemon runs it for a `dir:` payer with `simulator:`; `clearinghouse
 * payer-answer` runs it over any directory.
 */
#ifndef DEMO_PAYER_H
#define DEMO_PAYER_H

#include "ch_error.h"
#include "payer_sim.h"

/* What became of one file (the callback of demo_payer_answer_each). */
typedef struct demo_payer_file {
    const char *name;       /* the 837's file name in in_dir */
    int accepted_999;       /* the 999 accepted every transaction set */
    const sim_result *sim;  /* the 277CA and 835 written; NULL when the 999 rejected the file */
    ch_code rc;             /* CH_OK: answered and moved to answered/; else err says why */
    const ch_error *err;
} demo_payer_file;

typedef void (*demo_payer_fn)(void *ctx, const demo_payer_file *f);

/*
 * Answer every complete file in in_dir (names starting with '.' are files
 * still being written and are skipped), in name order.  *answered counts the
 * files handled; each is moved to <in_dir>/answered/, where the payer also
 * keeps its history of adjudications (answered/adjudications.tsv, see
 * payer_history.h) unless rules->history names another file.  A file that
 * cannot be answered stays in in_dir.  Control numbers of the answers come
 * from each file's name, so a file answered again after a crash gets the same
 * answers.  on_file (may be NULL) hears of each file.  Returns CH_OK or the
 * first error (the other files are still answered).
 */
ch_code demo_payer_answer_each(const char *in_dir, const char *out_dir, const sim_rules *rules, demo_payer_fn on_file,
                               void *ctx, unsigned *answered, ch_error *err);

/* demo_payer_answer_each without a callback. */
ch_code demo_payer_answer(const char *in_dir, const char *out_dir, const sim_rules *rules,
                          unsigned *answered, ch_error *err);

/* Write the 999 (and a TA1 if the envelope is broken) for the file at path
 * into out_dir: the engine's validator's findings, and, with rules (may be
 * NULL), each SV101-2 / SV202-2 procedure listed in rules->reject_999 as an
 * IK4 code 7 (invalid code value), which rejects its transaction set.
 * *accepted is 1 when every transaction set was accepted. */
ch_code demo_payer_ack(const char *path, const char *out_dir, const sim_rules *rules, unsigned long control,
                       int *accepted, ch_error *err);

#endif
