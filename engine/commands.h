/* commands.h - the entry point of each command (one file each: cmd_NAME.c). */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_inspect(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_intake(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_claims(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_rejects(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_correct(int argc, char **argv);
int cmd_void(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reconcile(int argc, char **argv);
int cmd_payer_answer(int argc, char **argv);

#endif
