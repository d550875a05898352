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
 */
#ifndef DEMO_PAYER_H
#define DEMO_PAYER_H

#include "ch_error.h"
#include "payer_sim.h"

/*
 * Answer every complete file in in_dir (names starting with '.' are files
 * still being written and are skipped).  *answered counts the files handled.
 * Control numbers of the answers come from each file's name, so a file
 * answered again after a crash gets the same answers.  Returns CH_OK or the first error (the other files
 * are still answered).
 */
ch_code demo_payer_answer(const char *in_dir, const char *out_dir, const sim_rules *rules,
                          unsigned *answered, ch_error *err);

/* Write the 999 (and a TA1 if the envelope is broken) for the file at path
 * into out_dir.  *accepted is 1 when every transaction set was accepted. */
ch_code demo_payer_ack(const char *path, const char *out_dir, unsigned long control, int *accepted,
                       ch_error *err);

#endif
