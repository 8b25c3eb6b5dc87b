/* test_http.c — minimal HTTP/1.0 GET for monitoring endpoints in black-box tests.
 *
 * Runs on the test thread over a TestWire connection: sends one GET with Connection: close,
 * reads until the server closes, splits status, headers and body. No chunked encoding: both
 * servers answer an HTTP/1.0 request with a plain body. */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

gboolean
test_http_get(int port, const char *path, int timeout_ms, int *status, char **headers,
              char **body, GError **error)
{
  return test_http_get_tls(port, path, NULL, timeout_ms, status, headers, body, error);
}

gboolean
test_http_get_tls(int port, const char *path, const char *ca_file, int timeout_ms, int *status,
                  char **headers, char **body, GError **error)
{
  g_autoptr(TestWire) w = test_wire_connect("127.0.0.1", port, timeout_ms, error);
  if (!w)
    return FALSE;
  if (ca_file && !test_wire_start_tls(w, ca_file, NULL, NULL, timeout_ms, error))
    return FALSE;
  g_autofree char *req =
      g_strdup_printf("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path, port);
  if (!test_wire_send(w, req, strlen(req), error))
    return FALSE;
  g_autoptr(GString) all = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    char *chunk = NULL;
    gsize n = test_wire_buffered(w);
    TestWireStatus st = test_wire_read_n(w, n ? n : 1, 50, &chunk);
    if (st == TEST_WIRE_OK)
      g_string_append_len(all, chunk, (gssize)(n ? n : 1));
    g_free(chunk);
    if (st == TEST_WIRE_CLOSED && test_wire_buffered(w) == 0)
      break;
    if (st == TEST_WIRE_ERROR || g_get_monotonic_time() >= deadline) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "GET %s: no complete response", path);
      return FALSE;
    }
  }
  const char *sep = strstr(all->str, "\r\n\r\n");
  int code = 0;
  if (!sep || sscanf(all->str, "HTTP/%*d.%*d %d", &code) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "GET %s: bad response '%.200s'",
                path, all->str);
    return FALSE;
  }
  *status = code;
  if (headers)
    *headers = g_strndup(all->str, (gsize)(sep - all->str));
  if (body)
    *body = g_strdup(sep + 4);
  return TRUE;
}
