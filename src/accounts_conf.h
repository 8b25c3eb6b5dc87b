/* accounts_conf.h — the account sharing parts of the config (nats-server
 * opts.go parseAccountMappings, parseAccountExports/Imports,
 * parseExportStreamOrService, parseImportStreamOrService and the second
 * pass of parseAccounts).  Parsed values are kept per account in
 * AccountsConf and applied to real accounts at server setup.  Main thread
 * (config loading) and protocol loop thread (setup). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include "accounts.h"
#include "conf_parse.h"
#include "forward.h"

typedef struct AccountsConf AccountsConf;

/* What one account's block said about mappings, exports and imports. */
AccountsConf *accounts_conf_new(void);
void accounts_conf_free(AccountsConf *ac);  /* accepts NULL */

/* `mappings {}` (top level for $G, or inside an account): checked now,
 * errors in nats-server's words appended to errors. */
void accounts_conf_parse_mappings(AccountsConf *ac, const char *acc_name, const ConfValue *v, GPtrArray *errors);
void accounts_conf_parse_exports(AccountsConf *ac, const ConfValue *v, GPtrArray *errors);
void accounts_conf_parse_imports(AccountsConf *ac, const ConfValue *v, GPtrArray *errors);

/* The second pass of parseAccounts, once every account is known: adds the
 * exports and imports to throwaway accounts and reports what nats-server
 * reports, at `where` (the accounts block).  names/confs: parallel arrays
 * of the configured accounts. */
void accounts_conf_check(GPtrArray *names, GPtrArray *confs, bool no_system_account, const ConfValue *where,
                         GPtrArray *errors);

/* Server setup: applies the parsed mappings (and, with a lookup of every
 * account by name, exports then imports) to real accounts. */
void accounts_conf_apply_mappings(const AccountsConf *ac, Account *acc);
void accounts_conf_apply_exports(const AccountsConf *ac, Account *acc, GHashTable *accounts_by_name);
void accounts_conf_apply_imports(const AccountsConf *ac, Account *acc, GHashTable *accounts_by_name);
