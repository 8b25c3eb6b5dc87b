/* events.h — the system account's internal client (nats-server events.go):
 * $SYS.REQ.* request handlers, the service imports every account gets
 * into the system account, connect/disconnect/auth-error advisories, the
 * statsz heartbeat, account connection counts and the shutdown event.
 * Protocol loop thread only. */
#pragma once

#include <stdbool.h>
#include "forward.h"

typedef struct Events Events;

/* After accounts exist (the system account may be NULL: then nothing
 * happens): internal subscriptions, system imports, timers.  Idempotent
 * over accounts added later (call again). */
void events_start(Server *s);
/* Sends the shutdown event and frees everything; accepts s->events NULL. */
void events_stop(Server *s);

/* Server shutdown: the $SYS.SERVER.<id>.SHUTDOWN event, sent at once. */
void events_shutdown(Server *s);
/* The number of local clients of `a` changed (Go addClient/removeClient):
 * its $SYS.ACCOUNT.<acc>.SERVER.CONNS update. */
void events_account_conns(Server *s, Account *a);
/* A client finished CONNECT successfully (Go accountConnectEvent). */
void events_client_connect(Client *c);
/* A client is closing: its DISCONNECT advisory, the AUTH.ERR one for
 * authentication failures.  Called while c still has its account. */
void events_client_closed(Client *c);
