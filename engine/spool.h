/*
 * spool.h - the spool: directories whose contents are the work, Postfix style.
 *
 *   inbound/<practice>/   encounters dropped by a practice (read by intake)
 *   failed/<practice>/    encounters that could not be taken, each with a
 *                         <name>.error beside it saying why
 *   outbound/<payer>/     837 files ready to send
 *   inbox/<payer>/        files received from a payer (999, 277CA, 835)
 *   archive/              everything done with: encounters taken
 *                         (archive/encounters/<practice>/<day>/), batch files
 *                         that were discarded before being sent
 *   reports/<practice>/   reports for a practice
 *
 * A file's state is where it is; it changes state by rename(2), which is
 * atomic within one file system.  Nothing is ever deleted: a file that
 * cannot be used is moved aside with a `.error` beside it.  A file is
 * written under a temporary name in its final directory (".NAME.tmp"),
 * fsync'd, renamed into place, and the directory fsync'd: a reader never
 * sees half a file, and a crash leaves either the old state or the new.
 * Files are created 0600, directories 0700.
 */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>

#include "ch_error.h"

#define SPOOL_INBOUND "inbound"
#define SPOOL_FAILED "failed"
#define SPOOL_OUTBOUND "outbound"
#define SPOOL_INBOX "inbox"
#define SPOOL_ARCHIVE "archive"
#define SPOOL_REPORTS "reports"

/* Create the spool root and its areas (mode 0700) when missing. */
ch_code spool_init(const char *root, ch_error *err);

/* mkdir -p with mode 0700.  CH_ERR_IO naming the directory on failure. */
ch_code spool_mkdirs(const char *dir, ch_error *err);

/* Join root/area/sub (sub may be NULL) into out and create it.
 * CH_ERR_LIMIT when it does not fit, CH_ERR_IO when it cannot be made. */
ch_code spool_dir(char *out, size_t size, const char *root, const char *area, const char *sub, ch_error *err);

/*
 * 1 when name is an encounter ready to be read: ends in .yaml, .yml or
 * .json and does not start with '.'.  Files being written must carry
 * another name (".x.yaml.tmp", "x.yaml.part") until renamed into place.
 */
int spool_is_encounter_name(const char *name);

/*
 * The names in dir accepted by want (regular files only, no symlinks),
 * sorted, into *names (malloc'd, free with spool_list_free).  A missing
 * directory gives an empty list.  CH_ERR_IO when it cannot be read.
 */
ch_code spool_list(const char *dir, int (*want)(const char *name), char ***names, size_t *n, ch_error *err);
void spool_list_free(char **names, size_t n);

/*
 * Write data to dir/name atomically: ".name.tmp" in dir, fsync, rename,
 * fsync dir.  An existing dir/name is replaced (callers use unique names).
 */
ch_code spool_write_atomic(const char *dir, const char *name, const void *data, size_t len, ch_error *err);

/*
 * Move the file at from into to_dir without ever replacing a file there:
 * when the name is taken, "x.yaml" becomes "x.1.yaml", "x.2.yaml", ...
 * name is the base name to give it there (NULL: keep its own).  The final
 * path is written to final (may be NULL).  Does not fsync: call
 * spool_sync_dir on both directories once a group of moves is done.
 */
ch_code spool_move(const char *from, const char *to_dir, const char *name, char *final, size_t final_size,
                   ch_error *err);

/*
 * The same with directory descriptors: move from_name (relative to
 * from_dir) into to_dir (a descriptor; to_dir_path is its path, for the
 * final name and messages).  Either descriptor may be AT_FDCWD.  Saves the
 * path lookups when many files move between the same two directories.
 */
ch_code spool_move_at(int from_dir, const char *from_name, int to_dir, const char *to_dir_path, const char *name,
                      char *final, size_t final_size, ch_error *err);

/*
 * Set a file aside: move it into failed_dir (as spool_move, under name or
 * its own) and write reason into <final name>.error beside it, then fsync
 * the directories.
 */
ch_code spool_fail(const char *from, const char *failed_dir, const char *name, const char *reason, char *final,
                   size_t final_size, ch_error *err);

/* fsync a directory, so renames into and out of it survive a crash. */
ch_code spool_sync_dir(const char *dir, ch_error *err);

#endif
