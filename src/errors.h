/* errors.h — every client-protocol error cnatsd can hit, with nats-server's
 * exact -ERR text, whether the connection closes, and the /connz close
 * reason.  No ad-hoc -ERR strings elsewhere: look the text up here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum NatsError {
  NATS_OK = 0,
  NATS_ERR_UNKNOWN_PROTOCOL,        /* garbage op, bad payload terminator */
  NATS_ERR_MAX_CONTROL_LINE,
  NATS_ERR_MAX_PAYLOAD,
  NATS_ERR_PARSE,                   /* PUB/HPUB/SUB/UNSUB argument errors */
  NATS_ERR_AUTH_VIOLATION,
  NATS_ERR_AUTH_TIMEOUT,
  NATS_ERR_STALE_CONNECTION,
  NATS_ERR_MAX_CONNECTIONS,
  NATS_ERR_MAX_SUBSCRIPTIONS,
  NATS_ERR_SLOW_CONSUMER_PENDING,
  NATS_ERR_SLOW_CONSUMER_DEADLINE,
  NATS_ERR_INVALID_SUBJECT,
  NATS_ERR_INVALID_PUBLISH_SUBJECT,
  NATS_ERR_BAD_CLIENT_PROTOCOL,
  NATS_ERR_NO_RESPONDERS_REQUIRES_HEADERS,
  NATS_ERR_CONNECT_PARSE,           /* malformed CONNECT JSON */
  NATS_ERR_CLIENT_SENT_ERR,         /* the client sent us -ERR */
  NATS_ERR_HEADERS_NOT_SUPPORTED,   /* HPUB without "headers":true in CONNECT */
  NATS_ERR_INFO_PARSE,              /* client sent INFO with malformed JSON */
  NATS_ERR_MAX_ACCOUNT_CONNECTIONS,
  NATS_ERR_AUTH_EXPIRED,            /* user credentials expired */
  NATS_ERR_ACCOUNT_AUTH_EXPIRED,
  NATS_ERR_AUTH_REVOKED,
  NATS_ERR_TLS_REQUIRED,
  NATS_ERR_CONNECTION_THROTTLED,    /* tls handshake rate limiting */
  NATS_ERR_FAILED_ACCOUNT_REGISTRATION,
  /* The texts of these five are printf templates: each %s takes a value
   * quoted the way Go's %q does ("foo" with \" and \\ escaped). */
  NATS_ERR_PERMISSIONS_PUBLISH,
  NATS_ERR_PERMISSIONS_REPLY,
  NATS_ERR_PERMISSIONS_SUBSCRIBE,
  NATS_ERR_PERMISSIONS_SUBSCRIBE_QUEUE,
  NATS_ERR_PERMISSIONS_SUBSCRIBE_RELOAD, /* a sub the reloaded permissions refuse */
  NATS_ERR_SUBSCRIBE_TOO_MANY_TOKENS,
  /* Closes without any -ERR; here so that every close has a row. */
  NATS_ERR_CLIENT_CLOSED,           /* EOF from the peer */
  NATS_ERR_READ,
  NATS_ERR_WRITE,
  NATS_ERR_SERVER_SHUTDOWN,
  NATS_ERR__COUNT
} NatsError;

/* Go's ClosedState values (client.go), same numbers and order.  nats-server
 * 2.9.10 ends at ClusterNamesIdentical; later releases add Kicked. */
typedef enum ClosedState {
  CLOSED_NONE = 0,
  CLOSED_CLIENT_CLOSED = 1,
  CLOSED_AUTHENTICATION_TIMEOUT,
  CLOSED_AUTHENTICATION_VIOLATION,
  CLOSED_TLS_HANDSHAKE_ERROR,
  CLOSED_SLOW_CONSUMER_PENDING_BYTES,
  CLOSED_SLOW_CONSUMER_WRITE_DEADLINE,
  CLOSED_WRITE_ERROR,
  CLOSED_READ_ERROR,
  CLOSED_PARSE_ERROR,
  CLOSED_STALE_CONNECTION,
  CLOSED_PROTOCOL_VIOLATION,
  CLOSED_BAD_CLIENT_PROTOCOL_VERSION,
  CLOSED_WRONG_PORT,
  CLOSED_MAX_ACCOUNT_CONNECTIONS_EXCEEDED,
  CLOSED_MAX_CONNECTIONS_EXCEEDED,
  CLOSED_MAX_PAYLOAD_EXCEEDED,
  CLOSED_MAX_CONTROL_LINE_EXCEEDED,
  CLOSED_MAX_SUBSCRIPTIONS_EXCEEDED,
  CLOSED_DUPLICATE_ROUTE,
  CLOSED_ROUTE_REMOVED,
  CLOSED_SERVER_SHUTDOWN,
  CLOSED_AUTHENTICATION_EXPIRED,
  CLOSED_WRONG_GATEWAY,
  CLOSED_MISSING_ACCOUNT,
  CLOSED_REVOCATION,
  CLOSED_INTERNAL_CLIENT,
  CLOSED_MSG_HEADER_VIOLATION,
  CLOSED_NO_RESPONDERS_REQUIRES_HEADERS,
  CLOSED_CLUSTER_NAME_CONFLICT,
  CLOSED_DUPLICATE_REMOTE_LEAFNODE_CONNECTION,
  CLOSED_DUPLICATE_CLIENT_ID,
  CLOSED_DUPLICATE_SERVER_NAME,
  CLOSED_MINIMUM_VERSION_REQUIRED,
  CLOSED_CLUSTER_NAMES_IDENTICAL,
  CLOSED__COUNT
} ClosedState;

/* Exact text nats-server puts inside -ERR '...', or NULL when it sends none.
 * NULL for NATS_OK and out-of-range values. */
const char *errors_text(NatsError e);
/* nats-server closes the connection after this error. */
bool errors_closes(NatsError e);
/* Reason recorded for /connz when the error closes; CLOSED_NONE when it does not. */
ClosedState errors_closed_state(NatsError e);
/* Go's ClosedState.String(), e.g. "Slow Consumer (Pending Bytes)";
 * "Unknown State" for values Go does not know (never NULL). */
const char *errors_closed_state_string(ClosedState s);
/* Short stable identifier of the enum value for logs and tests ("MAX_PAYLOAD"). */
const char *errors_name(NatsError e);
/* Writes s[0..n) quoted the way Go's %q does (strconv.Quote): in double
 * quotes, with \" \\ \a \b \f \n \r \t \v escaped, other control bytes
 * and invalid UTF-8 as \xNN, DEL as \x7f; valid UTF-8 sequences are kept
 * (Go would also escape non-printable code points, which subjects do not
 * contain in practice).  NUL-terminated when cap allows; returns the full
 * length like snprintf. */
size_t errors_quote(const char *s, size_t n, char *buf, size_t cap);
/* Writes "-ERR 'text'\r\n" into buf (NUL-terminated when cap allows) and
 * returns its length.  Like snprintf: a return >= cap means it was cut. */
size_t errors_format_err(const char *text, char *buf, size_t cap);
