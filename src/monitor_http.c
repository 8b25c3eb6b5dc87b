/* monitor_http.c — the monitor module (cnatsd-monitor.so): HTTP for the
 * monitoring endpoints, with libsoup.
 *
 * Owns the listening socket handed over by monitor_start(), the SoupServer
 * and its connections; for HTTPS, GIO TLS over them (glib-networking).  Thread: the protocol loop thread (its sources are on
 * the default main context).  Built as a loadable module so libsoup and its
 * dependencies are mapped only when monitoring is configured (module.h);
 * the only file that includes libsoup.  It knows nothing of the server:
 * every request goes to MonitorHttpHost.serve (monitor_serve in monitor.c),
 * which builds the whole answer. */
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"

typedef struct MonitorHttp {
  SoupServer *soup;             /* owned */
  GTlsCertificate *tls_cert;    /* borrowed (the core keeps it); NULL: plain HTTP */
  int listen_fd;                /* owned */
  guint listen_source;          /* fd source on listen_fd, or the timeout resuming it */
  const MonitorHttpHost *host;  /* borrowed: static in the core */
  void *data;                   /* borrowed: the Monitor */
} MonitorHttp;

static void monitor_http_handle(SoupServer *server, SoupServerMessage *msg, const char *path,
                                GHashTable *query_unused, gpointer data) {
  MonitorHttp *h = data;
  GUri *uri = soup_server_message_get_uri(msg);
  MonitorHttpAnswer ans = {.status = 500, .content_type = "text/plain; charset=utf-8", .body = g_string_new(NULL)};
  h->host->serve(h->data, soup_server_message_get_method(msg), path, uri ? g_uri_get_query(uri) : NULL, &ans);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers(msg);
  if (ans.location) soup_message_headers_replace(hdrs, "Location", ans.location);
  if (ans.nosniff) soup_message_headers_replace(hdrs, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status(msg, (guint)ans.status, NULL);
  gsize len = ans.body->len;
  soup_server_message_set_response(msg, ans.content_type, SOUP_MEMORY_TAKE, g_string_free(ans.body, FALSE), len);
  g_free(ans.location);
}

static gboolean monitor_http_on_accept(gint fd, GIOCondition cond, gpointer data);

static gboolean monitor_http_accept_resume(gpointer data) {
  MonitorHttp *h = data;
  h->listen_source = g_unix_fd_add(h->listen_fd, G_IO_IN, monitor_http_on_accept, h);
  return G_SOURCE_REMOVE;
}

/* We accept and hand each connection to libsoup: libsoup 3.2's own
 * listener leaks every accepted GSocket (fixed upstream in 3.3). */
static gboolean monitor_http_on_accept(gint fd, GIOCondition cond, gpointer data) {
  MonitorHttp *h = data;
  for (int i = 0; i < 64; i++) {
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) break;
      /* Out of fds or memory: the listener stays readable, so pause it
       * instead of spinning, as the client listener does. */
      g_autofree char *text = g_strdup_printf("monitoring: accept error: %s", g_strerror(errno));
      h->host->log_error(text);
      h->listen_source = g_timeout_add(100, monitor_http_accept_resume, h);
      return G_SOURCE_REMOVE;
    }
    GSocket *sock = g_socket_new_from_fd(cfd, NULL);
    if (!sock) {
      close(cfd);
      continue;
    }
    GSocketConnection *conn = g_socket_connection_factory_create_connection(sock);
    GSocketAddress *local = g_socket_get_local_address(sock, NULL);
    GSocketAddress *remote = g_socket_get_remote_address(sock, NULL);
    GIOStream *stream = G_IO_STREAM(g_object_ref(conn));
    if (h->tls_cert) {
      /* HTTPS: the handshake runs lazily on the first read, in libsoup's
       * own async I/O, so nothing here blocks. */
      GIOStream *tls = g_tls_server_connection_new(stream, h->tls_cert, NULL);
      g_object_unref(stream);
      stream = tls;
    }
    if (stream) soup_server_accept_iostream(h->soup, stream, local, remote, NULL);
    g_clear_object(&stream);
    g_clear_object(&local);
    g_clear_object(&remote);
    g_object_unref(conn);
    g_object_unref(sock);
  }
  return G_SOURCE_CONTINUE;
}

static void *monitor_http_tls_cert_new(const char *cert_file, const char *key_file, GError **error) {
  return g_tls_certificate_new_from_files(cert_file, key_file, error);
}

static void monitor_http_tls_cert_free(void *cert) {
  if (cert) g_object_unref(cert);
}

static void *monitor_http_start(int listen_fd, void *tls_cert, const MonitorHttpHost *host, void *data) {
  MonitorHttp *h = g_new0(MonitorHttp, 1);
  h->tls_cert = tls_cert;
  h->host = host;
  h->data = data;
  h->listen_fd = listen_fd;
  h->soup = soup_server_new(NULL, NULL);
  soup_server_add_handler(h->soup, NULL, monitor_http_handle, h, NULL);
  h->listen_source = g_unix_fd_add(listen_fd, G_IO_IN, monitor_http_on_accept, h);
  return h;
}

static void monitor_http_stop(void *server) {
  MonitorHttp *h = server;
  if (!h) return;
  if (h->listen_source) g_source_remove(h->listen_source);
  close(h->listen_fd);
  soup_server_disconnect(h->soup);
  g_object_unref(h->soup);
  g_free(h);
}

__attribute__((visibility("default"))) const MonitorHttpModule cnatsd_module_monitor = {
  .abi = MONITOR_HTTP_ABI,
  .tls_cert_new = monitor_http_tls_cert_new,
  .tls_cert_free = monitor_http_tls_cert_free,
  .start = monitor_http_start,
  .stop = monitor_http_stop,
};
