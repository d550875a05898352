/*
 * x12_validate.h - the streaming implementation-guide validator.
 *
 * Feed it every segment the tokenizer yields; it drives its own envelope
 * checker (x12_envelope.h), picks the guide of each transaction set
 * (x12_guide_for: ST01 and ST03, else GS08) and reports every problem
 * through one diagnostic callback, as it goes:
 *
 *   level 1  envelopes; data types, lengths, too many elements, components
 *            or repetitions; X12 syntax notes; GS08/ST03 against the guide
 *   level 2  loops and segment order (the guide's loop tree), required and
 *            not-used segments, loops and elements, maximum use, codes
 *   level 3  balancing (the guide's `balance` line): 837 claim charge =
 *            sum of line charges; 835 payment = paid claims - provider
 *            adjustments, claim and line charge - paid = their adjustments
 *   level 4  the guide's situational rules; HL numbering, parents, children
 *   level 5  code-set shapes named by check= (x12_codeset.h)
 *
 * Every diagnostic carries the position, the loop the guide places the
 * segment in, tag/element/component/repetition, what was found and what
 * was expected, and the 999 codes: ik3 (IK304) for segment problems, ik4
 * (IK403, with ik3 "8") for element problems, and ik5 (IK502) for the
 * transaction set ("5" for X12 syntax, level 1; "I5" for guide levels 2-5;
 * envelope problems keep the envelope checker's codes).
 *
 * Loop placement follows the guide as X12 does: from the current position,
 * forward in the current loop (a match of a child loop's trigger and key
 * starts that loop), then forward in each enclosing loop (which ends the
 * loops in between).  A segment found only behind the position is out of
 * order (IK304 7: reported, counted where it belongs, position kept); one
 * found nowhere is unexpected (2), not in the transaction set (6) or an
 * unrecognized segment id (1), and the position is kept, so one stray
 * segment does not derail the rest.  Required segments and loops, rules,
 * HL children and balances are checked when a repeat of their loop ends,
 * and reported at the segment that ended it (or at the loop's first
 * segment, for rules, HL04 and balances).
 *
 * Memory: one frame per open loop, each with a counter per child entry and
 * the rule values of the loop, sized from the guide when a transaction set
 * starts, plus fixed tables: where segments were placed before (by loop,
 * position, tag and key value; a few kilobytes) and one segment's bitmaps.
 * Nothing grows with the size of the file or the transaction set.  No
 * allocation per segment.
 *
 * Speed: most segments are placed by the memo of earlier placements and
 * most values decided by bit tests on the segment (x12_val_fast.c); what
 * those cannot pass takes the full checks, which alone report, so the
 * diagnostics are the same either way (tests/test_validate_fast.c).
 */
#ifndef X12_VALIDATE_H
#define X12_VALIDATE_H

#include "x12_envelope.h"
#include "x12_guide.h"
#include "x12_reader.h"

typedef struct x12_validator x12_validator;

/*
 * Create a validator.  file names the input in diagnostics (copied).  fn may
 * be NULL (problems are then only counted).  Returns NULL when out of memory.
 */
x12_validator *x12_validator_new(const char *file, x12_diag_fn fn, void *ctx);

/*
 * Validate every transaction set with g instead of the registry's choice
 * (tests; payer-specific tables).  g must outlive the validator; NULL goes
 * back to the registry.  Call before the first segment.
 */
void x12_validator_use_guide(x12_validator *v, const x12_guide *g);

/*
 * Also pass the envelope events of the internal envelope checker on to ev
 * (e.g. an acknowledgment writer).  They are called after the validator has
 * handled them, so in st_close x12_validator_set_errors() already counts
 * the set's problems.  ev is copied.
 */
void x12_validator_events(x12_validator *v, const x12_env_events *ev);

/*
 * Validate transaction sets on `threads` worker threads (at most 16) as
 * well as on the calling thread; 0 keeps the calling thread doing it all.
 * The calling thread still reads, keeps the envelopes, chooses for each set
 * whether a worker or itself validates it (a worker when its backlog is
 * short), and sends every diagnostic, in the same order and with the same
 * content as without threads; they may only come later (at the latest
 * from x12_validator_finish()).  Counts are final after finish.
 * job_segments bounds the segments per unit of work (0: the default, 4,096;
 * tests use small values).  Memory stays bounded: at most 48 units per
 * worker wait, fewer when the file makes many diagnostics.  Not with
 * envelope events (x12_validator_events), and x12_validator_set_errors()/
 * _guide() mean nothing with threads.  Call before the first segment.
 * Returns CH_OK, CH_ERR_USAGE (too late, or events set), CH_ERR_NOMEM or
 * CH_ERR_IO (no thread): the validator then works without threads.
 */
ch_code x12_validator_threads(x12_validator *v, unsigned threads, unsigned job_segments,
                              ch_error *err);

/*
 * Report d, from another layer (the tokenizer), in its place among the
 * validator's own: with threads it waits for the diagnostics before it.
 * Not counted in x12_validator_errors().
 */
void x12_validator_pass(x12_validator *v, const x12_diag *d);

/* Validate the next segment (in file order, every segment of the stream). */
void x12_validator_feed(x12_validator *v, const x12_segment *seg);

/*
 * End of input: closes what is still open (reporting missing trailers,
 * loops and segments).  last is the position to report at (the last
 * segment's, or NULL when there was none).
 */
void x12_validator_finish(x12_validator *v, const x12_pos *last);

/* Diagnostics sent so far (all layers it drives), by severity. */
unsigned x12_validator_errors(const x12_validator *v);
unsigned x12_validator_warnings(const x12_validator *v);

/* Transaction sets seen; of those, with at least one error; and not
 * validated against a guide (none known for them). */
unsigned x12_validator_sets(const x12_validator *v);
unsigned x12_validator_sets_with_errors(const x12_validator *v);
unsigned x12_validator_sets_unchecked(const x12_validator *v);

/* Errors in the current (or, inside st_close, the closing) transaction set. */
unsigned x12_validator_set_errors(const x12_validator *v);

/* The guide of the current transaction set, or NULL. */
const x12_guide *x12_validator_guide(const x12_validator *v);

void x12_validator_free(x12_validator *v);

#endif
