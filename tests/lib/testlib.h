/* testlib.h — helpers shared by every black-box test (parity, interop, unit).
 *
 * test_server: run a server binary (cnatsd or /usr/sbin/nats-server) on a free port and
 *              control it (signals, exit status, log).
 * test_wire:   a raw blocking TCP client with read timeouts, for wire-level send/expect.
 * test_json:   canonical "shape" of a JSON document (sorted keys, masked volatile values).
 *
 * All functions run on the calling (test) thread; nothing here is thread-safe. */
#pragma once

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- test_server ------------------------------------------------------------------- */

typedef struct _TestServer TestServer;

/* Starts `exe` with `args` (NULL-terminated, not including argv[0]). stdout+stderr go to
 * `<tmpdir>/<tag>.log`. If `ports_file_dir` is non-NULL the server is expected to write its
 * ports file there (the caller must have passed --ports_file_dir itself) and this waits up to
 * `timeout_ms` for it and reads the client port. On failure returns NULL, sets `error`, and
 * the error message includes the server log. */
TestServer *test_server_start(const char *exe, const char *const *args, const char *tmpdir,
                              const char *ports_file_dir, int timeout_ms, GError **error);
/* Same, with RLIMIT_NOFILE (soft and hard) set to `nofile` in the child when > 0. */
TestServer *test_server_start_limited(const char *exe, const char *const *args, const char *tmpdir,
                                      const char *ports_file_dir, int timeout_ms, int nofile,
                                      GError **error);
int test_server_port(TestServer *srv);            /* client port from the ports file, or 0 */
GPid test_server_pid(TestServer *srv);            /* 0 once the process has been reaped */
const char *test_server_ports_file(TestServer *srv); /* path of the ports file (borrowed) */
const char *test_server_log_path(TestServer *srv);   /* (borrowed) */
char *test_server_log(TestServer *srv);           /* (transfer full) whole log so far */
gboolean test_server_signal(TestServer *srv, int signum);
/* Waits for exit. Returns FALSE on timeout. *status = exit code, or 128+signal if killed. */
gboolean test_server_wait_exit(TestServer *srv, int timeout_ms, int *status);
gboolean test_server_exited(TestServer *srv);
/* SIGTERM, then SIGKILL after timeout_ms. Returns the exit status as above. */
int test_server_stop(TestServer *srv, int timeout_ms);
void test_server_free(TestServer *srv);           /* stops (SIGKILL) if still running */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestServer, test_server_free)

/* Reads `{"nats":["nats://host:PORT"],...}` (key "client" also accepted). 0 if not parsable. */
int test_server_parse_ports_file(const char *contents);
/* Port of another listener from the ports file: key "monitoring", "profile", ... 0 if absent. */
int test_server_port_of(TestServer *srv, const char *key);
/* A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
int test_server_free_port(void);

/* ---- test_wire --------------------------------------------------------------------- */

typedef struct _TestWire TestWire;

typedef enum {
  TEST_WIRE_OK,
  TEST_WIRE_TIMEOUT,
  TEST_WIRE_CLOSED,   /* orderly EOF or reset by peer */
  TEST_WIRE_ERROR,
} TestWireStatus;

const char *test_wire_status_str(TestWireStatus st);
TestWire *test_wire_connect(const char *host, int port, int timeout_ms, GError **error);
gboolean test_wire_send(TestWire *w, const void *buf, gsize len, GError **error);
/* Upgrades w to TLS (client side, SNI and verification name "localhost"): verifies the
 * server against ca_file when given, presents cert_file/key_file when given. Data already
 * buffered stays in front of what TLS delivers. */
gboolean test_wire_start_tls(TestWire *w, const char *ca_file, const char *cert_file,
                             const char *key_file, int timeout_ms, GError **error);
/* Reads one CRLF-terminated line; *line (transfer full, NUL-terminated, may contain NULs)
 * excludes the CRLF, *len (if non-NULL) is its length. A line that ends in a bare LF is
 * returned with *bare_lf set (if non-NULL). */
TestWireStatus test_wire_read_line(TestWire *w, int timeout_ms, char **line, gsize *len,
                                   gboolean *bare_lf);
/* Reads exactly n bytes (transfer full). */
TestWireStatus test_wire_read_n(TestWire *w, gsize n, int timeout_ms, char **out);
/* Waits `ms`; returns OK if nothing arrived, else the data/close that did (data is not
 * consumed). */
TestWireStatus test_wire_expect_nothing(TestWire *w, int ms, GString *seen);
/* Waits until the peer closes; returns OK on close, TIMEOUT, or ERROR if data arrived first
 * (the data is appended to `seen`). */
TestWireStatus test_wire_expect_close(TestWire *w, int timeout_ms, GString *seen);
gsize test_wire_buffered(TestWire *w);
/* Drops complete leading "<line>\r\n" occurrences from what is buffered; returns how many. */
guint test_wire_drop_lines(TestWire *w, const char *line);
/* Closes with SO_LINGER 0 so the peer sees a TCP reset (then frees). */
void test_wire_reset(TestWire *w);
void test_wire_free(TestWire *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestWire, test_wire_free)

/* ---- test_http --------------------------------------------------------------------- */

/* GET http://127.0.0.1:port/path (HTTP/1.0). *headers and *body are (transfer full). */
/* The same over TLS (https) when ca_file is given. */
gboolean test_http_get_tls(int port, const char *path, const char *ca_file, int timeout_ms,
                           int *status, char **headers, char **body, GError **error);
gboolean test_http_get(int port, const char *path, int timeout_ms, int *status, char **headers,
                       char **body, GError **error);

/* ---- test_json --------------------------------------------------------------------- */

/* Canonical text of `json`: object keys sorted recursively; the value of any key listed in
 * `masked` (NULL-terminated, may be NULL) is replaced by "<string>", "<number>", "<bool>",
 * "<array>", "<object>" or "<null>" so only its type is compared. NULL + error if not JSON. */
char *test_json_shape(const char *json, const char *const *masked, GError **error);
/* TRUE if both documents have the same shape (see above). On FALSE, *diff (if non-NULL) gets
 * both canonical texts. */
gboolean test_json_same_shape(const char *a, const char *b, const char *const *masked,
                              char **diff);
/* TRUE if every key of object `subset` exists in object `json` with an equal value
 * (recursively for objects; arrays need the same length and contain element-wise). */
gboolean test_json_contains(const char *json, const char *subset, char **why);

G_END_DECLS
