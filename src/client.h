/* client.h — one client connection: state from CONNECT, the read path
 * (bytes → parser → callbacks), delivery into other clients' outbound
 * queues, the coalesced flush, timers (ping, auth, write deadline), and close.
 *
 * Ownership: the Server owns every Client (its clients table).  A Client is
 * freed only by server_reap_closed() after the dispatch in which it was
 * closed, so a handler may call client_close() on any client, including one
 * it is iterating over, and no callback ever sees a freed Client.
 * Thread: protocol loop only. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "client_out.h"
#include "errors.h"
#include "forward.h"
#include "loop.h"
#include "parser.h"

typedef enum ClientKind { CLIENT_KIND_CLIENT = 0, CLIENT_KIND_ROUTER, CLIENT_KIND_GATEWAY, CLIENT_KIND_LEAF,
                          CLIENT_KIND_SYSTEM, CLIENT_KIND_JETSTREAM, CLIENT_KIND_ACCOUNT } ClientKind;

/* Options the client sent in CONNECT (Go's clientOpts). */
typedef struct ClientConnectOpts {
  bool echo, verbose, pedantic, tls_required, headers, no_responders;
  int protocol;
  char *name, *lang, *version;   /* owned */
  char *user, *pass, *jwt, *nkey, *sig, *auth_token; /* owned */
  bool account_requested;        /* "account" or "new_account" given: refused */
} ClientConnectOpts;

typedef enum ClientState {
  CLIENT_OPEN,        /* reading and writing */
  CLIENT_DRAINING,    /* closed for reading; flushing what is queued, then closes */
  CLIENT_CLOSED,      /* waiting to be reaped after this dispatch */
} ClientState;

struct Client {
  uint64_t cid;
  ClientKind kind;
  ClientState state;
  Server *srv;                /* borrowed */
  Account *acc;               /* borrowed: owned by the server */
  ClientAuth *auth;           /* owned (auth.c); NULL until auth needs per-client state */
  JwtClient *jwt;             /* owned (jwt_auth.c, freed with c->auth); NULL unless a user JWT authenticated */
  LoopWatch watch;            /* fd lives here; -1 once removed */
  int fd;
  char host[INET6_ADDRSTRLEN];
  int port;
  Parser parser;              /* embedded; owns its split buffers */
  ClientConnectOpts opts;
  bool connect_received;
  bool sys_connect_sent;      /* the $SYS connect advisory went out (events.c) */
  bool first_pong_sent;       /* async INFO only goes to clients past their first PING (as Go) */
  bool headers;               /* server and client both support headers */

  GHashTable *subs;           /* owned: sid (char*, owned by the Subscription) → Subscription* (one ref) */

  OutQueue out;               /* owned chunks */
  bool in_flush_list;
  Client *next_flush;         /* borrowed: server's pending-flush list */
  Client *next_closed;        /* borrowed: server's reap list */
  bool flush_blocked;         /* kernel pushed back: EPOLLOUT armed */

  Timer ping_timer;
  Timer auth_timer;
  Timer write_timer;          /* write deadline while flush_blocked */
  int pings_out;
  int64_t last_activity;      /* µs monotonic: last PUB/SUB/UNSUB (Go's c.last) */
  int64_t last_ping_in;       /* µs monotonic: last PING from the client */
  int64_t rtt_start;          /* µs monotonic: when we last sent PING; 0 = never */

  int64_t start_time_real;    /* µs since epoch, for monitoring */
  int64_t rtt_us;             /* last round trip (Go's c.rtt); 0 = not measured */
  uint64_t in_msgs, in_bytes, out_msgs, out_bytes;
  ClosedState close_reason;   /* 0 until closed */

  /* TLS (tls.c): the session runs on fd; plain clients leave these zero. */
  TlsConn *tls;               /* owned; NULL = plain TCP */
  uint8_t tls_state;          /* ClientTlsState */
  bool auth_timer_deferred;   /* auth timer starts when the handshake is done (as Go) */
  Timer tls_timer;            /* handshake deadline (tls timeout) or allow_non_tls first-byte wait */
};

typedef enum ClientTlsState {
  CLIENT_TLS_NONE = 0,        /* plain connection */
  CLIENT_TLS_PEEK,            /* allow_non_tls: waiting for the first byte (0x16 = handshake) */
  CLIENT_TLS_HANDSHAKE,
  CLIENT_TLS_ACTIVE,          /* records flow through the session */
} ClientTlsState;

/* Called by the server's accept path; the fd is connected and non-blocking. */
Client *client_new(Server *srv, int fd, uint64_t cid, const struct sockaddr *peer);
/* Sends INFO and arms timers; false if the client was rejected (max conns). */
void client_start(Client *c);
/* Marks the client closed for `reason`: stops reading, unsubscribes; a
 * pending -ERR or data is flushed best-effort.  Idempotent. */
void client_close(Client *c, ClosedState reason);
/* Frees a closed client (server_reap_closed only). */
void client_free(Client *c);

/* Unsubscribes one of c's subscriptions (config reload removing a sub the
 * new permissions refuse). */
void client_remove_sub(Client *c, Subscription *sub);

/* Queue raw protocol bytes for c and schedule a flush at the end of the dispatch. */
void client_queue_outbound(Client *c, const void *data, size_t len);
/* Send -ERR '<text>' */
void client_send_err(Client *c, const char *text);
/* Writes what is queued; called by the server's post-dispatch flush. */
void client_flush(Client *c);

/* Fan-out of one message to a match result (Go processMsgResults): plain
 * subscriptions, then one member per queue group.  acc is the account r
 * was matched in.  True if anything took the message. */
#define CLIENT_PMR_IMPORTED_FROM_SERVICE 1
#define CLIENT_PMR_EMPTY_REPLY 2  /* server-made message: an empty reply field in MSG */
bool client_process_msg_results(Client *c, Account *acc, SublistResult *r, const ParserPub *pub, const char *payload,
                                int flags);

/* Lame duck / info updates: send an async INFO (e.g. with "ldm":true). */
void client_send_info(Client *c, bool lame_duck);

/* "127.0.0.1:5678 - cid:4" prefix used in every per-client log line. */
#define CLIENT_LOG_FMT "%s:%d - cid:%" G_GUINT64_FORMAT " - "
#define CLIENT_LOG_ARGS(c) (c)->host, (c)->port, (c)->cid
