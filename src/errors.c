/* errors.c — the one table of client-protocol errors: wire text, close or
 * keep, and the /connz close reason.
 *
 * Pure data plus lookups; any thread may call.  Every row was checked against
 * /usr/sbin/nats-server 2.9.10 by speaking raw protocol to it and reading
 * /connz?state=closed, and against client.go / parser.go.  Where nats-server
 * sends no -ERR at all the text is NULL (it only logs). */
#include "errors.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

typedef struct ErrorRow {
  const char *name;
  const char *text;     /* NULL: no -ERR on the wire */
  bool closes;
  ClosedState closed;   /* CLOSED_NONE when the connection stays open */
} ErrorRow;

static const ErrorRow error_rows[NATS_ERR__COUNT] = {
  [NATS_OK] = {"OK", NULL, false, CLOSED_NONE},
  /* reason is Protocol Violation, not Parse Error: readLoop closes on the returned error */
  [NATS_ERR_UNKNOWN_PROTOCOL] = {"UNKNOWN_PROTOCOL", "Unknown Protocol Operation", true,
                                 CLOSED_PROTOCOL_VIOLATION},
  /* Go builds the error with context, but only the base error's text reaches the
   * wire (the context goes to the log), lower-case as in errors.go */
  [NATS_ERR_MAX_CONTROL_LINE] = {"MAX_CONTROL_LINE", "maximum control line exceeded", true,
                                 CLOSED_MAX_CONTROL_LINE_EXCEEDED},
  /* sent and closed before any payload byte is read */
  [NATS_ERR_MAX_PAYLOAD] = {"MAX_PAYLOAD", "Maximum Payload Violation", true,
                            CLOSED_MAX_PAYLOAD_EXCEEDED},
  /* nats-server closes without -ERR: "processPub Parse Error" etc. only reach the log */
  [NATS_ERR_PARSE] = {"PARSE", NULL, true, CLOSED_PROTOCOL_VIOLATION},
  [NATS_ERR_AUTH_VIOLATION] = {"AUTH_VIOLATION", "Authorization Violation", true,
                               CLOSED_AUTHENTICATION_VIOLATION},
  [NATS_ERR_AUTH_TIMEOUT] = {"AUTH_TIMEOUT", "Authentication Timeout", true,
                             CLOSED_AUTHENTICATION_TIMEOUT},
  [NATS_ERR_STALE_CONNECTION] = {"STALE_CONNECTION", "Stale Connection", true,
                                 CLOSED_STALE_CONNECTION},
  [NATS_ERR_MAX_CONNECTIONS] = {"MAX_CONNECTIONS", "maximum connections exceeded", true,
                                CLOSED_MAX_CONNECTIONS_EXCEEDED},
  /* the SUB is refused but the connection stays open (it closes only when an
   * account limit lowered below the current count at connect time) */
  [NATS_ERR_MAX_SUBSCRIPTIONS] = {"MAX_SUBSCRIPTIONS", "maximum subscriptions exceeded", false,
                                  CLOSED_NONE},
  /* slow consumers are cut off silently: the socket is already backed up */
  [NATS_ERR_SLOW_CONSUMER_PENDING] = {"SLOW_CONSUMER_PENDING", NULL, true,
                                      CLOSED_SLOW_CONSUMER_PENDING_BYTES},
  [NATS_ERR_SLOW_CONSUMER_DEADLINE] = {"SLOW_CONSUMER_DEADLINE", NULL, true,
                                       CLOSED_SLOW_CONSUMER_WRITE_DEADLINE},
  /* SUB to a malformed subject: -ERR, subscription dropped, connection kept */
  [NATS_ERR_INVALID_SUBJECT] = {"INVALID_SUBJECT", "Invalid Subject", false, CLOSED_NONE},
  /* pedantic clients only; the message is still processed after the -ERR */
  [NATS_ERR_INVALID_PUBLISH_SUBJECT] = {"INVALID_PUBLISH_SUBJECT", "Invalid Publish Subject",
                                        false, CLOSED_NONE},
  [NATS_ERR_BAD_CLIENT_PROTOCOL] = {"BAD_CLIENT_PROTOCOL", "invalid client protocol", true,
                                    CLOSED_BAD_CLIENT_PROTOCOL_VERSION},
  [NATS_ERR_NO_RESPONDERS_REQUIRES_HEADERS] = {"NO_RESPONDERS_REQUIRES_HEADERS",
                                               "no responders requires headers support", true,
                                               CLOSED_NO_RESPONDERS_REQUIRES_HEADERS},
  /* bad JSON: closed with nothing sent, not even when auth is required */
  [NATS_ERR_CONNECT_PARSE] = {"CONNECT_PARSE", NULL, true, CLOSED_PROTOCOL_VIOLATION},
  /* a client's -ERR is logged and the connection closed as Parse Error, no reply */
  [NATS_ERR_CLIENT_SENT_ERR] = {"CLIENT_SENT_ERR", NULL, true, CLOSED_PARSE_ERROR},
  /* HPUB before CONNECT {"headers":true}: closed silently, checked before max payload */
  [NATS_ERR_HEADERS_NOT_SUPPORTED] = {"HEADERS_NOT_SUPPORTED", NULL, true,
                                      CLOSED_PROTOCOL_VIOLATION},
  /* INFO from a client is ignored when it is valid JSON, closes silently otherwise */
  [NATS_ERR_INFO_PARSE] = {"INFO_PARSE", NULL, true, CLOSED_PROTOCOL_VIOLATION},
  [NATS_ERR_MAX_ACCOUNT_CONNECTIONS] = {"MAX_ACCOUNT_CONNECTIONS",
                                        "maximum account active connections exceeded", true,
                                        CLOSED_MAX_ACCOUNT_CONNECTIONS_EXCEEDED},
  [NATS_ERR_AUTH_EXPIRED] = {"AUTH_EXPIRED", "User Authentication Expired", true,
                             CLOSED_AUTHENTICATION_EXPIRED},
  [NATS_ERR_ACCOUNT_AUTH_EXPIRED] = {"ACCOUNT_AUTH_EXPIRED", "Account Authentication Expired",
                                     true, CLOSED_AUTHENTICATION_EXPIRED},
  [NATS_ERR_AUTH_REVOKED] = {"AUTH_REVOKED", "User Authentication Revoked", true,
                             CLOSED_REVOCATION},
  [NATS_ERR_TLS_REQUIRED] = {"TLS_REQUIRED", "Secure Connection - TLS Required", true,
                             CLOSED_TLS_HANDSHAKE_ERROR},
  [NATS_ERR_CONNECTION_THROTTLED] = {"CONNECTION_THROTTLED",
                                     "Connection throttling is active. Please try again later.",
                                     true, CLOSED_MAX_CONNECTIONS_EXCEEDED},
  /* sent, logged, and the connection is left open */
  [NATS_ERR_FAILED_ACCOUNT_REGISTRATION] = {"FAILED_ACCOUNT_REGISTRATION",
                                            "Failed Account Registration", false, CLOSED_NONE},
  /* permission errors never close: the op is refused, the client carries on */
  [NATS_ERR_PERMISSIONS_PUBLISH] = {"PERMISSIONS_PUBLISH", "Permissions Violation for Publish to %s",
                                    false, CLOSED_NONE},
  [NATS_ERR_PERMISSIONS_REPLY] = {"PERMISSIONS_REPLY",
                                  "Permissions Violation for Publish with Reply of %s", false,
                                  CLOSED_NONE},
  [NATS_ERR_PERMISSIONS_SUBSCRIBE] = {"PERMISSIONS_SUBSCRIBE",
                                      "Permissions Violation for Subscription to %s", false,
                                      CLOSED_NONE},
  [NATS_ERR_PERMISSIONS_SUBSCRIBE_QUEUE] = {"PERMISSIONS_SUBSCRIBE_QUEUE",
                                            "Permissions Violation for Subscription to %s using queue %s",
                                            false, CLOSED_NONE},
  [NATS_ERR_PERMISSIONS_SUBSCRIBE_RELOAD] = {"PERMISSIONS_SUBSCRIBE_RELOAD",
                                             "Permissions Violation for Subscription to %s (sid %s)", false,
                                             CLOSED_NONE},
  [NATS_ERR_SUBSCRIBE_TOO_MANY_TOKENS] = {"SUBSCRIBE_TOO_MANY_TOKENS",
                                          "Permissions Violation for Subscription to %s, too many tokens",
                                          false, CLOSED_NONE},
  [NATS_ERR_CLIENT_CLOSED] = {"CLIENT_CLOSED", NULL, true, CLOSED_CLIENT_CLOSED},
  [NATS_ERR_READ] = {"READ", NULL, true, CLOSED_READ_ERROR},
  [NATS_ERR_WRITE] = {"WRITE", NULL, true, CLOSED_WRITE_ERROR},
  [NATS_ERR_SERVER_SHUTDOWN] = {"SERVER_SHUTDOWN", NULL, true, CLOSED_SERVER_SHUTDOWN},
};

static const char *const closed_state_strings[CLOSED__COUNT] = {
  [CLOSED_CLIENT_CLOSED] = "Client Closed",
  [CLOSED_AUTHENTICATION_TIMEOUT] = "Authentication Timeout",
  /* not "Violation": Go's String() says Failure */
  [CLOSED_AUTHENTICATION_VIOLATION] = "Authentication Failure",
  [CLOSED_TLS_HANDSHAKE_ERROR] = "TLS Handshake Failure",
  [CLOSED_SLOW_CONSUMER_PENDING_BYTES] = "Slow Consumer (Pending Bytes)",
  [CLOSED_SLOW_CONSUMER_WRITE_DEADLINE] = "Slow Consumer (Write Deadline)",
  [CLOSED_WRITE_ERROR] = "Write Error",
  [CLOSED_READ_ERROR] = "Read Error",
  [CLOSED_PARSE_ERROR] = "Parse Error",
  [CLOSED_STALE_CONNECTION] = "Stale Connection",
  [CLOSED_PROTOCOL_VIOLATION] = "Protocol Violation",
  [CLOSED_BAD_CLIENT_PROTOCOL_VERSION] = "Bad Client Protocol Version",
  [CLOSED_WRONG_PORT] = "Incorrect Port",
  [CLOSED_MAX_ACCOUNT_CONNECTIONS_EXCEEDED] = "Maximum Account Connections Exceeded",
  [CLOSED_MAX_CONNECTIONS_EXCEEDED] = "Maximum Connections Exceeded",
  [CLOSED_MAX_PAYLOAD_EXCEEDED] = "Maximum Message Payload Exceeded",
  [CLOSED_MAX_CONTROL_LINE_EXCEEDED] = "Maximum Control Line Exceeded",
  [CLOSED_MAX_SUBSCRIPTIONS_EXCEEDED] = "Maximum Subscriptions Exceeded",
  [CLOSED_DUPLICATE_ROUTE] = "Duplicate Route",
  [CLOSED_ROUTE_REMOVED] = "Route Removed",
  [CLOSED_SERVER_SHUTDOWN] = "Server Shutdown",
  [CLOSED_AUTHENTICATION_EXPIRED] = "Authentication Expired",
  [CLOSED_WRONG_GATEWAY] = "Wrong Gateway",
  [CLOSED_MISSING_ACCOUNT] = "Missing Account",
  [CLOSED_REVOCATION] = "Credentials Revoked",
  [CLOSED_INTERNAL_CLIENT] = "Internal Client",
  [CLOSED_MSG_HEADER_VIOLATION] = "Message Header Violation",
  [CLOSED_NO_RESPONDERS_REQUIRES_HEADERS] = "No Responders Requires Headers",
  [CLOSED_CLUSTER_NAME_CONFLICT] = "Cluster Name Conflict",
  [CLOSED_DUPLICATE_REMOTE_LEAFNODE_CONNECTION] = "Duplicate Remote LeafNode Connection",
  [CLOSED_DUPLICATE_CLIENT_ID] = "Duplicate Client ID",
  [CLOSED_DUPLICATE_SERVER_NAME] = "Duplicate Server Name",
  [CLOSED_MINIMUM_VERSION_REQUIRED] = "Minimum Version Required",
  [CLOSED_CLUSTER_NAMES_IDENTICAL] = "Cluster Names Identical",
};

static const ErrorRow *errors_row(NatsError e) {
  if ((int)e < 0 || e >= NATS_ERR__COUNT)
    return NULL;
  return &error_rows[e];
}

const char *errors_text(NatsError e) {
  const ErrorRow *row = errors_row(e);
  return row ? row->text : NULL;
}

bool errors_closes(NatsError e) {
  const ErrorRow *row = errors_row(e);
  /* unknown values close: never keep a connection in a state we do not know */
  return row ? row->closes : true;
}

ClosedState errors_closed_state(NatsError e) {
  const ErrorRow *row = errors_row(e);
  return row ? row->closed : CLOSED_PROTOCOL_VIOLATION;
}

const char *errors_closed_state_string(ClosedState s) {
  if ((int)s <= 0 || s >= CLOSED__COUNT || !closed_state_strings[s])
    return "Unknown State";
  return closed_state_strings[s];
}

const char *errors_name(NatsError e) {
  const ErrorRow *row = errors_row(e);
  return row ? row->name : "INVALID";
}

size_t errors_format_err(const char *text, char *buf, size_t cap) {
  int n = snprintf(buf, cap, "-ERR '%s'\r\n", text ? text : "");
  return n < 0 ? 0 : (size_t)n;
}

/* Appends to buf while room remains; counts every byte either way. */
static void errors_put(char *buf, size_t cap, size_t *pos, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++, (*pos)++)
    if (*pos + 1 < cap)
      buf[*pos] = s[i];
}

size_t errors_quote(const char *s, size_t n, char *buf, size_t cap) {
  size_t pos = 0;
  errors_put(buf, cap, &pos, "\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\a': esc = "\\a"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    case '\v': esc = "\\v"; break;
    default: break;
    }
    if (esc) {
      errors_put(buf, cap, &pos, esc, 2);
      i++;
    } else if (c >= 0x20 && c < 0x7f) {
      errors_put(buf, cap, &pos, s + i, 1);
      i++;
    } else if (c >= 0x80) {
      /* keep one valid UTF-8 sequence whole, else escape the byte */
      const char *end = NULL;
      size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (i + len <= n && g_utf8_validate(s + i, (gssize)len, &end)) {
        errors_put(buf, cap, &pos, s + i, len);
        i += len;
      } else {
        char hex[5];
        snprintf(hex, sizeof hex, "\\x%02x", c);
        errors_put(buf, cap, &pos, hex, 4);
        i++;
      }
    } else {
      char hex[5];
      snprintf(hex, sizeof hex, "\\x%02x", c);
      errors_put(buf, cap, &pos, hex, 4);
      i++;
    }
  }
  errors_put(buf, cap, &pos, "\"", 1);
  if (cap)
    buf[pos < cap ? pos : cap - 1] = '\0';
  return pos;
}
