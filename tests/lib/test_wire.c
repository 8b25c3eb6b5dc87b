/* test_wire.c — raw TCP client for wire-level tests.
 *
 * Owns one socket and a receive buffer. Runs on the test thread. Every read takes a timeout
 * (poll), so a server that goes silent fails the test instead of hanging it. Reads never
 * discard data: what a call does not consume stays buffered for the next call. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct _TestWire {
  int fd;
  GByteArray *buf;   /* owned: received, not yet consumed */
  gboolean eof;      /* peer closed (or reset) */
  gboolean err;
  gnutls_session_t tls;                       /* owned; NULL = plain */
  gnutls_certificate_credentials_t tls_creds; /* owned */
};

const char *
test_wire_status_str(TestWireStatus st)
{
  switch (st) {
  case TEST_WIRE_OK: return "ok";
  case TEST_WIRE_TIMEOUT: return "timeout";
  case TEST_WIRE_CLOSED: return "connection closed";
  case TEST_WIRE_ERROR: return "error";
  }
  return "?";
}

gboolean
test_wire_start_tls(TestWire *w, const char *ca_file, const char *cert_file, const char *key_file,
                    int timeout_ms, GError **error)
{
  int rc = gnutls_certificate_allocate_credentials(&w->tls_creds);
  if (rc >= 0 && ca_file)
    rc = gnutls_certificate_set_x509_trust_file(w->tls_creds, ca_file, GNUTLS_X509_FMT_PEM);
  if (rc >= 0 && cert_file)
    rc = gnutls_certificate_set_x509_key_file(w->tls_creds, cert_file, key_file, GNUTLS_X509_FMT_PEM);
  if (rc >= 0)
    rc = gnutls_init(&w->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
  if (rc >= 0)
    rc = gnutls_set_default_priority(w->tls);
  if (rc >= 0)
    rc = gnutls_credentials_set(w->tls, GNUTLS_CRD_CERTIFICATE, w->tls_creds);
  if (rc < 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "tls setup: %s", gnutls_strerror(rc));
    return FALSE;
  }
  gnutls_server_name_set(w->tls, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
  if (ca_file)
    gnutls_session_set_verify_cert(w->tls, "localhost", 0);
  gnutls_transport_set_int(w->tls, w->fd);
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    rc = gnutls_handshake(w->tls);
    if (rc == GNUTLS_E_SUCCESS)
      return TRUE;
    if (rc != GNUTLS_E_AGAIN && rc != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(rc)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "tls handshake: %s", gnutls_strerror(rc));
      return FALSE;
    }
    int left = (int)((deadline - g_get_monotonic_time()) / 1000);
    if (left <= 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "tls handshake: timeout");
      return FALSE;
    }
    struct pollfd p = {.fd = w->fd, .events = gnutls_record_get_direction(w->tls) ? POLLOUT : POLLIN};
    poll(&p, 1, left);
  }
}

TestWire *
test_wire_connect(const char *host, int port, int timeout_ms, GError **error)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad IPv4 address %s", host);
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket: %s", g_strerror(errno));
    return NULL;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    if (errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "connect %s:%d: %s", host, port,
                  g_strerror(e));
      return NULL;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
        soerr != 0) {
      close(fd);
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "connect %s:%d: %s", host, port,
                  soerr ? g_strerror(soerr) : "timeout");
      return NULL;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  TestWire *w = g_new0(TestWire, 1);
  w->fd = fd;
  w->buf = g_byte_array_new();
  return w;
}

gboolean
test_wire_send(TestWire *w, const void *buf, gsize len, GError **error)
{
  const guint8 *p = buf;
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (len > 0) {
    ssize_t n;
    if (w->tls) {
      n = gnutls_record_send(w->tls, p, len);
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
        struct pollfd pf = {.fd = w->fd, .events = POLLOUT};
        if (g_get_monotonic_time() > deadline) {
          g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "send blocked for 10 s");
          return FALSE;
        }
        poll(&pf, 1, 100);
        /* GnuTLS wants the same call repeated */
        continue;
      }
      if (n < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "tls send: %s", gnutls_strerror((int)n));
        return FALSE;
      }
    } else {
      n = send(w->fd, p, len, MSG_NOSIGNAL);
    }
    if (n > 0) {
      p += n;
      len -= (gsize)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* The server is not reading: keep draining our side so it can write to us. */
      struct pollfd pf = {.fd = w->fd, .events = POLLOUT | POLLIN};
      if (g_get_monotonic_time() > deadline) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "send blocked for 10 s");
        return FALSE;
      }
      if (poll(&pf, 1, 100) > 0 && (pf.revents & POLLIN)) {
        guint8 tmp[65536];
        ssize_t r = recv(w->fd, tmp, sizeof tmp, 0);
        if (r > 0)
          g_byte_array_append(w->buf, tmp, (guint)r);
      }
      continue;
    }
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "send: %s", g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

/* Pulls whatever is available within timeout_ms into the buffer. */
static TestWireStatus
fill(TestWire *w, int timeout_ms)
{
  if (w->eof)
    return TEST_WIRE_CLOSED;
  if (w->err)
    return TEST_WIRE_ERROR;
  struct pollfd p = {.fd = w->fd, .events = POLLIN};
  int r;
  if (w->tls && gnutls_record_check_pending(w->tls) > 0)
    r = 1;
  else
    do
      r = poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
    while (r < 0 && errno == EINTR);
  if (r == 0)
    return TEST_WIRE_TIMEOUT;
  if (r < 0) {
    w->err = TRUE;
    return TEST_WIRE_ERROR;
  }
  guint8 tmp[65536];
  for (;;) {
    ssize_t n;
    if (w->tls) {
      n = gnutls_record_recv(w->tls, tmp, sizeof tmp);
      if (n > 0) {
        g_byte_array_append(w->buf, tmp, (guint)n);
        continue; /* one record per call: read until AGAIN */
      }
      if (n == GNUTLS_E_AGAIN)
        return TEST_WIRE_OK;
      if (n == GNUTLS_E_INTERRUPTED)
        continue;
      w->eof = TRUE; /* close_notify, TCP close, or a fatal alert */
      return TEST_WIRE_CLOSED;
    }
    n = recv(w->fd, tmp, sizeof tmp, 0);
    if (n > 0) {
      g_byte_array_append(w->buf, tmp, (guint)n);
      if ((gsize)n < sizeof tmp)
        return TEST_WIRE_OK;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return TEST_WIRE_OK;
    w->eof = TRUE; /* 0 = FIN; ECONNRESET etc. count as closed too */
    return TEST_WIRE_CLOSED;
  }
}

static int
remaining_ms(gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time()) / 1000;
  return left < 0 ? 0 : (int)left;
}

TestWireStatus
test_wire_read_line(TestWire *w, int timeout_ms, char **line, gsize *len_out, gboolean *bare_lf)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  gsize scanned = 0;
  *line = NULL;
  for (;;) {
    guint8 *nl = w->buf->len > scanned ? memchr(w->buf->data + scanned, '\n', w->buf->len - scanned) : NULL;
    if (nl) {
      gsize end = (gsize)(nl - w->buf->data);
      gboolean crlf = end > 0 && w->buf->data[end - 1] == '\r';
      gsize len = crlf ? end - 1 : end;
      char *l = g_malloc(len + 1);
      memcpy(l, w->buf->data, len);
      l[len] = '\0';
      *line = l;
      if (len_out)
        *len_out = len;
      if (bare_lf)
        *bare_lf = !crlf;
      g_byte_array_remove_range(w->buf, 0, (guint)(end + 1));
      return TEST_WIRE_OK;
    }
    scanned = w->buf->len;
    TestWireStatus st = fill(w, remaining_ms(deadline));
    if (st != TEST_WIRE_OK)
      return st;
  }
}

TestWireStatus
test_wire_read_n(TestWire *w, gsize n, int timeout_ms, char **out)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  *out = NULL;
  while (w->buf->len < n) {
    TestWireStatus st = fill(w, remaining_ms(deadline));
    if (st != TEST_WIRE_OK)
      return st;
  }
  char *o = g_malloc(n + 1);
  memcpy(o, w->buf->data, n);
  o[n] = '\0';
  *out = o;
  g_byte_array_remove_range(w->buf, 0, (guint)n);
  return TEST_WIRE_OK;
}

TestWireStatus
test_wire_expect_nothing(TestWire *w, int ms, GString *seen)
{
  if (w->buf->len == 0) {
    TestWireStatus st = fill(w, ms);
    if (st == TEST_WIRE_TIMEOUT)
      return TEST_WIRE_OK;
    if (st != TEST_WIRE_OK)
      return st;
  }
  if (seen)
    g_string_append_len(seen, (const char *)w->buf->data, (gssize)MIN(w->buf->len, 512));
  return TEST_WIRE_ERROR;
}

TestWireStatus
test_wire_expect_close(TestWire *w, int timeout_ms, GString *seen)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    if (w->buf->len > 0) {
      if (seen)
        g_string_append_len(seen, (const char *)w->buf->data, (gssize)MIN(w->buf->len, 512));
      return TEST_WIRE_ERROR;
    }
    if (w->eof)
      return TEST_WIRE_OK;
    TestWireStatus st = fill(w, remaining_ms(deadline));
    if (st == TEST_WIRE_TIMEOUT || st == TEST_WIRE_ERROR)
      return st;
  }
}

gsize test_wire_buffered(TestWire *w) { return w->buf->len; }

guint
test_wire_drop_lines(TestWire *w, const char *line)
{
  gsize n = strlen(line);
  guint dropped = 0;
  while (w->buf->len >= n + 2 && memcmp(w->buf->data, line, n) == 0 &&
         w->buf->data[n] == '\r' && w->buf->data[n + 1] == '\n') {
    g_byte_array_remove_range(w->buf, 0, (guint)(n + 2));
    dropped++;
  }
  return dropped;
}

void
test_wire_reset(TestWire *w)
{
  if (!w)
    return;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(w->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  test_wire_free(w);
}

void
test_wire_free(TestWire *w)
{
  if (!w)
    return;
  if (w->tls)
    gnutls_deinit(w->tls);
  if (w->tls_creds)
    gnutls_certificate_free_credentials(w->tls_creds);
  if (w->fd >= 0)
    close(w->fd);
  g_byte_array_unref(w->buf);
  g_free(w);
}
