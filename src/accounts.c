/* accounts.c — account objects (see accounts.h).  Protocol loop thread. */
#include "accounts.h"

#include <glib.h>
#include "sublist.h"

Account *account_new(const char *name, bool sublist_cache) {
  Account *acc = g_new0(Account, 1);
  acc->name = g_strdup(name);
  acc->sublist = sublist_new(sublist_cache);
  acc->max_connections = acc->max_subscriptions = acc->max_payload = -1;
  return acc;
}

void account_free(Account *acc) {
  if (!acc) return;
  sublist_free(acc->sublist);
  g_free(acc->name);
  g_free(acc);
}
