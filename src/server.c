/* server.c — the Server (see server.h): listener and accept backoff, client
 * table, INFO, post-dispatch flush/reap, signals, lame duck, shutdown, pid and
 * ports files, and --signal.
 *
 * Thread: everything runs on the protocol loop thread (the main thread).
 * Signals arrive through g_unix_signal_add, i.e. on the loop as ordinary
 * callbacks, so no handler ever races the protocol state. */
#include "server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "accounts.h"
#include "auth.h"
#include "jwt_auth.h"
#include "client.h"
#include "const.h"
#include "errors.h"
#include "log.h"
#include "events.h"
#include "monitor.h"
#include "opts.h"
#include "tls.h"
#include "reload.h"

#define SERVER_READ_BUF_SIZE MAX_BUF_SIZE
#define SERVER_ACCEPTS_PER_DISPATCH 256

static void server_post_dispatch(void *data);
static void server_sd_notify(const char *state);
static void server_on_accept(void *data, uint32_t events);

/* ---- INFO ---------------------------------------------------------------- */

static void json_append_string(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': g_string_append(out, "\\\""); break;
      case '\\': g_string_append(out, "\\\\"); break;
      case '\n': g_string_append(out, "\\n"); break;
      case '\r': g_string_append(out, "\\r"); break;
      case '\t': g_string_append(out, "\\t"); break;
      default:
        if (*p < 0x20) g_string_append_printf(out, "\\u%04x", *p);
        else g_string_append_c(out, (char)*p);
    }
  }
  g_string_append_c(out, '"');
}

/* The part of INFO that is the same for every client, in nats-server's field
 * order (clients do not care about order, but people diffing output do). */
void server_build_info_prefix(Server *s) {
  GString *out = g_string_new("INFO {\"server_id\":");
  json_append_string(out, s->identity.encoded_public);
  g_string_append(out, ",\"server_name\":");
  json_append_string(out, s->server_name);
  g_string_append_printf(out, ",\"version\":\"%s\",\"proto\":%d,\"go\":\"cnatsd %s\",\"host\":", NATS_VERSION,
                         PROTO_VERSION, CNATSD_VERSION);
  json_append_string(out, s->opts->host);
  g_string_append_printf(out, ",\"port\":%d", s->port);
  if (!s->opts->no_header_support) g_string_append(out, ",\"headers\":true");
  if (auth_info_required(s)) g_string_append(out, ",\"auth_required\":true");
  if (server_tls_required(s)) g_string_append(out, ",\"tls_required\":true");
  if (server_tls_verify(s)) g_string_append(out, ",\"tls_verify\":true");
  if (s->opts->tls_config && !server_tls_required(s)) g_string_append(out, ",\"tls_available\":true");
  g_string_append_printf(out, ",\"max_payload\":%" G_GINT64_FORMAT, s->opts->max_payload);
  g_free(s->info_prefix);
  s->info_prefix_len = out->len;
  s->info_prefix = g_string_free(out, FALSE);
}

size_t server_info_json(Server *s, Client *c, bool lame_duck, GString *out) {
  size_t start = out->len;
  const char *mp = NULL;
  if (c->parser.max_payload != s->opts->max_payload)
    mp = g_strrstr_len(s->info_prefix, (gssize)s->info_prefix_len, ",\"max_payload\":");
  if (mp) {
    /* account or user JWT limits: Go's INFO carries the client's own max payload */
    g_string_append_len(out, s->info_prefix, mp - s->info_prefix);
    g_string_append_printf(out, ",\"max_payload\":%" G_GINT64_FORMAT, c->parser.max_payload);
  } else {
    g_string_append_len(out, s->info_prefix, (gssize)s->info_prefix_len);
  }
  g_string_append_printf(out, ",\"client_id\":%" G_GUINT64_FORMAT ",\"client_ip\":", c->cid);
  json_append_string(out, c->host);
  /* only the first INFO carries the nonce; later (async) ones do not, as in Go */
  const char *nonce = c->connect_received ? NULL : auth_client_nonce(c);
  if (nonce) g_string_append_printf(out, ",\"nonce\":\"%s\"", nonce);
  if (lame_duck) g_string_append(out, ",\"ldm\":true");
  /* nats-server ends INFO with "} " before CRLF */
  g_string_append(out, "} \r\n");
  return out->len - start;
}

void server_name_hash(const Server *s, char out[9]) {
  static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const char *name = s->server_name && *s->server_name ? s->server_name : s->identity.encoded_public;
  guint8 d[32];
  gsize dl = sizeof d;
  GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(ck, (const guchar *)name, (gssize)strlen(name));
  g_checksum_get_digest(ck, d, &dl);
  g_checksum_free(ck);
  for (int i = 0; i < 8; i++) out[i] = digits[d[i] % 62];
  out[8] = '\0';
}

bool server_tls_required(const Server *s) { return s->opts->tls_config && !s->opts->allow_non_tls; }
bool server_tls_verify(const Server *s) { return tls_config_verify(s->opts->tls_config); }

static void server_tls_rate_log(void *data) {
  Server *s = data;
  if (s->tls_rate_blocked > 0) {
    log_warn("Rejected %" G_GUINT64_FORMAT " connections due to TLS rate limiting", s->tls_rate_blocked);
    s->tls_rate_blocked = 0;
  }
}

bool server_tls_rate_allow(Server *s) {
  int64_t limit = s->opts->tls_rate_limit;
  if (limit <= 0) return true;
  int64_t now = loop_now(s->loop);
  if (now > s->tls_rate_end) {
    s->tls_rate_count = 0;
    s->tls_rate_end = now + G_USEC_PER_SEC;
  } else {
    s->tls_rate_count++;
  }
  if (s->tls_rate_count < limit) return true;
  if (s->tls_rate_blocked++ == 0 && !loop_timer_armed(&s->tls_rate_timer))
    loop_timer_start(s->loop, &s->tls_rate_timer, now + G_USEC_PER_SEC, server_tls_rate_log, s);
  return false;
}

/* ---- listener ------------------------------------------------------------ */

static int server_listen(Server *s, GError **error) {
  const char *host = s->opts->host;
  int port = s->opts->port;
  if (port == -1) port = 0;  /* RANDOM_PORT */
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  int rc = getaddrinfo(host, portstr, &hints, &res);
  if (rc != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Error listening on port: %s:%d, \"%s\"", host, port,
                gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  int last_errno = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) break;
    last_errno = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    /* Go's net error text: listen tcp HOST:PORT: bind: address already in use */
    g_autofree char *why = g_ascii_strdown(g_strerror(last_errno), -1);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Error listening on port: %s:%d, \"listen tcp %s:%d: bind: %s\"",
                host, port, host, port, why);
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
  s->listen_fd = fd;
  return fd;
}

static void server_accept_resume(void *data) {
  Server *s = data;
  if (s->listen_fd >= 0 && s->listen_watch.fd < 0)
    loop_watch_add(s->loop, &s->listen_watch, s->listen_fd, EPOLLIN, server_on_accept, s);
}

static void server_on_accept(void *data, uint32_t events) {
  Server *s = data;
  for (int i = 0; i < SERVER_ACCEPTS_PER_DISPATCH && s->listen_fd >= 0; i++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return;
      /* Out of fds or memory: back off exponentially (10ms → 1s) instead of
       * spinning on a listener that stays readable, as nats-server does. */
      s->accept_sleep_us = s->accept_sleep_us ? MIN(s->accept_sleep_us * 2, ACCEPT_MAX_SLEEP_US) : ACCEPT_MIN_SLEEP_US;
      /* Same words as Go's net error, so log watchers match both servers. */
      g_autofree char *why = g_ascii_strdown(g_strerror(errno), -1);
      log_error("Temporary Client Accept Error(accept tcp %s:%d: accept4: %s), sleeping %" G_GINT64_FORMAT "ms",
                s->opts->host, s->port, why, s->accept_sleep_us / 1000);
      loop_watch_remove(s->loop, &s->listen_watch);
      loop_timer_start(s->loop, &s->accept_timer, loop_now(s->loop) + s->accept_sleep_us, server_accept_resume, s);
      return;
    }
    s->accept_sleep_us = 0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->total_connections++;
    Client *c = client_new(s, fd, s->next_cid++, (struct sockaddr *)&peer);
    g_hash_table_insert(s->clients, &c->cid, c);
    if (s->events) events_account_conns(s, c->acc);  /* Go registers new clients with $G */
    client_start(c);
    if (s->opts->max_connections > 0 && g_hash_table_size(s->clients) > (guint)s->opts->max_connections) {
      client_send_err(c, errors_text(NATS_ERR_MAX_CONNECTIONS));
      client_close(c, errors_closed_state(NATS_ERR_MAX_CONNECTIONS));
    }
  }
}

/* ---- client bookkeeping -------------------------------------------------- */

void server_schedule_flush(Server *s, Client *c) {
  if (c->in_flush_list) return;
  c->in_flush_list = true;
  c->next_flush = s->flush_head;
  s->flush_head = c;
}

void server_client_closed(Server *s, Client *c) {
  monitor_record_closed(s->monitor, c);
  if (s->events) events_client_closed(c);
  g_hash_table_remove(s->clients, &c->cid);
  if (c->acc && c->acc->num_clients) c->acc->num_clients--;
}

static void server_trim_heap(void *data) {
  Server *s = data;
  s->freed_since_trim = 0;
  malloc_trim(0);
}

static void server_post_dispatch(void *data) {
  Server *s = data;
  /* One writev per touched connection per dispatch. */
  while (s->flush_head) {
    Client *c = s->flush_head;
    s->flush_head = c->next_flush;
    c->next_flush = NULL;
    c->in_flush_list = false;
    client_flush(c);
  }
  while (s->closed_head) {
    Client *c = s->closed_head;
    s->closed_head = c->next_closed;
    client_free(c);
    /* After many disconnects the freed connection memory sits in malloc's
     * free lists; give it back to the OS once things calm down. */
    if (++s->freed_since_trim == 1000 && !loop_timer_armed(&s->trim_timer))
      loop_timer_start(s->loop, &s->trim_timer, loop_now(s->loop) + G_USEC_PER_SEC, server_trim_heap, s);
  }
  if (s->shutting_down && s->num_draining == 0 && s->main_loop) g_main_loop_quit(s->main_loop);
}

/* ---- files --------------------------------------------------------------- */

/* JSON array of "scheme://host:port" URLs for a listener (ports file). */
static char *server_urls_json(const char *scheme, const char *host, int port) {
  GString *out = g_string_new("[");
  bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0 || !*host;
  bool first = true;
  if (any) {
    /* nats-server lists every local address when bound to all interfaces */
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
      for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
        char a[INET6_ADDRSTRLEN];
        const void *src = i->ifa_addr->sa_family == AF_INET ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                                                            : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
        inet_ntop(i->ifa_addr->sa_family, src, a, sizeof a);
        if (i->ifa_addr->sa_family == AF_INET6)
          g_string_append_printf(out, "%s\"%s://[%s]:%d\"", first ? "" : ",", scheme, a, port);
        else
          g_string_append_printf(out, "%s\"%s://%s:%d\"", first ? "" : ",", scheme, a, port);
        first = false;
      }
      freeifaddrs(ifs);
    }
  } else if (strchr(host, ':')) {
    g_string_append_printf(out, "\"%s://[%s]:%d\"", scheme, host, port);
  } else {
    g_string_append_printf(out, "\"%s://%s:%d\"", scheme, host, port);
  }
  g_string_append_c(out, ']');
  return g_string_free(out, FALSE);
}

bool server_write_ports_file(Server *s, GError **error) {
  if (!s->opts->ports_file_dir || !*s->opts->ports_file_dir) return true;
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  g_autofree char *base = g_path_get_basename(exe ? exe : "cnatsd");
  g_autofree char *name = g_strdup_printf("%s_%ld.ports", base, (long)getpid());
  g_free(s->ports_file);
  s->ports_file = g_build_filename(s->opts->ports_file_dir, name, NULL);
  g_autofree char *urls = server_urls_json(server_tls_required(s) ? "tls" : "nats", s->opts->host, s->port);
  g_autofree char *mon = monitor_port(s->monitor)
                             ? server_urls_json(monitor_is_https(s->monitor) ? "https" : "http",
                                                monitor_host(s->monitor), monitor_port(s->monitor))
                             : NULL;
  g_autofree char *json = mon ? g_strdup_printf("{\"nats\":%s,\"monitoring\":%s}", urls, mon)
                              : g_strdup_printf("{\"nats\":%s}", urls);
  return g_file_set_contents(s->ports_file, json, -1, error);
}

static bool server_write_files(Server *s, GError **error) {
  if (s->opts->pid_file) {
    g_autofree char *pid = g_strdup_printf("%ld", (long)getpid());
    if (!g_file_set_contents(s->opts->pid_file, pid, -1, error)) return false;
  }
  return server_write_ports_file(s, error);
}

static void server_remove_files(Server *s) {
  /* nats-server 2.9.10 removes the ports file but leaves the pid file. */
  if (s->ports_file) unlink(s->ports_file);
}

/* ---- shutdown and lame duck ---------------------------------------------- */

static void server_close_listener(Server *s) {
  if (s->listen_fd < 0) return;
  loop_watch_remove(s->loop, &s->listen_watch);
  loop_timer_stop(s->loop, &s->accept_timer);
  close(s->listen_fd);
  s->listen_fd = -1;
}

static void server_shutdown_deadline(void *data) {
  Server *s = data;
  if (s->main_loop) g_main_loop_quit(s->main_loop);
}

void server_shutdown(Server *s) {
  if (s->shutting_down) return;
  s->shutting_down = true;
  server_sd_notify("STOPPING=1");
  log_info("Initiating Shutdown...");
  events_shutdown(s);
  server_close_listener(s);
  loop_timer_stop(s->loop, &s->ldm_timer);
  GList *clients = g_hash_table_get_values(s->clients);
  for (GList *l = clients; l; l = l->next) client_close(l->data, CLOSED_SERVER_SHUTDOWN);
  g_list_free(clients);
  /* Closed clients flush what they had queued; do not wait past the write
   * deadline for any of them. */
  loop_timer_start(s->loop, &s->shutdown_timer, g_get_monotonic_time() + s->opts->write_deadline_us,
                   server_shutdown_deadline, s);
  if (s->num_draining == 0 && s->main_loop) g_main_loop_quit(s->main_loop);
}

static void server_ldm_close_next(void *data) {
  Server *s = data;
  /* Close one client (or a batch, if the duration is too short for one at a
   * time), then reschedule; when none remain, shut down. */
  guint batch = 1;
  if (s->ldm_interval_us <= 0) batch = MAX(1u, s->ldm_clients->len / 10);
  while (batch-- > 0 && s->ldm_clients->len > 0) {
    uint64_t cid = GPOINTER_TO_SIZE(g_ptr_array_steal_index_fast(s->ldm_clients, s->ldm_clients->len - 1));
    Client *c = g_hash_table_lookup(s->clients, &cid);
    if (c) client_close(c, CLOSED_SERVER_SHUTDOWN);
  }
  if (s->ldm_clients->len == 0 || g_hash_table_size(s->clients) == 0) {
    server_shutdown(s);
    return;
  }
  loop_timer_start(s->loop, &s->ldm_timer, loop_now(s->loop) + MAX(s->ldm_interval_us, 1000), server_ldm_close_next, s);
}

static void server_ldm_grace_over(void *data) {
  Server *s = data;
  log_info("Closing existing clients");
  server_ldm_close_next(s);
}

void server_lame_duck(Server *s) {
  if (s->shutting_down || s->lame_duck || s->listen_fd < 0) return;
  log_info("Entering lame duck mode, stop accepting new clients");
  s->lame_duck = true;
  server_close_listener(s);
  guint n = g_hash_table_size(s->clients);
  if (n == 0) {
    server_shutdown(s);
    return;
  }
  int64_t grace = s->opts->lame_duck_grace_period_us;
  if (grace < 0) grace = -grace;
  int64_t dur = s->opts->lame_duck_duration_us - grace;
  if (dur <= 0) dur = G_USEC_PER_SEC;
  /* Spread the closes over the duration, at most one per second apart. */
  s->ldm_interval_us = MIN(dur / n, (int64_t)G_USEC_PER_SEC);
  s->ldm_clients = g_ptr_array_sized_new(n);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, s->clients);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Client *c = value;
    g_ptr_array_add(s->ldm_clients, GSIZE_TO_POINTER(c->cid));
    /* Clients that understand async INFO learn they should move elsewhere. */
    if (c->first_pong_sent && c->opts.protocol >= 1) client_send_info(c, true);
  }
  loop_timer_start(s->loop, &s->ldm_timer, loop_now(s->loop) + grace, server_ldm_grace_over, s);
}

/* ---- signals ------------------------------------------------------------- */

/* Once shutdown has begun, nats-server's signal goroutine is busy inside
 * Shutdown() and never reads another signal: later ones neither log nor
 * change the exit status.  The same holds here. */
static gboolean on_sigint(gpointer data) {
  Server *s = data;
  if (s->shutting_down) return G_SOURCE_CONTINUE;
  log_debug("Trapped \"interrupt\" signal");
  s->exit_code = 0;
  server_shutdown(s);
  loop_wakeup(((Server *)data)->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_sigterm(gpointer data) {
  Server *s = data;
  if (s->shutting_down) return G_SOURCE_CONTINUE;
  log_debug("Trapped \"terminated\" signal");
  /* nats-server exits 1 on SIGTERM, unless a lame duck shutdown is running. */
  if (!s->lame_duck) {
    s->exit_code = 1;
    server_shutdown(s);
  }
  loop_wakeup(((Server *)data)->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_sigusr1(gpointer data) {
  log_debug("Trapped \"user defined signal 1\" signal");
  Server *s = data;
  (void)s;
  if (!log_is_file()) {
    log_info("File log re-open ignored, not a file logger");
    return G_SOURCE_CONTINUE;
  }
  g_autofree char *error = NULL;
  if (!log_reopen(&error)) {
    /* nats-server dies here (log.Fatalf in its file logger). */
    log_print_std(error);
    exit(1);
  }
  log_info("File log re-opened");
  return G_SOURCE_CONTINUE;
}

static gboolean on_sigusr2(gpointer data) {
  log_debug("Trapped \"user defined signal 2\" signal");
  server_lame_duck(data);
  loop_wakeup(((Server *)data)->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_sighup(gpointer data) {
  Server *s = data;
  log_debug("Trapped \"hangup\" signal");
  reload_server(s);
  loop_wakeup(((Server *)data)->loop);
  return G_SOURCE_CONTINUE;
}

/* ---- service manager ----------------------------------------------------- */

/* systemd's Type=notify protocol (sd_notify(3)): one datagram to
 * $NOTIFY_SOCKET.  This is the Linux counterpart of nats-server's Windows
 * service integration; no libsystemd needed for three messages. */
static void server_sd_notify(const char *state) {
  const char *path = g_getenv("NOTIFY_SOCKET");
  if (!path || !*path || (path[0] != '/' && path[0] != '@')) return;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t len = strlen(path);
  if (len >= sizeof sa.sun_path) return;
  memcpy(sa.sun_path, path, len);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';  /* abstract namespace */
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
    log_debug("sd_notify: %s", g_strerror(errno));
  close(fd);
}

/* ---- construction and run ------------------------------------------------ */

/* Go (1.19+) lifts the soft open-files limit to the hard one at startup, so
 * nats-server can hold as many connections as the system allows; so do we. */
static void server_raise_nofile_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

Server *server_new(Options *opts, GError **error) {
  if (sodium_init() < 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "libsodium initialisation failed");
    opts_free(opts);
    return NULL;
  }
  server_raise_nofile_limit();
  opts_derive_defaults(opts);
  Server *s = g_new0(Server, 1);
  s->opts = opts;
  s->listen_fd = -1;
  s->listen_watch.fd = -1;
  s->next_cid = 1;
  s->ctx = g_main_context_default();
  s->start_time_real = g_get_real_time();
  s->config_load_time = s->start_time_real;
  nkey_pair_create(&s->identity, NKEY_PREFIX_SERVER);
  s->server_name = g_strdup(opts->server_name ? opts->server_name : s->identity.encoded_public);
  s->clients = g_hash_table_new(g_int64_hash, g_int64_equal);
  out_pool_init(&s->out_pool);
  s->read_buf_cap = SERVER_READ_BUF_SIZE;
  s->read_buf = g_malloc(s->read_buf_cap);
  s->loop = loop_new(s->ctx);
  loop_set_post_dispatch(s->loop, server_post_dispatch, s);
  s->monitor = monitor_new(s);
  if (!auth_server_setup(s, error)) {
    server_free(s);
    return NULL;
  }
  return s;
}

int server_run(Server *s) {
  GError *error = NULL;
  /* nats-server's banner, line for line: operators' tooling greps for it.
   * Which implementation this is goes in the Go-build debug line. */
  log_info("Starting nats-server");
  log_info("  Version:  %s", NATS_VERSION);
  log_info("  Git:      [not set]");
  log_debug("  Go build: cnatsd %s", CNATSD_VERSION);
  log_info("  Name:     %s", s->server_name);
  log_info("  ID:       %s", s->identity.encoded_public);
  if (s->opts->config_file) log_info("Using configuration file: %s", s->opts->config_file);
  jwt_auth_log_startup(s);
  log_debug("Created system account: \"%s\"", DEFAULT_SYSTEM_ACCOUNT);
  /* nats-server starts monitoring before the client listener. */
  if (!monitor_start(s->monitor, &error)) {
    log_fatal("%s", error->message);
    g_error_free(error);
    return 1;
  }
  events_start(s);
  if (server_listen(s, &error) < 0) {
    log_fatal("%s", error->message);
    g_error_free(error);
    return 1;
  }
  server_build_info_prefix(s);
  loop_watch_add(s->loop, &s->listen_watch, s->listen_fd, EPOLLIN, server_on_accept, s);
  log_info("Listening for client connections on %s:%d", s->opts->host, s->port);
  if (s->opts->tls_config) log_info("TLS required for client connections");
  if (!server_write_files(s, &error)) {
    log_fatal("%s", error->message);
    g_error_free(error);
    server_close_listener(s);
    return 1;
  }
  s->signal_sources[0] = g_unix_signal_add(SIGINT, on_sigint, s);
  s->signal_sources[1] = g_unix_signal_add(SIGTERM, on_sigterm, s);
  s->signal_sources[2] = g_unix_signal_add(SIGUSR1, on_sigusr1, s);
  s->signal_sources[3] = g_unix_signal_add(SIGUSR2, on_sigusr2, s);
  s->signal_sources[4] = g_unix_signal_add(SIGHUP, on_sighup, s);
  signal(SIGPIPE, SIG_IGN);
  log_info("Server is ready");
  g_autofree char *ready = g_strdup_printf("READY=1\nMAINPID=%ld\nSTATUS=Listening on %s:%d", (long)getpid(),
                                           s->opts->host, s->port);
  server_sd_notify(ready);
  s->main_loop = g_main_loop_new(s->ctx, FALSE);
  g_main_loop_run(s->main_loop);
  server_close_listener(s);
  server_remove_files(s);
  log_info("Server Exiting..");
  return s->exit_code;
}

void server_free(Server *s) {
  if (!s) return;
  /* Removing GLib's sources restores the default dispositions, under which a
   * late SIGTERM would kill us mid-teardown (exit status 143 instead of the
   * one already chosen).  nats-server ignores signals at this point. */
  static const int handled[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP};
  for (size_t i = 0; i < G_N_ELEMENTS(s->signal_sources); i++) {
    if (!s->signal_sources[i]) continue;
    g_source_remove(s->signal_sources[i]);
    signal(handled[i], SIG_IGN);
  }
  /* Anything still open (shutdown deadline passed) is dropped now. */
  GList *clients = g_hash_table_get_values(s->clients);
  for (GList *l = clients; l; l = l->next) client_close(l->data, CLOSED_SERVER_SHUTDOWN);
  g_list_free(clients);
  s->shutting_down = true;
  g_clear_pointer(&s->main_loop, g_main_loop_unref);
  server_post_dispatch(s);
  g_hash_table_destroy(s->clients);
  events_stop(s);
  monitor_free(s->monitor);
  if (s->ldm_clients) g_ptr_array_free(s->ldm_clients, TRUE);
  loop_timer_stop(s->loop, &s->tls_rate_timer);
  auth_server_free(s);
  jwt_auth_server_free(s);
  if (s->accounts) g_hash_table_destroy(s->accounts);
  loop_free(s->loop);
  out_pool_clear(&s->out_pool);
  g_free(s->read_buf);
  g_free(s->info_prefix);
  g_free(s->server_name);
  g_free(s->ports_file);
  opts_free(s->opts);
  sodium_memzero(&s->identity, sizeof s->identity);
  g_free(s);
}

/* ---- --signal ------------------------------------------------------------ */

static GArray *find_server_pids(void) {
  GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));
  DIR *d = opendir("/proc");
  if (!d) return pids;
  struct dirent *e;
  int self = getpid();
  while ((e = readdir(d))) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || pid == self) continue;
    g_autofree char *path = g_strdup_printf("/proc/%ld/comm", pid);
    g_autofree char *comm = NULL;
    if (!g_file_get_contents(path, &comm, NULL, NULL)) continue;
    g_strstrip(comm);
    if (strcmp(comm, "cnatsd") == 0) {
      int p = (int)pid;
      g_array_append_val(pids, p);
    }
  }
  closedir(d);
  return pids;
}

int server_send_signal(const char *cmd_arg) {
  g_autofree char *cmd = g_strdup(cmd_arg);
  char *pid_str = strchr(cmd, '=');
  if (pid_str) *pid_str++ = '\0';
  static const struct { const char *name; int sig; } commands[] = {
      {"stop", SIGKILL}, {"quit", SIGINT}, {"reopen", SIGUSR1}, {"reload", SIGHUP}, {"ldm", SIGUSR2}, {"term", SIGTERM}};
  int sig = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    if (strcmp(cmd, commands[i].name) == 0) sig = commands[i].sig;
  if (!sig) {
    fprintf(stderr, "cnatsd: unknown signal \"%s\"\n", cmd);
    return 1;
  }
  long pid = 0;
  if (pid_str && *pid_str) {
    char *end;
    pid = strtol(pid_str, &end, 10);
    if (*end || pid <= 0) {
      /* not a number: a pid file */
      g_autofree char *contents = NULL;
      if (!g_file_get_contents(pid_str, &contents, NULL, NULL)) {
        fprintf(stderr, "cnatsd: open %s: no such file or directory\n", pid_str);
        return 1;
      }
      g_strstrip(contents);
      pid = strtol(contents, &end, 10);
      if (*end || pid <= 0) {
        fprintf(stderr, "cnatsd: invalid pid: %s\n", contents);
        return 1;
      }
    }
  } else {
    g_autoptr(GArray) pids = find_server_pids();
    if (pids->len == 0) {
      fprintf(stderr, "cnatsd: no cnatsd processes running\n");
      return 1;
    }
    if (pids->len > 1) {
      fprintf(stderr, "cnatsd: multiple cnatsd processes running:\n");
      for (guint i = 0; i < pids->len; i++) fprintf(stderr, "%d\n", g_array_index(pids, int, i));
      return 1;
    }
    pid = g_array_index(pids, int, 0);
  }
  if (kill((pid_t)pid, sig) != 0) {
    fprintf(stderr, "cnatsd: %s\n", errno == ESRCH ? "no such process" : g_strerror(errno));
    return 1;
  }
  return 0;
}
