/* accounts_monitor.h — /accountz account_detail members for mappings,
 * exports, imports (accounts_monitor_sharing, written after
 * "subscriptions") and pending service responses (after "sublist_stats"),
 * as nats-server 2.9.10 prints them.  Nothing is written for an account
 * without them (Go's omitempty). */
#pragma once

#include "forward.h"
#include "monitor_json.h"

void accounts_monitor_sharing(JsonW *w, Account *acc);
void accounts_monitor_responses(JsonW *w, Account *acc);
