/* client.c — one client connection (see client.h).
 *
 * Read path: the socket is read into the server's shared read buffer (a
 * connection holds no read memory between reads; the parser keeps only a
 * split control line or payload), the parser calls back per operation, and
 * PUB callbacks match the account's sublist and append a MSG/HMSG to each
 * subscriber's outbound queue.  Subscribers go on the server's pending-flush
 * list and are written once, with writev, after the dispatch (Go's
 * pcd/flushClients).  EPOLLOUT is armed only when the kernel pushes back.
 *
 * Thread: protocol loop only.  Nothing here allocates per message in steady
 * state: control lines are built on the stack, payloads are copied straight
 * into pooled chunks, match results come from the sublist cache. */
#include "client.h"
#include "json_scan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accounts.h"
#include "auth.h"
#include "const.h"
#include "log.h"
#include "opts.h"
#include "server.h"
#include "subject.h"
#include "subject_transform.h"
#include "events.h"
#include "sublist.h"
#include "subscription.h"
#include "tls.h"

/* Reads per client per dispatch: bounds how long one busy publisher can hold
 * the loop before others are served. */
#define CLIENT_MAX_READS_PER_DISPATCH 4

static const char NO_RESPONDERS_HDR[] = "NATS/1.0 503\r\n\r\n";

static void client_on_io(void *data, uint32_t events);
static void client_ping_timer_fired(void *data);
static void client_write_deadline_fired(void *data);
static void client_finish_close(Client *c);
static void client_read(Client *c);
static void client_tls_begin(Client *c);
static void client_tls_timer_fired(void *data);

/* ---- lifecycle ----------------------------------------------------------- */

Client *client_new(Server *srv, int fd, uint64_t cid, const struct sockaddr *peer) {
  Client *c = g_new0(Client, 1);
  c->cid = cid;
  c->kind = CLIENT_KIND_CLIENT;
  c->srv = srv;
  c->fd = fd;
  c->watch.fd = -1;
  c->acc = srv->global_account;
  c->acc->num_clients++;
  /* nats-server's defaults before CONNECT: verbose, pedantic and echo on. */
  c->opts.verbose = c->opts.pedantic = c->opts.echo = true;
  c->subs = g_hash_table_new(g_str_hash, g_str_equal);
  c->start_time_real = g_get_real_time();
  parser_init(&c->parser);
  c->parser.max_control_line = srv->opts->max_control_line;
  c->parser.max_payload = srv->opts->max_payload;
  if (peer->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
    inet_ntop(AF_INET, &in->sin_addr, c->host, sizeof c->host);
    c->port = ntohs(in->sin_port);
  } else if (peer->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
    inet_ntop(AF_INET6, &in6->sin6_addr, c->host, sizeof c->host);
    c->port = ntohs(in6->sin6_port);
  }
  return c;
}

static void client_arm_first_ping(Client *c) {
  /* nats-server sends the first PING early (2s, +0–20% jitter) so a dead
   * peer is found quickly, then settles to ping_interval. */
  int64_t d = c->srv->opts->ping_interval_us;
  if (d > 2 * G_USEC_PER_SEC) d = 2 * G_USEC_PER_SEC;
  if (d / 5 > 0) d += g_random_int_range(0, (gint32)MIN(d / 5, G_MAXINT32));
  loop_timer_start(c->srv->loop, &c->ping_timer, loop_now(c->srv->loop) + d, client_ping_timer_fired, c);
}

void client_start(Client *c) {
  Server *s = c->srv;
  loop_watch_add(s->loop, &c->watch, c->fd, EPOLLIN | EPOLLRDHUP, client_on_io, c);
  auth_client_start(c);
  /* handshake_first (nats-server 2.10.4): INFO waits for the handshake. */
  bool info_after_tls = s->opts->tls_config && s->opts->tls_handshake_first;
  if (!info_after_tls) client_send_info(c, s->lame_duck);
  log_debug(CLIENT_LOG_FMT "Client connection created", CLIENT_LOG_ARGS(c));
  if (s->opts->tls_config) {
    /* INFO goes out in plain text first; the handshake (or, with
     * allow_non_tls, the wait for the client's first byte) follows, and the
     * auth timer starts only once it is done, as in nats-server. */
    c->auth_timer_deferred = loop_timer_armed(&c->auth_timer);
    loop_timer_stop(s->loop, &c->auth_timer);
    int64_t to = (int64_t)(s->opts->tls_timeout * G_USEC_PER_SEC);
    loop_timer_start(s->loop, &c->tls_timer, loop_now(s->loop) + to, client_tls_timer_fired, c);
    if (s->opts->allow_non_tls && !info_after_tls) c->tls_state = CLIENT_TLS_PEEK;
    else client_tls_begin(c);
    return;
  }
  /* Before CONNECT nats-server waits a full ping interval; the quick first
   * PING is armed by CONNECT. */
  loop_timer_start(s->loop, &c->ping_timer, loop_now(s->loop) + s->opts->ping_interval_us, client_ping_timer_fired, c);
}

/* ---- TLS ------------------------------------------------------------------ */

/* After the handshake, or when a mixed-mode client turned out plain: what
 * client_start does for plain clients. */
static void client_tls_settled(Client *c) {
  Server *s = c->srv;
  loop_timer_stop(s->loop, &c->tls_timer);
  if (c->auth_timer_deferred) {
    c->auth_timer_deferred = false;
    auth_client_restart_timer(c);
  }
  loop_timer_start(s->loop, &c->ping_timer, loop_now(s->loop) + s->opts->ping_interval_us, client_ping_timer_fired, c);
  uint32_t ev = EPOLLIN | EPOLLRDHUP | (c->flush_blocked ? EPOLLOUT : 0);
  loop_watch_modify(s->loop, &c->watch, ev);
}

static void client_tls_begin(Client *c) {
  Server *s = c->srv;
  if (!server_tls_rate_allow(s)) {
    client_send_err(c, errors_text(NATS_ERR_CONNECTION_THROTTLED));
    client_close(c, errors_closed_state(NATS_ERR_CONNECTION_THROTTLED));
    return;
  }
  c->tls = tls_conn_new(s->opts->tls_config, c->fd);
  if (!c->tls) {
    client_close(c, CLOSED_TLS_HANDSHAKE_ERROR);
    return;
  }
  c->tls_state = CLIENT_TLS_HANDSHAKE;
  log_debug(CLIENT_LOG_FMT "Starting TLS client connection handshake", CLIENT_LOG_ARGS(c));
}

static void client_tls_failed(Client *c, const char *why) {
  log_error(CLIENT_LOG_FMT "TLS handshake error: %s", CLIENT_LOG_ARGS(c), why);
  client_close(c, CLOSED_TLS_HANDSHAKE_ERROR);
}

/* Drives the handshake; on success the client becomes an ordinary one. */
static void client_tls_handshake(Client *c) {
  g_autofree char *why = NULL;
  switch (tls_conn_handshake(c->tls, &why)) {
    case TLS_IO_WANT_READ:
      loop_watch_modify(c->srv->loop, &c->watch, EPOLLIN | EPOLLRDHUP);
      return;
    case TLS_IO_WANT_WRITE:
      loop_watch_modify(c->srv->loop, &c->watch, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
      return;
    case TLS_IO_ERROR:
      client_tls_failed(c, why ? why : "handshake failed");
      return;
    case TLS_IO_DONE:
      break;
  }
  GHashTable *pinned = c->srv->opts->tls_pinned_certs;
  if (pinned) {
    g_autoptr(GPtrArray) certs = tls_conn_peer_certs(c->tls);
    if (certs->len == 0) {
      log_debug(CLIENT_LOG_FMT "Failed pinned cert test as client did not provide a certificate", CLIENT_LOG_ARGS(c));
      client_tls_failed(c, "certificate not pinned");
      return;
    }
    const char *key = ((TlsPeerCert *)certs->pdata[0])->spki_sha256;
    if (!g_hash_table_contains(pinned, key)) {
      log_debug(CLIENT_LOG_FMT "Failed pinned cert test for key id: %s", CLIENT_LOG_ARGS(c), key);
      client_tls_failed(c, "certificate not pinned");
      return;
    }
  }
  c->tls_state = CLIENT_TLS_ACTIVE;
  client_tls_settled(c);
  if (c->srv->opts->tls_handshake_first) client_send_info(c, c->srv->lame_duck);
  log_debug(CLIENT_LOG_FMT "TLS handshake complete", CLIENT_LOG_ARGS(c));
  log_debug(CLIENT_LOG_FMT "TLS version %s, cipher suite %s", CLIENT_LOG_ARGS(c), tls_conn_version(c->tls),
            tls_conn_cipher(c->tls));
  /* Application data may have come with the client's Finished. */
  client_read(c);
}

/* allow_non_tls: a TLS ClientHello starts with 0x16; anything else is a
 * plain client (nats-server reads the first bytes the same way). */
static void client_tls_peek(Client *c) {
  unsigned char b;
  ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n == 1 && b == 0x16) {
    client_tls_begin(c);
    if (c->state == CLIENT_OPEN) client_tls_handshake(c);
    return;
  }
  c->tls_state = CLIENT_TLS_NONE;
  client_tls_settled(c);
  client_read(c);
}

static void client_tls_timer_fired(void *data) {
  Client *c = data;
  if (c->state != CLIENT_OPEN) return;
  if (c->tls_state == CLIENT_TLS_PEEK) {
    /* nothing arrived in time: nats-server then treats the client as plain */
    c->tls_state = CLIENT_TLS_NONE;
    client_tls_settled(c);
    return;
  }
  if (c->tls_state != CLIENT_TLS_HANDSHAKE) return;
  /* nats-server's read deadline fires first ("i/o timeout"), then its timer. */
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char local[INET6_ADDRSTRLEN + 8] = "";
  if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) == 0) {
    char a[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (ss.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
      snprintf(local, sizeof local, "[%s]:%d", a, port);
    } else {
      inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof a);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
      snprintf(local, sizeof local, "%s:%d", a, port);
    }
  }
  g_autofree char *why = g_strdup_printf(strchr(c->host, ':') ? "read tcp %s->[%s]:%d: i/o timeout"
                                                                : "read tcp %s->%s:%d: i/o timeout",
                                         local, c->host, c->port);
  client_tls_failed(c, why);
  log_error(CLIENT_LOG_FMT "TLS handshake timeout", CLIENT_LOG_ARGS(c));
}

static void client_remove_all_subs(Client *c) {
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, c->subs);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    Subscription *sub = value;
    if (!sub->closed) sublist_remove(c->acc->sublist, sub);
    sub->closed = true;
    if (sub->nshadow) accounts_import_sub_removed(sub);
    if (G_UNLIKELY(c->acc->rr_map != NULL)) accounts_import_check_reply_interest(c->acc, sub->subject);
    sub->client = NULL;
    log_trace(CLIENT_LOG_FMT "<-> [DELSUB %s]", CLIENT_LOG_ARGS(c), sub->sid);
    g_hash_table_iter_remove(&it);
    subscription_unref(sub);
  }
}

/* Whether queued output should still be written when closing for `reason`:
 * nats-server skips the final flush after write errors and slow consumers. */
static bool close_reason_flushes(ClosedState reason) {
  switch (reason) {
    case CLOSED_WRITE_ERROR:
    case CLOSED_READ_ERROR:
    case CLOSED_SLOW_CONSUMER_PENDING_BYTES:
    case CLOSED_SLOW_CONSUMER_WRITE_DEADLINE:
      return false;
    default:
      return true;
  }
}

void client_close(Client *c, ClosedState reason) {
  if (c->state != CLIENT_OPEN) {
    if (c->state == CLIENT_DRAINING && !close_reason_flushes(reason)) client_finish_close(c);
    return;
  }
  Server *s = c->srv;
  c->close_reason = reason;
  log_debug(CLIENT_LOG_FMT "Client connection closed: %s", CLIENT_LOG_ARGS(c), errors_closed_state_string(reason));
  loop_timer_stop(s->loop, &c->ping_timer);
  loop_timer_stop(s->loop, &c->auth_timer);
  loop_timer_stop(s->loop, &c->tls_timer);
  server_client_closed(s, c);  /* before the subs go: monitoring records them */
  client_remove_all_subs(c);
  if (close_reason_flushes(reason) && c->out.pending > 0 && c->watch.fd >= 0) {
    /* Flush what is queued (e.g. the -ERR that explains the close), bounded
     * by the write deadline, then close. */
    c->state = CLIENT_DRAINING;
    s->num_draining++;
    loop_watch_modify(s->loop, &c->watch, EPOLLOUT);
    c->flush_blocked = true;
    loop_timer_start(s->loop, &c->write_timer, loop_now(s->loop) + s->opts->write_deadline_us,
                     client_write_deadline_fired, c);
    server_schedule_flush(s, c);
    return;
  }
  client_finish_close(c);
}

static void client_finish_close(Client *c) {
  if (c->state == CLIENT_CLOSED) return;
  Server *s = c->srv;
  if (c->state == CLIENT_DRAINING) s->num_draining--;
  c->state = CLIENT_CLOSED;
  loop_timer_stop(s->loop, &c->ping_timer);
  loop_timer_stop(s->loop, &c->auth_timer);
  loop_timer_stop(s->loop, &c->write_timer);
  loop_timer_stop(s->loop, &c->tls_timer);
  loop_watch_remove(s->loop, &c->watch);
  if (c->tls) {
    if (c->tls_state == CLIENT_TLS_ACTIVE) tls_conn_bye(c->tls);
    g_clear_pointer(&c->tls, tls_conn_free);
  }
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  out_queue_clear(&c->out, &s->out_pool);
  c->next_closed = s->closed_head;
  s->closed_head = c;
}

void client_free(Client *c) {
  if (!c) return;
  parser_clear(&c->parser);
  out_queue_clear(&c->out, &c->srv->out_pool);
  g_hash_table_destroy(c->subs);
  g_free(c->opts.name);
  g_free(c->opts.lang);
  g_free(c->opts.version);
  g_free(c->opts.user);
  if (c->opts.pass) sodium_memzero(c->opts.pass, strlen(c->opts.pass));
  g_free(c->opts.pass);
  g_free(c->opts.jwt);
  g_free(c->opts.nkey);
  g_free(c->opts.sig);
  g_free(c->opts.auth_token);
  auth_client_free(c);
  g_free(c);
}

/* ---- outbound ------------------------------------------------------------ */

static void client_slow_consumer(Client *c, ClosedState reason, const char *detail) {
  c->srv->slow_consumers++;
  if (c->acc) c->acc->slow_consumers++;
  log_info(CLIENT_LOG_FMT "Slow Consumer Detected: %s", CLIENT_LOG_ARGS(c), detail);
  client_close(c, reason);
}

void client_queue_outbound(Client *c, const void *data, size_t len) {
  if (c->state == CLIENT_CLOSED) return;
  if (c->out.pending + len > (size_t)c->srv->opts->max_pending && c->out.pending > 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "MaxPending of %" G_GINT64_FORMAT " Exceeded", c->srv->opts->max_pending);
    client_slow_consumer(c, CLOSED_SLOW_CONSUMER_PENDING_BYTES, detail);
    return;
  }
  out_queue_append(&c->out, &c->srv->out_pool, data, len);
  server_schedule_flush(c->srv, c);
}

void client_send_err(Client *c, const char *text) {
  char buf[512];
  size_t n = errors_format_err(text, buf, sizeof buf);
  log_trace(CLIENT_LOG_FMT "->> [-ERR %s]", CLIENT_LOG_ARGS(c), text);
  client_queue_outbound(c, buf, n);
}

static void client_send_ok(Client *c) {
  log_trace(CLIENT_LOG_FMT "->> [OK]", CLIENT_LOG_ARGS(c));
  client_queue_outbound(c, "+OK\r\n", 5);
}

void client_send_info(Client *c, bool lame_duck) {
  GString *info = g_string_sized_new(512);
  server_info_json(c->srv, c, lame_duck, info);
  client_queue_outbound(c, info->str, info->len);
  g_string_free(info, TRUE);
}

void client_flush(Client *c) {
  if (c->state == CLIENT_CLOSED) return;
  Server *s = c->srv;
  ssize_t w;
  if (G_LIKELY(c->tls_state != CLIENT_TLS_ACTIVE)) {
    w = out_queue_write(&c->out, &s->out_pool, c->fd);
  } else {
    w = out_queue_write_fn(&c->out, &s->out_pool, (OutSendFn)tls_conn_send, c->tls);
  }
  if (w < 0) {
    if (c->state == CLIENT_DRAINING) client_finish_close(c);
    else client_close(c, CLOSED_WRITE_ERROR);
    return;
  }
  if (c->out.pending == 0) {
    if (c->state == CLIENT_DRAINING) {
      client_finish_close(c);
      return;
    }
    if (c->flush_blocked) {
      c->flush_blocked = false;
      loop_timer_stop(s->loop, &c->write_timer);
      /* a handshake in progress manages its own interest */
      if (c->tls_state != CLIENT_TLS_HANDSHAKE) loop_watch_modify(s->loop, &c->watch, EPOLLIN | EPOLLRDHUP);
    }
    return;
  }
  if (!c->flush_blocked) {
    c->flush_blocked = true;
    loop_watch_modify(s->loop, &c->watch, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
    loop_timer_start(s->loop, &c->write_timer, loop_now(s->loop) + s->opts->write_deadline_us,
                     client_write_deadline_fired, c);
  }
}

static void client_write_deadline_fired(void *data) {
  Client *c = data;
  if (c->state == CLIENT_DRAINING) {
    client_finish_close(c);
    return;
  }
  if (c->state != CLIENT_OPEN || c->out.pending == 0) return;
  char detail[160], dur[32];
  snprintf(detail, sizeof detail, "WriteDeadline of %s exceeded with %zu chunks of %zu total bytes.",
           opts_format_duration(c->srv->opts->write_deadline_us, dur, sizeof dur), out_queue_chunks(&c->out),
           c->out.pending);
  client_slow_consumer(c, CLOSED_SLOW_CONSUMER_WRITE_DEADLINE, detail);
}

/* ---- delivery ------------------------------------------------------------ */

/* Appends "MSG subject sid [reply] size\r\n" (or HMSG) + payload + CRLF to
 * the subscriber.  `m` describes the message (borrowed, as from the parser);
 * returns false when the subscription takes nothing. */
static bool client_deliver_ex(Client *pub, Subscription *sub, Account *acc, const ParserPub *m, const char *payload,
                              bool status_to_self, int flags);

#define CLIENT_PMR_SHADOW_SUBJECT (1 << 8)  /* internal: subject already mapped for a shadow */

/* A stream import's shadow subscription: the message goes out under the
 * importer's subject, and never when it came through a service import (Go
 * pmrMsgImportedFromService). */
static bool client_deliver_shadow(Client *pub, Subscription *sub, Account *acc, const ParserPub *m,
                                  const char *payload, int flags) {
  if (flags & CLIENT_PMR_IMPORTED_FROM_SERVICE) return false;
  char buf[256];
  g_autofree char *heap = NULL;
  ParserPub dm = *m;
  if (!accounts_import_delivery_subject(sub->im, &dm.subject, &dm.subject_len, buf, sizeof buf, &heap)) return false;
  return client_deliver_ex(pub, sub, acc, &dm, payload, false, flags | CLIENT_PMR_SHADOW_SUBJECT);
}

/* status_to_self: a server-made status for the publisher itself (the 503
 * no-responders reply), which nats-server delivers even with echo off.
 * acc: the account the message was matched in (for internal callbacks). */
static bool client_deliver_ex(Client *pub, Subscription *sub, Account *acc, const ParserPub *m, const char *payload,
                              bool status_to_self, int flags) {
  if (sub->icb) {
    /* service import or response subscription: forwarded, not written */
    if (sub->closed) return false;
    sub->icb(sub, pub, acc, m, payload);
    return true;
  }
  if (G_UNLIKELY(sub->im != NULL) && !(flags & CLIENT_PMR_SHADOW_SUBJECT)) {
    /* a removed shadow's StreamImport may be gone (config reload) */
    if (sub->closed) return false;
    return client_deliver_shadow(pub, sub, acc, m, payload, flags);
  }
  Client *dst = sub->client;
  const char *subject = m->subject, *reply = m->reply;
  size_t subject_len = m->subject_len, reply_len = m->reply_len;
  if (sub->closed || !dst || dst->state != CLIENT_OPEN) return false;
  if (dst == pub && !pub->opts.echo && !status_to_self) return false;
  if (dst->auth && !auth_client_deliver_allowed(dst, subject, subject_len)) return false;
  if (sub->max > 0 && sub->delivered >= sub->max) return false;

  int64_t hdr_len = m->hdr_len, total_len = m->total_len;
  const char *hdr_text = m->hdr_text, *size_text = m->size_text;
  size_t hdr_text_len = m->hdr_text_len, size_text_len = m->size_text_len;
  /* A client that did not ask for headers gets the message without them. */
  if (hdr_len > 0 && !dst->headers) {
    payload += hdr_len;
    total_len -= hdr_len;
    hdr_len = -1;
    hdr_text = size_text = NULL;
  }
  char line[512];
  size_t need = subject_len + sub->sid_len + reply_len + hdr_text_len + size_text_len + 64;
  char *p;
  g_autofree char *heap_line = NULL;
  if (need <= sizeof line) {
    p = line;
  } else {
    /* Only for subjects near max_control_line: off the common path. */
    p = heap_line = g_malloc(need);
  }
  char *w = p;
  if (hdr_len > 0) {
    memcpy(w, "HMSG ", 5);
    w += 5;
  } else {
    memcpy(w, "MSG ", 4);
    w += 4;
  }
  memcpy(w, subject, subject_len);
  w += subject_len;
  *w++ = ' ';
  memcpy(w, sub->sid, sub->sid_len);
  w += sub->sid_len;
  *w++ = ' ';
  if (reply_len || (flags & CLIENT_PMR_EMPTY_REPLY)) {
    /* a server-made message has an empty, not absent, reply: "MSG s 1  5" as Go */
    if (reply_len) memcpy(w, reply, reply_len);
    w += reply_len;
    *w++ = ' ';
  }
  /* Sizes go out as the publisher wrote them (nats-server echoes the text). */
  if (hdr_len > 0) {
    if (hdr_text) {
      memcpy(w, hdr_text, hdr_text_len);
      w += hdr_text_len;
      *w++ = ' ';
    } else {
      w += sprintf(w, "%" G_GINT64_FORMAT " ", hdr_len);
    }
  }
  if (size_text) {
    memcpy(w, size_text, size_text_len);
    w += size_text_len;
    memcpy(w, "\r\n", 2);
    w += 2;
  } else {
    w += sprintf(w, "%" G_GINT64_FORMAT "\r\n", total_len);
  }

  size_t line_len = (size_t)(w - p);
  if (log_trace_enabled)
    log_trace(CLIENT_LOG_FMT "->> [%.*s]", CLIENT_LOG_ARGS(dst), (int)(line_len - 2), p);

  size_t frame = line_len + (size_t)total_len + 2;
  if (dst->out.pending + frame > (size_t)dst->srv->opts->max_pending && dst->out.pending > 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "MaxPending of %" G_GINT64_FORMAT " Exceeded", dst->srv->opts->max_pending);
    client_slow_consumer(dst, CLOSED_SLOW_CONSUMER_PENDING_BYTES, detail);
    return false;
  }
  OutPool *pool = &dst->srv->out_pool;
  out_queue_append(&dst->out, pool, p, line_len);
  out_queue_append(&dst->out, pool, payload, (size_t)total_len);
  out_queue_append(&dst->out, pool, "\r\n", 2);
  server_schedule_flush(dst->srv, dst);

  dst->out_msgs++;
  dst->out_bytes += (uint64_t)total_len;
  dst->srv->out_msgs++;
  dst->srv->out_bytes += (uint64_t)total_len;
  dst->acc->out_msgs++;
  dst->acc->out_bytes += (uint64_t)total_len;
  /* Go counts a delivery as activity of the receiver, stamped with the
   * publisher's read time (monitoring's last_activity, ping delay). */
  if (pub) dst->last_activity = pub->last_activity;  /* pub NULL: a server-made message */
  if (reply_len && dst->auth) auth_client_track_reply(dst, reply, reply_len);

  sub->delivered++;
  if (sub->max > 0 && sub->delivered >= sub->max) {
    /* auto-unsubscribe: the subscription is done */
    sublist_remove(dst->acc->sublist, sub);
    sub->closed = true;
    if (sub->nshadow) accounts_import_sub_removed(sub);
    if (G_UNLIKELY(dst->acc->rr_map != NULL)) accounts_import_check_reply_interest(dst->acc, sub->subject);
    log_trace(CLIENT_LOG_FMT "<-> [DELSUB %s]", CLIENT_LOG_ARGS(dst), sub->sid);
    if (g_hash_table_steal(dst->subs, sub->sid)) subscription_unref(sub);
  }
  return true;
}

static void client_send_no_responders(Client *c, const char *reply, size_t reply_len) {
  /* nats-server answers a request nobody listens to with a 503 status, sent
   * to the requester's own subscription on the reply subject. */
  SublistResult *r = sublist_match(c->acc->sublist, reply, reply_len);
  for (uint32_t i = 0; i < r->npsubs; i++) {
    Subscription *sub = r->psubs[i];
    if (sub->client == c && !sub->closed) {
      ParserPub m = {.subject = reply, .subject_len = reply_len, .hdr_len = sizeof NO_RESPONDERS_HDR - 1,
                     .total_len = sizeof NO_RESPONDERS_HDR - 1};
      client_deliver_ex(c, sub, c->acc, &m, NO_RESPONDERS_HDR, true, 0);
      break;
    }
  }
  sublist_result_unref(r);
}

static uint32_t client_rand(void) {
  /* xorshift32: queue member choice needs spread, not cryptographic quality */
  static uint32_t state = 2463534242u;
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

bool client_process_msg_results(Client *c, Account *acc, SublistResult *r, const ParserPub *pub, const char *payload,
                                 int flags) {
  bool delivered_any = false;
  for (uint32_t i = 0; i < r->npsubs; i++)
    delivered_any |= client_deliver_ex(c, r->psubs[i], acc, pub, payload, false, flags);
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    Subscription **members = r->qsubs[g];
    uint32_t n = r->nqsubs[g];
    if (n == 0) continue;
    uint32_t start = n > 1 ? client_rand() % n : 0;
    for (uint32_t k = 0; k < n; k++) {
      if (client_deliver_ex(c, members[(start + k) % n], acc, pub, payload, false, flags)) {
        delivered_any = true;
        break;
      }
    }
  }
  return delivered_any;
}

static void client_process_msg(Client *c, const ParserPub *pub, const char *payload) {
  SublistResult *r = sublist_match(c->acc->sublist, pub->subject, pub->subject_len);
  bool delivered_any = client_process_msg_results(c, c->acc, r, pub, payload, 0);
  sublist_result_unref(r);
  /* Judged on actual deliveries: the requester's own subscription with
   * echo off does not count as a responder (as in nats-server). */
  if (!delivered_any && pub->reply_len > 0 && c->opts.no_responders && c->headers)
    client_send_no_responders(c, pub->reply, pub->reply_len);
}

/* ---- parser callbacks ---------------------------------------------------- */

/* A callback can close its own client (e.g. it became a slow consumer of its
 * own messages); parsing must stop there. */
#define RETURN_IF_CLOSED(c) \
  do {                      \
    if ((c)->state != CLIENT_OPEN) return NATS_ERR_CLIENT_CLOSED; \
  } while (0)

/* Go's encoding/json matches CONNECT field names case-insensitively (the
 * last matching member wins), so {"Verbose":false} counts. */
static JsonNode *json_member_ci(JsonObject *o, const char *key) {
  JsonNode *found = json_object_get_member(o, key);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next)
    if (g_ascii_strcasecmp(l->data, key) == 0) found = json_object_get_member(o, l->data);
  return found;
}

static char *json_dup_string(JsonObject *o, const char *key) {
  JsonNode *n = json_member_ci(o, key);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING) return NULL;
  return g_strdup(json_node_get_string(n));
}

static bool json_get_bool(JsonObject *o, const char *key, bool def) {
  JsonNode *n = json_member_ci(o, key);
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_BOOLEAN) return def;
  return json_node_get_boolean(n);
}

/* CONNECT fields and their JSON types.  Go's json.Unmarshal into clientOpts
 * fails (and nats-server closes the connection) when a known field has the
 * wrong type; null leaves the field alone; unknown fields are ignored. */
typedef enum { CF_BOOL, CF_STRING, CF_INT } ConnectFieldType;
static const struct {
  const char *name;
  ConnectFieldType type;
} connect_fields[] = {
    {"verbose", CF_BOOL}, {"pedantic", CF_BOOL}, {"tls_required", CF_BOOL}, {"echo", CF_BOOL},
    {"headers", CF_BOOL}, {"no_responders", CF_BOOL}, {"new_account", CF_BOOL}, {"protocol", CF_INT},
    {"name", CF_STRING}, {"lang", CF_STRING}, {"version", CF_STRING}, {"user", CF_STRING}, {"pass", CF_STRING},
    {"auth_token", CF_STRING}, {"jwt", CF_STRING}, {"nkey", CF_STRING}, {"sig", CF_STRING}, {"account", CF_STRING},
};

/* Go's json.Unmarshal refuses trailing data after the value. */
static bool json_single_value(const char *s, size_t n) {
  size_t i;
  int depth;
  json_scan(s, n, &i, &depth);
  while (i < n && g_ascii_isspace(s[i])) i++;
  return i == n;
}

static bool connect_json_types_ok(JsonObject *o) {
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    JsonNode *n = json_object_get_member(o, l->data);
    if (JSON_NODE_TYPE(n) == JSON_NODE_NULL) continue;
    for (size_t i = 0; i < G_N_ELEMENTS(connect_fields); i++) {
      if (g_ascii_strcasecmp(l->data, connect_fields[i].name) != 0) continue;
      if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE) return false;
      GType t = json_node_get_value_type(n);
      if ((connect_fields[i].type == CF_BOOL && t != G_TYPE_BOOLEAN) ||
          (connect_fields[i].type == CF_STRING && t != G_TYPE_STRING) ||
          (connect_fields[i].type == CF_INT && t != G_TYPE_INT64))
        return false;
    }
  }
  return true;
}

static NatsError on_connect(void *ctx, const char *json, size_t len) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  Server *s = c->srv;
  if (log_trace_enabled) {
    g_autofree char *shown = auth_redact_password(json, len);
    log_trace(CLIENT_LOG_FMT "<<- [CONNECT %s]", CLIENT_LOG_ARGS(c), shown);
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_single_value(json, len) || !json_parser_load_from_data(parser, json, (gssize)len, NULL))
    return NATS_ERR_CONNECT_PARSE;
  JsonNode *root = json_parser_get_root(parser);
  /* "CONNECT null" decodes as an empty object in Go. */
  g_autoptr(JsonObject) empty = json_object_new();
  if (!root || (JSON_NODE_TYPE(root) != JSON_NODE_OBJECT && JSON_NODE_TYPE(root) != JSON_NODE_NULL))
    return NATS_ERR_CONNECT_PARSE;
  JsonObject *o = JSON_NODE_TYPE(root) == JSON_NODE_OBJECT ? json_node_get_object(root) : empty;
  if (!connect_json_types_ok(o)) return NATS_ERR_CONNECT_PARSE;
  ClientConnectOpts *co = &c->opts;
  co->verbose = json_get_bool(o, "verbose", co->verbose);
  co->pedantic = json_get_bool(o, "pedantic", co->pedantic);
  co->tls_required = json_get_bool(o, "tls_required", co->tls_required);
  co->echo = json_get_bool(o, "echo", co->echo);
  co->headers = json_get_bool(o, "headers", co->headers);
  co->no_responders = json_get_bool(o, "no_responders", co->no_responders);
  JsonNode *proto = json_member_ci(o, "protocol");
  if (proto && JSON_NODE_TYPE(proto) == JSON_NODE_VALUE && json_node_get_value_type(proto) == G_TYPE_INT64)
    co->protocol = (int)json_node_get_int(proto);
  g_free(co->name), co->name = json_dup_string(o, "name");
  g_free(co->lang), co->lang = json_dup_string(o, "lang");
  g_free(co->version), co->version = json_dup_string(o, "version");
  g_free(co->user), co->user = json_dup_string(o, "user");
  g_free(co->pass), co->pass = json_dup_string(o, "pass");
  g_autofree char *account = json_dup_string(o, "account");
  co->account_requested = (account && *account) || json_get_bool(o, "new_account", false);
  g_free(co->auth_token), co->auth_token = json_dup_string(o, "auth_token");
  g_free(co->jwt), co->jwt = json_dup_string(o, "jwt");
  g_free(co->nkey), co->nkey = json_dup_string(o, "nkey");
  g_free(co->sig), co->sig = json_dup_string(o, "sig");

  c->connect_received = true;
  c->last_activity = loop_now(s->loop);
  /* Go's first RTT estimate: accept to CONNECT. */
  c->rtt_us = MAX(g_get_real_time() - c->start_time_real, 1);
  c->headers = !s->opts->no_header_support && co->headers;
  c->parser.headers = c->headers;
  loop_timer_stop(s->loop, &c->ping_timer);
  client_arm_first_ping(c);

  NatsError auth_err = (NatsError)auth_client_connect(c);
  if (auth_err != NATS_OK) return auth_err;
  if (co->protocol < 0 || co->protocol > 1) return NATS_ERR_BAD_CLIENT_PROTOCOL;
  if (co->no_responders && !c->headers) return NATS_ERR_NO_RESPONDERS_REQUIRES_HEADERS;
  if (co->verbose) client_send_ok(c);
  if (s->events) events_client_connect(c);
  return NATS_OK;
}

static NatsError on_info(void *ctx, const char *json, size_t len) {
  /* Clients may send INFO; nats-server ignores it for client connections. */
  return NATS_OK;
}

static NatsError on_pub_args(void *ctx, const ParserPub *pub) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  if (log_trace_enabled) {
    if (pub->hdr_len >= 0)
      log_trace(CLIENT_LOG_FMT "<<- [HPUB %.*s%s%.*s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "]", CLIENT_LOG_ARGS(c),
                (int)pub->subject_len, pub->subject, pub->reply_len ? " " : "", (int)pub->reply_len,
                pub->reply ? pub->reply : "", pub->hdr_len, pub->total_len);
    else
      log_trace(CLIENT_LOG_FMT "<<- [PUB %.*s%s%.*s %" G_GINT64_FORMAT "]", CLIENT_LOG_ARGS(c),
                (int)pub->subject_len, pub->subject, pub->reply_len ? " " : "", (int)pub->reply_len,
                pub->reply ? pub->reply : "", pub->total_len);
  }
  /* In pedantic mode nats-server reports a bad publish subject but still
   * reads (and routes) the message. */
  if (c->opts.pedantic && !subject_is_valid_literal(pub->subject, pub->subject_len))
    client_send_err(c, errors_text(NATS_ERR_INVALID_PUBLISH_SUBJECT));
  return NATS_OK;
}

/* "<<- MSG_PAYLOAD: [%q]" as nats-server traces it; with max_traced_msg_len
 * the quoted text is cut to that many characters and "..." appended. */
static void client_trace_payload(Client *c, const char *payload, size_t len) {
  int64_t max = c->srv->opts->max_traced_msg_len;
  bool cut = max > 0 && len > (size_t)max;
  size_t n = cut ? (size_t)max : len;
  size_t need = errors_quote(payload, n, NULL, 0) + 1;
  g_autofree char *q = g_malloc(need);
  errors_quote(payload, n, q, need);
  if (cut) {
    size_t inner = strlen(q) - 2;  /* without the quotes */
    log_trace(CLIENT_LOG_FMT "<<- MSG_PAYLOAD: [\"%.*s...\"]", CLIENT_LOG_ARGS(c), (int)MIN(inner, (size_t)max), q + 1);
  } else {
    log_trace(CLIENT_LOG_FMT "<<- MSG_PAYLOAD: [%s]", CLIENT_LOG_ARGS(c), q);
  }
}

static NatsError on_msg(void *ctx, const ParserPub *pub, const char *payload) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  Server *s = c->srv;
  /* Account mappings rewrite the subject before anything else looks at it
   * (Go does it as the message completes, so permissions see the result). */
  ParserPub mapped;
  char map_buf[256];
  g_autofree char *map_heap = NULL;
  if (G_UNLIKELY(c->acc->mappings != NULL)) {
    const SubjectTransform *tr;
    if (account_select_mapping(c->acc, pub->subject, pub->subject_len, &tr)) {
      mapped = *pub;
      size_t n = tr ? subject_transform_apply(tr, pub->subject, pub->subject_len, map_buf, sizeof map_buf) : 0;
      mapped.subject = map_buf;
      if (n > sizeof map_buf) {
        mapped.subject = map_heap = g_malloc(n);
        subject_transform_apply(tr, pub->subject, pub->subject_len, map_heap, n);
      }
      mapped.subject_len = n;
      if (log_trace_enabled)
        log_trace(CLIENT_LOG_FMT "<<- [MAPPING %.*s -> %.*s]", CLIENT_LOG_ARGS(c), (int)pub->subject_len, pub->subject,
                  (int)n, mapped.subject);
      pub = &mapped;
    }
  }
  if (log_trace_enabled)
    client_trace_payload(c, payload, (size_t)pub->total_len);
  c->in_msgs++;
  c->in_bytes += (uint64_t)pub->total_len;
  s->in_msgs++;
  s->in_bytes += (uint64_t)pub->total_len;
  c->acc->in_msgs++;
  c->acc->in_bytes += (uint64_t)pub->total_len;
  c->last_activity = loop_now(s->loop);
  if (!auth_client_check_publish(c, pub->subject, pub->subject_len, pub->reply, pub->reply_len)) return NATS_OK;
  /* nats-server acknowledges before it delivers. */
  if (c->opts.verbose) client_send_ok(c);
  client_process_msg(c, pub, payload);
  return c->state == CLIENT_OPEN ? NATS_OK : NATS_ERR_CLIENT_CLOSED;
}

static NatsError on_sub(void *ctx, const char *subject, size_t subject_len, const char *queue, size_t queue_len,
                        const char *sid, size_t sid_len) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  Server *s = c->srv;
  if (log_trace_enabled)
    log_trace(CLIENT_LOG_FMT "<<- [SUB %.*s%s%.*s %.*s]", CLIENT_LOG_ARGS(c), (int)subject_len, subject,
              queue_len ? " " : "", (int)queue_len, queue ? queue : "", (int)sid_len, sid);
  c->last_activity = loop_now(s->loop);
  if ((c->auth || s->opts->max_sub_tokens > 0) && !auth_client_check_subscribe(c, subject, subject_len, queue, queue_len, sid, sid_len)) return NATS_OK;
  if (!subject_is_valid(subject, subject_len) || (queue_len && !subject_is_valid_queue(queue, queue_len))) {
    client_send_err(c, errors_text(NATS_ERR_INVALID_SUBJECT));
    return NATS_OK;
  }
  int64_t max_subs = auth_client_max_subs(c);
  if (max_subs >= 0 && g_hash_table_size(c->subs) >= (guint64)max_subs) {
    /* nats-server refuses this SUB only: the connection and the parse go on. */
    log_error(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), errors_text(NATS_ERR_MAX_SUBSCRIPTIONS));
    client_send_err(c, errors_text(NATS_ERR_MAX_SUBSCRIPTIONS));
    return NATS_OK;
  }
  char sid_key[256];
  if (sid_len < sizeof sid_key) {
    memcpy(sid_key, sid, sid_len);
    sid_key[sid_len] = '\0';
    if (g_hash_table_contains(c->subs, sid_key)) {
      /* nats-server keeps the first subscription for a repeated sid */
      if (c->opts.verbose) client_send_ok(c);
      return NATS_OK;
    }
  }
  Subscription *sub = subscription_new(c, subject, subject_len, queue, queue_len, sid, sid_len);
  if (g_hash_table_contains(c->subs, sub->sid)) {
    subscription_unref(sub);
    if (c->opts.verbose) client_send_ok(c);
    return NATS_OK;
  }
  if (sublist_insert(c->acc->sublist, sub) != 0) {
    subscription_unref(sub);
    client_send_err(c, errors_text(NATS_ERR_INVALID_SUBJECT));
    return NATS_OK;
  }
  g_hash_table_insert(c->subs, sub->sid, sub);
  if (c->acc->stream_imports) accounts_import_sub_added(c->acc, sub);
  if (c->opts.verbose) client_send_ok(c);
  return NATS_OK;
}

void client_remove_sub(Client *c, Subscription *sub) {
  if (g_hash_table_lookup(c->subs, sub->sid) != sub) return;
  if (!sub->closed) sublist_remove(c->acc->sublist, sub);
  sub->closed = true;
  if (sub->nshadow) accounts_import_sub_removed(sub);  /* its stream import copies go too */
  log_trace(CLIENT_LOG_FMT "<-> [DELSUB %s]", CLIENT_LOG_ARGS(c), sub->sid);
  g_hash_table_steal(c->subs, sub->sid);
  subscription_unref(sub);
}

static NatsError on_unsub(void *ctx, const char *sid, size_t sid_len, int64_t max) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  if (log_trace_enabled) {
    if (max > 0)
      log_trace(CLIENT_LOG_FMT "<<- [UNSUB %.*s %" G_GINT64_FORMAT "]", CLIENT_LOG_ARGS(c), (int)sid_len, sid, max);
    else
      log_trace(CLIENT_LOG_FMT "<<- [UNSUB %.*s]", CLIENT_LOG_ARGS(c), (int)sid_len, sid);
  }
  c->last_activity = loop_now(c->srv->loop);
  g_autofree char *key = g_strndup(sid, sid_len);
  Subscription *sub = g_hash_table_lookup(c->subs, key);
  if (sub) {
    if (max > 0 && sub->delivered < max) {
      sub->max = max;
    } else {
      sublist_remove(c->acc->sublist, sub);
      sub->closed = true;
      if (sub->nshadow) accounts_import_sub_removed(sub);
      if (G_UNLIKELY(c->acc->rr_map != NULL)) accounts_import_check_reply_interest(c->acc, sub->subject);
      log_trace(CLIENT_LOG_FMT "<-> [DELSUB %s]", CLIENT_LOG_ARGS(c), sub->sid);
      g_hash_table_steal(c->subs, sub->sid);
      subscription_unref(sub);
    }
  }
  if (c->opts.verbose) client_send_ok(c);
  return NATS_OK;
}

static NatsError on_ping(void *ctx) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  log_trace(CLIENT_LOG_FMT "<<- [PING]", CLIENT_LOG_ARGS(c));
  log_trace(CLIENT_LOG_FMT "->> [PONG]", CLIENT_LOG_ARGS(c));
  c->last_ping_in = loop_now(c->srv->loop);
  client_queue_outbound(c, "PONG\r\n", 6);
  /* Go's processPing: after the first PONG, an INFO when the client's max
   * payload (account or user limits) differs from the server's. */
  if (!c->first_pong_sent && c->connect_received && c->opts.protocol >= 1 &&
      c->parser.max_payload != c->srv->opts->max_payload)
    client_send_info(c, false);
  c->first_pong_sent = true;
  return NATS_OK;
}

static NatsError on_pong(void *ctx) {
  Client *c = ctx;
  RETURN_IF_CLOSED(c);
  log_trace(CLIENT_LOG_FMT "<<- [PONG]", CLIENT_LOG_ARGS(c));
  c->pings_out = 0;
  if (c->rtt_start) c->rtt_us = MAX(loop_now(c->srv->loop) - c->rtt_start, 1);
  return NATS_OK;
}

static NatsError on_ok(void *ctx) { return NATS_OK; }

static NatsError on_op_before_connect(void *ctx) {
  return (NatsError)auth_client_op_before_connect(ctx);
}

static NatsError on_err(void *ctx, const char *msg, size_t len) {
  Client *c = ctx;
  log_error(CLIENT_LOG_FMT "Client Error %.*s", CLIENT_LOG_ARGS(c), (int)len, msg);
  return NATS_ERR_CLIENT_SENT_ERR;
}

static const ParserCallbacks client_parser_callbacks = {
    .on_pub_args = on_pub_args,
    .on_msg = on_msg,
    .on_sub = on_sub,
    .on_unsub = on_unsub,
    .on_connect = on_connect,
    .on_info = on_info,
    .on_ping = on_ping,
    .on_pong = on_pong,
    .on_ok = on_ok,
    .on_err = on_err,
    .on_op_before_connect = on_op_before_connect,
};

/* ---- read path ----------------------------------------------------------- */

static void client_handle_error(Client *c, NatsError err) {
  if (err == NATS_OK || err == NATS_ERR_CLIENT_CLOSED) return;
  const char *text = errors_text(err);
  if (text) client_send_err(c, text);
  if (errors_closes(err)) {
    /* nats-server logs the error of a closing protocol violation, except
     * max payload and auth, which were logged where they happened. */
    if (err != NATS_ERR_MAX_PAYLOAD && err != NATS_ERR_AUTH_VIOLATION && err != NATS_ERR_AUTH_TIMEOUT) {
      if (c->parser.err_what && strcmp(c->parser.err_what, "callback") != 0)
        log_error(CLIENT_LOG_FMT "%s: %.*s", CLIENT_LOG_ARGS(c), c->parser.err_what, (int)c->parser.err_arg_len,
                  c->parser.err_arg ? c->parser.err_arg : "");
      else if (text)
        log_error(CLIENT_LOG_FMT "%s", CLIENT_LOG_ARGS(c), text);
    }
    client_close(c, errors_closed_state(err));
  }
}

static void client_read(Client *c) {
  Server *s = c->srv;
  for (int i = 0; c->state == CLIENT_OPEN; i++) {
    ssize_t n;
    if (G_LIKELY(!c->tls)) {
      if (i >= CLIENT_MAX_READS_PER_DISPATCH) return;
      n = read(c->fd, s->read_buf, s->read_buf_cap);
    } else {
      /* Records GnuTLS already holds are invisible to epoll: drain them
       * even past the per-dispatch cap (at most one record each). */
      if (i >= CLIENT_MAX_READS_PER_DISPATCH && tls_conn_pending(c->tls) == 0) return;
      n = tls_conn_recv(c->tls, s->read_buf, s->read_buf_cap);
    }
    if (n == 0) {
      client_close(c, CLOSED_CLIENT_CLOSED);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      /* nats-server: EOF is "Client Closed", any read error (reset included) "Read Error" */
      client_close(c, CLOSED_READ_ERROR);
      return;
    }
    NatsError err = parser_parse(&c->parser, s->read_buf, (size_t)n, &client_parser_callbacks, c);
    if (err != NATS_OK) {
      client_handle_error(c, err);
      return;
    }
    /* drained the socket (one TLS record is always short of the buffer) */
    if ((size_t)n < s->read_buf_cap && !c->tls) return;
  }
}

static void client_on_io(void *data, uint32_t events) {
  Client *c = data;
  if (c->state == CLIENT_CLOSED) return;
  if (G_UNLIKELY(c->tls_state == CLIENT_TLS_PEEK || c->tls_state == CLIENT_TLS_HANDSHAKE)) {
    if ((events & EPOLLOUT) && c->out.pending) client_flush(c);  /* INFO still going out */
    if (c->state != CLIENT_OPEN) return;
    if (c->tls_state == CLIENT_TLS_PEEK) {
      if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) client_tls_peek(c);
    } else if (c->out.pending == 0) {
      client_tls_handshake(c);
    }
    return;
  }
  if (events & EPOLLOUT) client_flush(c);
  if (c->state == CLIENT_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) client_read(c);
}

/* ---- timers -------------------------------------------------------------- */

static void client_ping_timer_fired(void *data) {
  Client *c = data;
  Server *s = c->srv;
  if (c->state != CLIENT_OPEN) return;
  int64_t now = loop_now(s->loop);
  int64_t interval = s->opts->ping_interval_us;
  /* Like nats-server: recent traffic or a PING from the client proves the
   * connection is alive, so no PING is needed this round. */
  /* ...except that a PING is always due when no RTT was measured in the last
   * hour (so the very first timer always sends one). */
  bool need_rtt = c->rtt_start == 0 || now - c->rtt_start > RTT_MEASUREMENT_INTERVAL_US;
  bool recent_activity = c->last_activity && now - c->last_activity < interval;
  bool recent_ping = c->last_ping_in && now - c->last_ping_in < interval;
  if (recent_activity && !need_rtt) {
    log_debug(CLIENT_LOG_FMT "Delaying PING due to client activity %" G_GINT64_FORMAT "s ago", CLIENT_LOG_ARGS(c),
              (now - c->last_activity + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);
  } else if (recent_ping && !need_rtt) {
    log_debug(CLIENT_LOG_FMT "Delaying PING due to remote ping %" G_GINT64_FORMAT "s ago", CLIENT_LOG_ARGS(c),
              (now - c->last_ping_in + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC);
  } else {
    if (c->pings_out + 1 > s->opts->max_pings_out) {
      log_debug(CLIENT_LOG_FMT "Stale Client Connection - Closing", CLIENT_LOG_ARGS(c));
      client_send_err(c, errors_text(NATS_ERR_STALE_CONNECTION));
      client_close(c, errors_closed_state(NATS_ERR_STALE_CONNECTION));
      return;
    }
    c->pings_out++;
    c->rtt_start = now;
    log_trace(CLIENT_LOG_FMT "->> [PING]", CLIENT_LOG_ARGS(c));
    client_queue_outbound(c, "PING\r\n", 6);
  }
  loop_timer_start(s->loop, &c->ping_timer, now + interval, client_ping_timer_fired, c);
}
