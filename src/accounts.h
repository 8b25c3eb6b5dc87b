/* accounts.h — accounts: each has its own subject space (Sublist).  This is
 * the minimal form the core needs ($G and $SYS); imports, exports, mappings
 * and limits arrive with the configuration/auth work.  Owned by the Server;
 * clients hold a borrowed pointer for their lifetime. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "forward.h"

struct Account {
  char *name;            /* owned */
  Sublist *sublist;      /* owned */
  uint32_t num_clients;  /* local clients bound to it */
  uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
  uint64_t slow_consumers;  /* clients of this account closed as slow consumers */
};

Account *account_new(const char *name, bool sublist_cache);   /* (transfer full) */
void account_free(Account *acc);                             /* accepts NULL */
