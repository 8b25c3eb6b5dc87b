/* errors_test.c — the error table: every row complete and consistent, and
 * the texts/close reasons that were verified against nats-server 2.9.10. */
#include <glib.h>
#include <string.h>

#include "errors.h"

static void test_every_row(void) {
  g_assert_cmpint(NATS_OK, ==, 0);
  for (int e = 0; e < NATS_ERR__COUNT; e++) {
    const char *name = errors_name((NatsError)e);
    g_assert_nonnull(name);
    g_assert_cmpstr(name, !=, "INVALID");
    const char *text = errors_text((NatsError)e);
    if (text) {
      g_assert_cmpuint(strlen(text), >, 0);
      /* a quote or line end inside would break the -ERR '...' framing */
      g_assert_null(strchr(text, '\''));
      g_assert_null(strpbrk(text, "\r\n"));
    }
    ClosedState cs = errors_closed_state((NatsError)e);
    if (errors_closes((NatsError)e)) {
      g_assert_cmpint(cs, >, CLOSED_NONE);
      g_assert_cmpint(cs, <, CLOSED__COUNT);
      g_assert_cmpstr(errors_closed_state_string(cs), !=, "Unknown State");
    } else {
      g_assert_cmpint(cs, ==, CLOSED_NONE);
    }
  }
  g_assert_false(errors_closes(NATS_OK));
  g_assert_null(errors_text(NATS_OK));
  /* out of range: no text, treated as closing */
  g_assert_null(errors_text(NATS_ERR__COUNT));
  g_assert_true(errors_closes((NatsError)-1));
  g_assert_cmpstr(errors_name(NATS_ERR__COUNT), ==, "INVALID");
}

static void test_closed_states(void) {
  for (int s = 1; s < CLOSED__COUNT; s++) {
    const char *str = errors_closed_state_string((ClosedState)s);
    g_assert_nonnull(str);
    g_assert_cmpstr(str, !=, "Unknown State");
  }
  g_assert_cmpstr(errors_closed_state_string(CLOSED_NONE), ==, "Unknown State");
  g_assert_cmpstr(errors_closed_state_string(CLOSED__COUNT), ==, "Unknown State");
  /* Go's numbering, which /connz does not expose but monitoring code may rely on */
  g_assert_cmpint(CLOSED_CLIENT_CLOSED, ==, 1);
  g_assert_cmpint(CLOSED_PROTOCOL_VIOLATION, ==, 11);
  g_assert_cmpint(CLOSED_MAX_ACCOUNT_CONNECTIONS_EXCEEDED, ==, 14);
  g_assert_cmpint(CLOSED_MAX_CONTROL_LINE_EXCEEDED, ==, 17);
  g_assert_cmpint(CLOSED_CLUSTER_NAMES_IDENTICAL, ==, 34);
  g_assert_cmpstr(errors_closed_state_string(CLOSED_AUTHENTICATION_VIOLATION), ==, "Authentication Failure");
  g_assert_cmpstr(errors_closed_state_string(CLOSED_SLOW_CONSUMER_PENDING_BYTES), ==,
                  "Slow Consumer (Pending Bytes)");
  g_assert_cmpstr(errors_closed_state_string(CLOSED_MAX_PAYLOAD_EXCEEDED), ==,
                  "Maximum Message Payload Exceeded");
  g_assert_cmpstr(errors_closed_state_string(CLOSED_WRONG_PORT), ==, "Incorrect Port");
  g_assert_cmpstr(errors_closed_state_string(CLOSED_REVOCATION), ==, "Credentials Revoked");
}

/* Rows checked by speaking raw protocol to /usr/sbin/nats-server and reading
 * /connz?state=closed: (error, -ERR text or NULL, closes, reason). */
static void test_verified_rows(void) {
  static const struct {
    NatsError e;
    const char *text;
    bool closes;
    const char *reason;
  } rows[] = {
    {NATS_ERR_UNKNOWN_PROTOCOL, "Unknown Protocol Operation", true, "Protocol Violation"},
    {NATS_ERR_MAX_CONTROL_LINE, "maximum control line exceeded", true, "Maximum Control Line Exceeded"},
    {NATS_ERR_MAX_PAYLOAD, "Maximum Payload Violation", true, "Maximum Message Payload Exceeded"},
    {NATS_ERR_PARSE, NULL, true, "Protocol Violation"},
    {NATS_ERR_AUTH_VIOLATION, "Authorization Violation", true, "Authentication Failure"},
    {NATS_ERR_CONNECT_PARSE, NULL, true, "Protocol Violation"},
    {NATS_ERR_CLIENT_SENT_ERR, NULL, true, "Parse Error"},
    {NATS_ERR_HEADERS_NOT_SUPPORTED, NULL, true, "Protocol Violation"},
    {NATS_ERR_INFO_PARSE, NULL, true, "Protocol Violation"},
    {NATS_ERR_BAD_CLIENT_PROTOCOL, "invalid client protocol", true, "Bad Client Protocol Version"},
    {NATS_ERR_NO_RESPONDERS_REQUIRES_HEADERS, "no responders requires headers support", true,
     "No Responders Requires Headers"},
    {NATS_ERR_AUTH_TIMEOUT, "Authentication Timeout", true, "Authentication Timeout"},
    {NATS_ERR_STALE_CONNECTION, "Stale Connection", true, "Stale Connection"},
    {NATS_ERR_SLOW_CONSUMER_PENDING, NULL, true, "Slow Consumer (Pending Bytes)"},
    {NATS_ERR_SLOW_CONSUMER_DEADLINE, NULL, true, "Slow Consumer (Write Deadline)"},
    {NATS_ERR_MAX_CONNECTIONS, "maximum connections exceeded", true, "Maximum Connections Exceeded"},
    {NATS_ERR_MAX_SUBSCRIPTIONS, "maximum subscriptions exceeded", false, NULL},
    {NATS_ERR_INVALID_SUBJECT, "Invalid Subject", false, NULL},
    {NATS_ERR_INVALID_PUBLISH_SUBJECT, "Invalid Publish Subject", false, NULL},
    {NATS_ERR_PERMISSIONS_PUBLISH, "Permissions Violation for Publish to %s", false, NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_test_message("row %s", errors_name(rows[i].e));
    g_assert_cmpstr(errors_text(rows[i].e), ==, rows[i].text);
    g_assert_cmpint(errors_closes(rows[i].e), ==, rows[i].closes);
    if (rows[i].reason)
      g_assert_cmpstr(errors_closed_state_string(errors_closed_state(rows[i].e)), ==, rows[i].reason);
  }
}

static void test_format(void) {
  char buf[64];
  size_t n = errors_format_err(errors_text(NATS_ERR_MAX_PAYLOAD), buf, sizeof buf);
  g_assert_cmpstr(buf, ==, "-ERR 'Maximum Payload Violation'\r\n");
  g_assert_cmpuint(n, ==, strlen(buf));
  /* too small: cut and NUL-terminated, return says how much was needed */
  char small[8];
  n = errors_format_err("Stale Connection", small, sizeof small);
  g_assert_cmpuint(n, ==, strlen("-ERR 'Stale Connection'\r\n"));
  g_assert_cmpstr(small, ==, "-ERR 'S");
}

static void check_quote(const char *in, size_t n, const char *want) {
  char buf[128];
  size_t len = errors_quote(in, n, buf, sizeof buf);
  g_assert_cmpstr(buf, ==, want);
  g_assert_cmpuint(len, ==, strlen(want));
}

static void test_quote(void) {
  /* expected strings are Go's fmt.Sprintf("%q", ...) output */
  check_quote("foo.bar", 7, "\"foo.bar\"");
  check_quote("", 0, "\"\"");
  check_quote("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
  check_quote("\r\n\t\x01\x7f", 5, "\"\\r\\n\\t\\x01\\x7f\"");
  check_quote("a\0b", 3, "\"a\\x00b\"");
  check_quote("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");   /* valid UTF-8 kept */
  check_quote("\xff\xc3", 2, "\"\\xff\\xc3\"");       /* invalid bytes escaped */
  /* cut short: still NUL-terminated, full length returned */
  char small[4];
  g_assert_cmpuint(errors_quote("abcdef", 6, small, sizeof small), ==, 8);
  g_assert_cmpstr(small, ==, "\"ab");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/errors/every-row", test_every_row);
  g_test_add_func("/errors/closed-states", test_closed_states);
  g_test_add_func("/errors/verified-rows", test_verified_rows);
  g_test_add_func("/errors/format", test_format);
  g_test_add_func("/errors/quote", test_quote);
  return g_test_run();
}
