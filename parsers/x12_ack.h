/*
 * x12_ack.h - 999 implementation acknowledgments (005010X231A1) and TA1
 * interchange acknowledgments, built while a file streams by.
 *
 * Feed every segment of the stream, in order, to x12_ack_feed() and every
 * diagnostic the tokenizer and the guide validator report to x12_ack_diag();
 * call x12_ack_finish() at the end of input.  The acknowledger follows the
 * envelopes with its own x12_env and reports envelope problems to itself, so
 * diagnostics whose code starts with "envelope." are skipped when passed in
 * (passing them is harmless; they would otherwise count twice).
 *
 * Order: a diagnostic is placed by its position (x12_pos) in the
 * transaction set, group or interchange it names.  It may be passed before
 * its segment is fed (the tokenizer reports while reading it; such
 * diagnostics wait, at most 64 of them, until it arrives) or any time after,
 * until the segment after its envelope's trailer (SE, GE, IEA) is fed: that
 * is when the set's AK2 loop, the group's 999 and the interchange's TA1 are
 * written.
 *
 * What is written, for each functional group received, one 999 file in its
 * own interchange:
 *   ISA (sender and receiver of the acknowledged interchange swapped, ISA14
 *   0, ISA15 copied) GS*FA (GS02/GS03 swapped, GS08 005010X231A1),
 *   ST*999*0001*005010X231A1, AK1 (GS01, GS06, GS08), then per transaction
 *   set an AK2 (ST01, ST02, ST03), its IK3 loops and an IK5, then AK9, SE,
 *   GE, IEA.  Delimiters * ^ : ~ with a newline after each terminator.
 *   A received value the 999 cannot carry as it is (AK202 shorter than 4,
 *   a GS06 that is not a number, an empty GS01/GS08/ST01) is zero-padded or
 *   replaced (0, ZZ, UNKNOWN, 000) so the 999 stays valid (the envelope
 *   checker's IK5 7 and AK905 2/6 say what was wrong with ST02, GS08 and
 *   GS06).  Whatever version was received, the answer is a 5010 999 (no 997
 *   for 4010 partners).
 *
 *   IK3: one per segment-level problem (the diagnostic's ik3 code), and one
 *   IK3 with code 8 per segment with element problems (ik4 codes), followed
 *   by an IK4 for each: IK401 element[:component[:repetition]], IK402 from
 *   x12_diag.ele_ref when known, IK403 the ik4 code, IK404 the value found
 *   (our delimiters and control bytes removed; it goes back to the sender,
 *   who has it already).  IK302 is x12_pos.seg_in_st.  IK303 is the loop id
 *   cut to the 4 characters X12 element 447 allows ("2010AA" -> "2010";
 *   x12_ack_opts.full_loop_ids writes it whole, as some partners expect,
 *   though the 999 guide table then reports it as too long).
 *   A CTX*CLM01:<claim id> follows each IK3 inside an 837 claim: a claim
 *   runs from its CLM to the next CLM, HL or SE; a problem the validator
 *   reports at the segment that ended a claim, about another segment (a
 *   missing one), is in the claim that ended; problems in loops before 2300
 *   are in none.  The last two claims are kept.  The situational-trigger CTX
 *   is not written: a diagnostic does not say which segment triggered it.
 *   At most X12_ACK_MAX_PROBLEMS IK3/IK4 entries are listed per transaction
 *   set; problems past that still decide IK5 but are not listed.
 *
 *   IK5: R when any error (or fatal) diagnostic falls in the set, E when only
 *   warnings do, A when none.  IK502.. are the diagnostics' ik5 codes, then 5
 *   when segments are in error by the standard's syntax (level 1 or a
 *   numeric IK304/IK403 code), I5 when by the implementation guide.
 *
 *   AK9: R when the group itself has an error (its diagnostics' ak9 codes
 *   become AK905..) or no set was accepted; P when some were; E when all
 *   were but some with notes (or the group has warnings); A otherwise.
 *   AK902 is GE01 as received (the count made when GE01 is not a number),
 *   AK903 the sets received, AK904 those accepted (0 when AK901 is R: a
 *   rejected group is rejected whole).
 *
 * A TA1, in an interchange of its own (ISA, TA1, IEA*0), for each
 * interchange with a diagnostic carrying a ta1 code, or a fatal one before
 * its first GS (TA105 024), or when ISA14 asks for one, or ta1_always:
 * TA101..TA103 the received ISA13, ISA09, ISA10; TA104 R, or E when every
 * problem is a warning or one of the codes that only note an error (001 002
 * 003 006 008 009 019 020 021, as BizTalk and ediFabric treat them), A and
 * TA105 000 when clean.  When an ISA cannot be read at all, one TA1 R for
 * it with TA101 000000000 and the date and time of the acknowledgment; its
 * envelope names the parties of the last interchange read, or self_id and
 * partner_id.
 *
 * Files: <dir>/<basename>.<ISA13>.<GS06>.999 and <dir>/<basename>.<ISA13>.ta1,
 * with the acknowledgment's own control numbers.  Each is written under a
 * hidden temporary name, fsynced, then linked to its name (an existing file
 * is never replaced: CH_ERR_EXISTS) and the directory fsynced; mode 0600.
 * A 999 is complete when its group ends; until then no reader sees it.
 *
 * Memory: one transaction set's problems, one open file, the waiting
 * diagnostics, and the list of files written (one path per file, at most
 * X12_ACK_MAX_FILES).
 */
#ifndef X12_ACK_H
#define X12_ACK_H

#include <time.h>

#include "ch_error.h"
#include "x12_diag.h"
#include "x12_reader.h"

#define X12_ACK_MAX_PROBLEMS 1000   /* IK3/IK4 entries listed per set */
#define X12_ACK_MAX_FILES 100000    /* acknowledgment files per run */

typedef struct x12_ack_opts {
    const char *dir;            /* where to write (created 0700 if missing) */
    const char *basename;       /* file name prefix; no '/' */
    unsigned long isa13, gs06;  /* first control numbers of the acks' own
                                   envelopes, then counting up (0: from 1) */
    int ta1_always;             /* also a TA1 (A, 000) for a clean interchange */
    int full_loop_ids;          /* IK303 as the guide names the loop (2010AA) */
    time_t now;                 /* the acks' date and time; 0: the clock (UTC) */
    const char *self_id;        /* ISA06 of a TA1 for an unreadable ISA when no
                                   interchange was read (qualifier ZZ); NULL:
                                   "UNKNOWN" */
    const char *partner_id;     /* its ISA08, likewise */
} x12_ack_opts;

typedef struct x12_ack x12_ack;

/* Start acknowledging one stream.  Options are copied.  Returns NULL with err
 * filled on bad options (CH_ERR_USAGE), a directory that cannot be made
 * (CH_ERR_IO) or no memory. */
x12_ack *x12_ack_new(const x12_ack_opts *o, ch_error *err);

/* The next segment of the stream. */
void x12_ack_feed(x12_ack *a, const x12_segment *seg);

/* A diagnostic found in the stream (copied as needed; d may be reused). */
void x12_ack_diag(x12_ack *a, const x12_diag *d);

/* End of input: close what is open and write what is left.  Returns CH_OK or
 * the first error met while writing (CH_ERR_IO, CH_ERR_EXISTS, CH_ERR_LIMIT,
 * CH_ERR_NOMEM); files completed before it stay written and listed.  After
 * a local read error, skip this and free: nothing more is written. */
ch_code x12_ack_finish(x12_ack *a, ch_error *err);

/* The files written so far, in order.  *paths points into the acknowledger
 * (valid until x12_ack_free); returns their number. */
unsigned x12_ack_files(const x12_ack *a, char ***paths);

/* Free everything; a file not yet complete is removed.  a may be NULL. */
void x12_ack_free(x12_ack *a);

#endif
