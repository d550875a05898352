/*
 * config.h - conf/clearinghouse.yaml: where things are and who we bill for.
 *
 *   spool           the spool root (inbound/, failed/, outbound/, ...)
 *   ledger          backend (sqlite) and its path
 *   payer_profiles  the directory of payer-profiles/<payer>.yaml
 *   logging         level and file
 *   practices       per practice: billing provider (NPI, tax id, taxonomy,
 *                   address), claim number prefix, and per payer the
 *                   submitter id and EDI contact
 *   operators       who may see and change which practices' claims: a
 *                   mapping from operator name to a list of practice ids,
 *                   or `all`.  When the section is there, an operator not
 *                   in it sees nothing; without it every operator sees
 *                   every practice.
 *
 * Relative paths are taken from the current directory.  Secrets are never
 * written in this file: a setting named like a secret (password, secret,
 * token, api_key, private_key, dsn) is refused; name a file (`*_file`) or an
 * environment variable (`*_env`) that holds it instead.
 *
 * Every payer a practice bills is loaded with the configuration, so a bad
 * profile stops the engine at start rather than in the middle of a batch.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "ch_error.h"
#include "encounter.h"
#include "payer_profile.h"

#define CONFIG_DEFAULT_PATH "conf/clearinghouse.yaml"

typedef struct config_payer_link {
    char payer[32];           /* payer profile name */
    char submitter_qual[3];   /* ISA05, default ZZ */
    char submitter_id[16];    /* ISA06, GS02, 1000A NM109 */
    char submitter_name[61];  /* 1000A NM103, default the practice's name */
    char contact_name[61];    /* 1000A PER02 */
    char contact_phone[21];   /* PER TE */
    char contact_email[81];   /* PER EM */
    const payer_profile *profile;
} config_payer_link;

typedef struct config_practice {
    char id[32];              /* the directory name under inbound/ and failed/ */
    char name[61];            /* billing provider organization, 2010AA NM103 */
    char npi[11];
    char tax_id[10];          /* 9 digits (EIN), dash removed */
    char taxonomy[11];
    char claim_prefix[9];     /* patient control numbers start with it */
    enc_address address;
    config_payer_link *payers;
    size_t npayers;
} config_practice;

typedef struct config_operator {
    char name[64];
    int all;                  /* `all`: every practice */
    char (*practices)[32];    /* else these practice ids */
    size_t npractices;
} config_operator;

typedef enum config_log_level { CONFIG_LOG_ERROR = 0, CONFIG_LOG_WARNING, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG } config_log_level;

typedef struct config {
    char path[PATH_MAX];          /* the file read */
    char spool[PATH_MAX];
    char ledger_backend[16];      /* "sqlite" */
    char ledger_path[PATH_MAX];   /* sqlite database file */
    char ledger_dsn_env[64];      /* postgresql: environment variable with the DSN */
    char profiles_dir[PATH_MAX];
    config_log_level log_level;
    char log_file[PATH_MAX];      /* "" or "-": standard error */
    config_practice *practices;
    size_t npractices;
    payer_profile **profiles;     /* every profile a practice refers to */
    size_t nprofiles;
    int operators_configured;     /* an `operators:` section is there (it may be empty) */
    config_operator *operators;
    size_t noperators;
} config;

/*
 * Read and check the configuration at path and the payer profiles it names.
 * Errors: CH_ERR_IO (cannot read), CH_ERR_CONFIG (with file:line and the
 * setting's path), CH_ERR_NOMEM.  *out is owned by the caller: config_free().
 */
ch_code config_load(config **out, const char *path, ch_error *err);

void config_free(config *c);

/* The practice with this id, or NULL. */
const config_practice *config_practice_find(const config *c, const char *id);

/* The practice's enrollment with payer (a profile name), or NULL. */
const config_payer_link *config_practice_payer(const config_practice *p, const char *payer);

/* The operator with this name, or NULL (also when none are configured). */
const config_operator *config_operator_find(const config *c, const char *name);

/* A loaded payer profile by name, or NULL. */
const payer_profile *config_profile(const config *c, const char *name);

#endif
