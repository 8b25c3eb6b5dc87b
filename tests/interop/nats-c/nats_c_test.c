/* nats_c_test: the official nats.c client (libnats 3.x) against the server in
 * NATS_SERVER_BIN (cnatsd or nats-server).
 *
 * Runs in the g_test main thread; libnats adds its own reader/callback threads,
 * so state shared with callbacks goes through Waiter (mutex + cond). Every test
 * gets a fresh server on a free port (fixture setup), so tests are independent
 * and can be compared one by one with the nats-go and nats-js suites, which run
 * the same scenario list.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <nats/nats.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "interop_server.h"

#define MAX_PAYLOAD 1048576

typedef struct {
  InteropServer *srv; /* owned */
} Fix;

static void
fix_setup(Fix *f, gconstpointer data)
{
  char *err = NULL;
  f->srv = interop_server_start(-1, &err);
  if (!f->srv)
    g_error("cannot start %s: %s", interop_server_bin(), err);
  g_test_message("server %s pid %d at %s (log %s)", f->srv->bin, (int)f->srv->pid,
                 f->srv->url, f->srv->log_path);
}

static void
fix_teardown(Fix *f, gconstpointer data)
{
  interop_server_free(f->srv);
}

#define CHECK(call)                                                         \
  do {                                                                      \
    natsStatus s_ = (call);                                                 \
    if (s_ != NATS_OK)                                                      \
      g_error("%s:%d: %s -> %s (%s)", __FILE__, __LINE__, #call,            \
              natsStatus_GetText(s_), nats_GetLastError(NULL) ?: "");       \
  } while (0)

/* ---- callback plumbing ---- */

typedef struct {
  GMutex mu;
  GCond cond;
  int count;      /* events or messages seen */
  GPtrArray *seen; /* owned: g_strdup'd payloads or reply subjects */
  int sleep_us;   /* handler delay (drain tests) */
} Waiter;

/* nats.c runs connection and message callbacks on its own threads and may
 * still deliver one (e.g. "disconnected" during natsConnection_Destroy) after
 * the call that ends a test has returned. Waiters therefore live until
 * nats_CloseAndWait() at exit; all_waiters owns them. */
static GPtrArray *all_waiters;

static void waiter_free(Waiter *w);

static Waiter *
waiter_new(void)
{
  Waiter *w = g_new0(Waiter, 1);
  g_ptr_array_add(all_waiters, w);
  g_mutex_init(&w->mu);
  g_cond_init(&w->cond);
  w->seen = g_ptr_array_new_with_free_func(g_free);
  return w;
}

static void
waiter_free(Waiter *w)
{
  g_mutex_clear(&w->mu);
  g_cond_clear(&w->cond);
  g_ptr_array_unref(w->seen);
  g_free(w);
}

static void
waiter_bump(Waiter *w, char *item /* transfer full, nullable */)
{
  g_mutex_lock(&w->mu);
  w->count++;
  if (item)
    g_ptr_array_add(w->seen, item);
  g_cond_broadcast(&w->cond);
  g_mutex_unlock(&w->mu);
}

/* Wait until count >= n; returns the count reached. */
static int
waiter_wait(Waiter *w, int n, int timeout_ms)
{
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  g_mutex_lock(&w->mu);
  while (w->count < n)
    if (!g_cond_wait_until(&w->cond, &w->mu, end))
      break;
  int c = w->count;
  g_mutex_unlock(&w->mu);
  return c;
}

static int
waiter_count(Waiter *w)
{
  g_mutex_lock(&w->mu);
  int c = w->count;
  g_mutex_unlock(&w->mu);
  return c;
}

static void
on_conn_event(natsConnection *nc, void *closure)
{
  waiter_bump(closure, NULL);
}

static void
on_msg_count(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
  Waiter *w = closure;
  if (w->sleep_us)
    g_usleep(w->sleep_us);
  waiter_bump(w, g_strndup(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
}

static void
on_err_quiet(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
  /* Async errors (e.g. the server closing us) are checked by the tests. */
}

static natsConnection *
connect_opts(Fix *f, natsOptions *opts)
{
  natsConnection *nc = NULL;
  CHECK(natsOptions_SetURL(opts, f->srv->url));
  CHECK(natsOptions_SetErrorHandler(opts, on_err_quiet, NULL));
  CHECK(natsConnection_Connect(&nc, opts));
  return nc;
}

static natsConnection *
connect_default(Fix *f)
{
  natsOptions *opts = NULL;
  CHECK(natsOptions_Create(&opts));
  natsConnection *nc = connect_opts(f, opts);
  natsOptions_Destroy(opts);
  return nc;
}

static natsMsg *
next_msg(natsSubscription *sub, int timeout_ms)
{
  natsMsg *m = NULL;
  natsStatus s = natsSubscription_NextMsg(&m, sub, timeout_ms);
  if (s != NATS_OK)
    g_error("NextMsg on %s: %s", natsSubscription_GetSubject(sub), natsStatus_GetText(s));
  return m;
}

static void
expect_no_msg(natsSubscription *sub, int timeout_ms)
{
  natsMsg *m = NULL;
  natsStatus s = natsSubscription_NextMsg(&m, sub, timeout_ms);
  if (s == NATS_OK)
    g_error("unexpected message on %s: subject %s", natsSubscription_GetSubject(sub),
            natsMsg_GetSubject(m));
  g_assert_cmpint(s, ==, NATS_TIMEOUT);
}

/* ---- scenarios ---- */

static void
test_connect_info(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  char id[256] = "";
  CHECK(natsConnection_GetConnectedServerId(nc, id, sizeof id));
  g_assert_cmpuint(strlen(id), >, 0);
  g_assert_cmpint(natsConnection_GetMaxPayload(nc), ==, MAX_PAYLOAD);
  g_assert_true(natsConnection_HasHeaderSupport(nc) == NATS_OK);
  char url[256] = "";
  CHECK(natsConnection_GetConnectedUrl(nc, url, sizeof url));
  g_assert_cmpstr(url, ==, f->srv->url);
  natsConnection_Destroy(nc);

  /* nats.c does not expose the INFO version: read it off the wire. */
  int fd = interop_raw_connect(f->srv->port, 0);
  g_assert_cmpint(fd, >=, 0);
  g_autofree char *line = interop_raw_read_line(fd, 5000);
  close(fd);
  g_assert_nonnull(line);
  g_assert_true(g_str_has_prefix(line, "INFO "));
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, line + 5, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  g_assert_cmpstr(json_object_get_string_member(o, "server_id"), ==, id);
  const char *ver = json_object_get_string_member(o, "version");
  g_assert_nonnull(ver);
  g_assert_cmpuint(strlen(ver), >, 0);
  g_assert_cmpint(json_object_get_int_member(o, "max_payload"), ==, MAX_PAYLOAD);
  g_assert_true(json_object_get_boolean_member(o, "headers"));
  g_assert_cmpint(json_object_get_int_member(o, "proto"), ==, 1);
}

static void
test_pub_sub(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsConnection *pc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "greet.joe"));
  CHECK(natsConnection_Flush(nc));
  CHECK(natsConnection_PublishString(pc, "greet.joe", "hello"));
  CHECK(natsConnection_PublishRequestString(pc, "greet.joe", "reply.here", "with reply"));
  CHECK(natsConnection_PublishString(pc, "greet.sam", "not for joe"));
  CHECK(natsConnection_Publish(pc, "greet.joe", NULL, 0));
  CHECK(natsConnection_Flush(pc));

  natsMsg *m = next_msg(sub, 2000);
  g_assert_cmpstr(natsMsg_GetSubject(m), ==, "greet.joe");
  g_assert_cmpstr(natsMsg_GetData(m), ==, "hello");
  g_assert_null(natsMsg_GetReply(m));
  natsMsg_Destroy(m);
  m = next_msg(sub, 2000);
  g_assert_cmpstr(natsMsg_GetReply(m), ==, "reply.here");
  g_assert_cmpstr(natsMsg_GetData(m), ==, "with reply");
  natsMsg_Destroy(m);
  m = next_msg(sub, 2000);
  g_assert_cmpint(natsMsg_GetDataLength(m), ==, 0);
  natsMsg_Destroy(m);
  expect_no_msg(sub, 100);

  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(nc);
}

static void
test_wildcards(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsSubscription *star = NULL, *gt = NULL, *mid = NULL;
  CHECK(natsConnection_SubscribeSync(&star, nc, "w.*"));
  CHECK(natsConnection_SubscribeSync(&gt, nc, "w.>"));
  CHECK(natsConnection_SubscribeSync(&mid, nc, "w.*.end"));
  CHECK(natsConnection_Flush(nc));
  const char *subjects[] = {"w.a", "w.a.b", "w.x.end", "w", "x.a", "w.a.b.end"};
  for (guint i = 0; i < G_N_ELEMENTS(subjects); i++)
    CHECK(natsConnection_PublishString(nc, subjects[i], subjects[i]));
  CHECK(natsConnection_Flush(nc));

  natsMsg *m = next_msg(star, 2000);
  g_assert_cmpstr(natsMsg_GetSubject(m), ==, "w.a");
  natsMsg_Destroy(m);
  expect_no_msg(star, 100);

  const char *want_gt[] = {"w.a", "w.a.b", "w.x.end", "w.a.b.end"};
  for (guint i = 0; i < G_N_ELEMENTS(want_gt); i++) {
    m = next_msg(gt, 2000);
    g_assert_cmpstr(natsMsg_GetSubject(m), ==, want_gt[i]);
    natsMsg_Destroy(m);
  }
  expect_no_msg(gt, 100);

  m = next_msg(mid, 2000);
  g_assert_cmpstr(natsMsg_GetSubject(m), ==, "w.x.end");
  natsMsg_Destroy(m);
  expect_no_msg(mid, 100);

  natsSubscription_Destroy(star);
  natsSubscription_Destroy(gt);
  natsSubscription_Destroy(mid);
  natsConnection_Destroy(nc);
}

static void
test_queue_groups(Fix *f, gconstpointer data)
{
  enum { MEMBERS = 3, N = 300 };
  natsConnection *conns[MEMBERS];
  natsSubscription *subs[MEMBERS];
  Waiter *w[MEMBERS];
  for (int i = 0; i < MEMBERS; i++) {
    conns[i] = connect_default(f);
    w[i] = waiter_new();
    CHECK(natsConnection_QueueSubscribe(&subs[i], conns[i], "q.work", "workers",
                                        on_msg_count, w[i]));
    CHECK(natsConnection_Flush(conns[i]));
  }
  /* A plain subscriber on the same subject gets every message as well. */
  natsConnection *pc = connect_default(f);
  natsSubscription *all = NULL;
  Waiter *wall = waiter_new();
  CHECK(natsConnection_Subscribe(&all, pc, "q.work", on_msg_count, wall));
  CHECK(natsConnection_Flush(pc));
  for (int i = 0; i < N; i++) {
    char buf[16];
    g_snprintf(buf, sizeof buf, "%d", i);
    CHECK(natsConnection_PublishString(pc, "q.work", buf));
  }
  CHECK(natsConnection_Flush(pc));
  g_assert_cmpint(waiter_wait(wall, N, 5000), ==, N);

  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  int total = 0;
  while (g_get_monotonic_time() < end) {
    total = 0;
    for (int i = 0; i < MEMBERS; i++)
      total += waiter_count(w[i]);
    if (total >= N)
      break;
    g_usleep(10000);
  }
  g_usleep(100000); /* let any duplicate arrive before counting */
  g_autoptr(GHashTable) uniq = g_hash_table_new(g_str_hash, g_str_equal);
  total = 0;
  for (int i = 0; i < MEMBERS; i++) {
    natsSubscription_Unsubscribe(subs[i]);
    g_mutex_lock(&w[i]->mu);
    g_assert_cmpint(w[i]->count, >, 0); /* spread: every member got some */
    total += w[i]->count;
    for (guint k = 0; k < w[i]->seen->len; k++)
      g_hash_table_add(uniq, g_ptr_array_index(w[i]->seen, k));
    g_mutex_unlock(&w[i]->mu);
  }
  g_assert_cmpint(total, ==, N);                           /* each delivered once */
  g_assert_cmpint(g_hash_table_size(uniq), ==, N);

  for (int i = 0; i < MEMBERS; i++) {
    natsSubscription_Destroy(subs[i]);
    natsConnection_Destroy(conns[i]);
  }
  natsSubscription_Destroy(all);
  natsConnection_Destroy(pc);
}

static void
on_request_echo(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
  Waiter *w = closure;
  const char *reply = natsMsg_GetReply(msg);
  if (reply) {
    g_autofree char *ans = g_strdup_printf("re:%.*s", natsMsg_GetDataLength(msg),
                                           natsMsg_GetData(msg));
    natsConnection_PublishString(nc, reply, ans);
    waiter_bump(w, g_strdup(reply));
  }
  natsMsg_Destroy(msg);
}

static void
test_request_reply(Fix *f, gconstpointer data)
{
  natsConnection *rc = connect_default(f);
  Waiter *w = waiter_new();
  natsSubscription *sub = NULL;
  CHECK(natsConnection_Subscribe(&sub, rc, "svc.echo", on_request_echo, w));
  CHECK(natsConnection_Flush(rc));

  natsConnection *nc = connect_default(f);
  for (int i = 0; i < 5; i++) {
    natsMsg *reply = NULL;
    g_autofree char *q = g_strdup_printf("q%d", i);
    CHECK(natsConnection_RequestString(&reply, nc, "svc.echo", q, 2000));
    g_autofree char *want = g_strdup_printf("re:q%d", i);
    g_assert_cmpstr(natsMsg_GetData(reply), ==, want);
    natsMsg_Destroy(reply);
  }
  /* Muxed inbox: one wildcard subscription, so all replies share a prefix
   * `_INBOX.<id>.` and differ only in the last token. */
  g_mutex_lock(&w->mu);
  g_assert_cmpuint(w->seen->len, ==, 5);
  const char *first = g_ptr_array_index(w->seen, 0);
  g_assert_true(g_str_has_prefix(first, "_INBOX."));
  const char *dot = strrchr(first, '.');
  g_autofree char *prefix = g_strndup(first, dot - first + 1);
  g_assert_cmpuint(strlen(prefix), >, strlen("_INBOX."));
  g_autoptr(GHashTable) uniq = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < w->seen->len; i++) {
    const char *r = g_ptr_array_index(w->seen, i);
    g_assert_true(g_str_has_prefix(r, prefix));
    g_hash_table_add(uniq, (gpointer)r);
  }
  g_assert_cmpuint(g_hash_table_size(uniq), ==, 5);
  g_mutex_unlock(&w->mu);

  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  natsConnection_Destroy(rc);
}

static void
test_headers(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "hdr"));
  CHECK(natsConnection_Flush(nc));

  natsMsg *out = NULL;
  CHECK(natsMsg_Create(&out, "hdr", "hdr.reply", "body", 4));
  CHECK(natsMsgHeader_Set(out, "X-Single", "one"));
  CHECK(natsMsgHeader_Add(out, "X-Multi", "a"));
  CHECK(natsMsgHeader_Add(out, "X-Multi", "b"));
  CHECK(natsMsgHeader_Add(out, "X-Multi", "c d"));
  CHECK(natsConnection_PublishMsg(nc, out));
  natsMsg_Destroy(out);
  /* Headers with an empty body. */
  CHECK(natsMsg_Create(&out, "hdr", NULL, NULL, 0));
  CHECK(natsMsgHeader_Set(out, "Only", "header"));
  CHECK(natsConnection_PublishMsg(nc, out));
  natsMsg_Destroy(out);

  natsMsg *m = next_msg(sub, 2000);
  g_assert_cmpstr(natsMsg_GetData(m), ==, "body");
  g_assert_cmpstr(natsMsg_GetReply(m), ==, "hdr.reply");
  const char *v = NULL;
  CHECK(natsMsgHeader_Get(m, "X-Single", &v));
  g_assert_cmpstr(v, ==, "one");
  const char **vals = NULL;
  int n = 0;
  CHECK(natsMsgHeader_Values(m, "X-Multi", &vals, &n));
  g_assert_cmpint(n, ==, 3);
  g_assert_cmpstr(vals[0], ==, "a");
  g_assert_cmpstr(vals[1], ==, "b");
  g_assert_cmpstr(vals[2], ==, "c d");
  free(vals);
  g_assert_cmpint(natsMsgHeader_Get(m, "Absent", &v), ==, NATS_NOT_FOUND);
  natsMsg_Destroy(m);

  m = next_msg(sub, 2000);
  g_assert_cmpint(natsMsg_GetDataLength(m), ==, 0);
  CHECK(natsMsgHeader_Get(m, "Only", &v));
  g_assert_cmpstr(v, ==, "header");
  natsMsg_Destroy(m);

  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
}

static void
test_no_responders(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsMsg *reply = NULL;
  gint64 t0 = g_get_monotonic_time();
  natsStatus s = natsConnection_RequestString(&reply, nc, "nobody.home", "?", 5000);
  gint64 dt = g_get_monotonic_time() - t0;
  g_assert_cmpint(s, ==, NATS_NO_RESPONDERS);
  g_assert_null(reply);
  g_assert_cmpint(dt, <, G_USEC_PER_SEC); /* the server answered, no timeout */
  natsConnection_Destroy(nc);
}

static void
test_auto_unsubscribe(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  Waiter *w = waiter_new(), *wctl = waiter_new();
  natsSubscription *sub = NULL, *ctl = NULL;
  CHECK(natsConnection_Subscribe(&sub, nc, "au", on_msg_count, w));
  CHECK(natsSubscription_AutoUnsubscribe(sub, 5));
  CHECK(natsConnection_Subscribe(&ctl, nc, "au", on_msg_count, wctl));
  CHECK(natsConnection_Flush(nc));
  for (int i = 0; i < 12; i++)
    CHECK(natsConnection_PublishString(nc, "au", "x"));
  CHECK(natsConnection_Flush(nc));
  g_assert_cmpint(waiter_wait(wctl, 12, 3000), ==, 12);
  g_usleep(100000);
  g_assert_cmpint(waiter_count(w), ==, 5);
  g_assert_false(natsSubscription_IsValid(sub));
  natsSubscription_Destroy(sub);
  natsSubscription_Destroy(ctl);
  natsConnection_Destroy(nc);
}

static void
test_drain_subscription(Fix *f, gconstpointer data)
{
  enum { N = 50 };
  natsConnection *nc = connect_default(f);
  natsConnection *pc = connect_default(f);
  Waiter *w = waiter_new();
  w->sleep_us = 2000; /* messages are still queued when the drain starts */
  natsSubscription *sub = NULL;
  CHECK(natsConnection_Subscribe(&sub, nc, "drain.s", on_msg_count, w));
  CHECK(natsConnection_Flush(nc));
  for (int i = 0; i < N; i++)
    CHECK(natsConnection_PublishString(pc, "drain.s", "m"));
  CHECK(natsConnection_Flush(pc));
  /* Make sure the server has delivered them all to nc before draining. */
  CHECK(natsConnection_Flush(nc));
  CHECK(natsSubscription_Drain(sub));
  CHECK(natsSubscription_WaitForDrainCompletion(sub, 5000));
  g_assert_cmpint(natsSubscription_DrainCompletionStatus(sub), ==, NATS_OK);
  g_assert_cmpint(waiter_count(w), ==, N);
  /* Unsubscribed at the server: new messages are not delivered. */
  CHECK(natsConnection_PublishString(pc, "drain.s", "late"));
  CHECK(natsConnection_Flush(pc));
  g_usleep(100000);
  g_assert_cmpint(waiter_count(w), ==, N);
  g_assert_cmpint(natsConnection_Status(nc), ==, NATS_CONN_STATUS_CONNECTED);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(nc);
}

static void
test_drain_connection(Fix *f, gconstpointer data)
{
  enum { N = 50 };
  Waiter *closed = waiter_new(), *w = waiter_new();
  w->sleep_us = 2000;
  natsOptions *opts = NULL;
  CHECK(natsOptions_Create(&opts));
  CHECK(natsOptions_SetClosedCB(opts, on_conn_event, closed));
  natsConnection *nc = connect_opts(f, opts);
  natsOptions_Destroy(opts);
  natsConnection *pc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_Subscribe(&sub, nc, "drain.c", on_msg_count, w));
  CHECK(natsConnection_Flush(nc));
  for (int i = 0; i < N; i++)
    CHECK(natsConnection_PublishString(pc, "drain.c", "m"));
  CHECK(natsConnection_Flush(pc));
  CHECK(natsConnection_Flush(nc));
  CHECK(natsConnection_DrainTimeout(nc, 5000));
  g_assert_cmpint(waiter_wait(closed, 1, 5000), ==, 1);
  g_assert_cmpint(waiter_count(w), ==, N);
  g_assert_true(natsConnection_IsClosed(nc));
  /* The publisher's connection and the server are unaffected. */
  CHECK(natsConnection_FlushTimeout(pc, 2000));
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  natsConnection_Destroy(pc);
}

static void
test_flush_ping(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  for (int i = 0; i < 20; i++)
    CHECK(natsConnection_FlushTimeout(nc, 2000));
  int64_t rtt = -1;
  CHECK(natsConnection_GetRTT(nc, &rtt));
  g_assert_cmpint(rtt, >, 0);
  g_assert_cmpint(rtt, <, 1000LL * 1000 * 1000); /* ns, < 1 s on loopback */
  natsConnection_Destroy(nc);
}

static void
test_reconnect(Fix *f, gconstpointer data)
{
  Waiter *disc = waiter_new(), *reco = waiter_new();
  natsOptions *opts = NULL;
  CHECK(natsOptions_Create(&opts));
  CHECK(natsOptions_SetMaxReconnect(opts, 500));
  CHECK(natsOptions_SetReconnectWait(opts, 20));
  CHECK(natsOptions_SetReconnectJitter(opts, 0, 0));
  CHECK(natsOptions_SetDisconnectedCB(opts, on_conn_event, disc));
  CHECK(natsOptions_SetReconnectedCB(opts, on_conn_event, reco));
  natsConnection *nc = connect_opts(f, opts);
  natsOptions_Destroy(opts);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "rc"));
  CHECK(natsConnection_Flush(nc));
  char id1[256] = "";
  CHECK(natsConnection_GetConnectedServerId(nc, id1, sizeof id1));

  int port = f->srv->port;
  char *err = NULL;
  interop_server_stop(f->srv);
  g_assert_cmpint(waiter_wait(disc, 1, 5000), >=, 1);
  if (!interop_server_restart(f->srv, &err))
    g_error("restart: %s", err);
  g_assert_cmpint(f->srv->port, ==, port);
  g_assert_cmpint(waiter_wait(reco, 1, 10000), >=, 1);
  g_assert_cmpint(natsConnection_Status(nc), ==, NATS_CONN_STATUS_CONNECTED);
  char id2[256] = "";
  CHECK(natsConnection_GetConnectedServerId(nc, id2, sizeof id2));
  g_assert_cmpstr(id1, !=, id2); /* really a new server process */
  /* The replayed SUB must reach the server before another connection
   * publishes: the round trip orders them. */
  CHECK(natsConnection_FlushTimeout(nc, 5000));

  /* The subscription was replayed on the new server. */
  natsConnection *pc = connect_default(f);
  CHECK(natsConnection_PublishString(pc, "rc", "after"));
  CHECK(natsConnection_Flush(pc));
  natsMsg *m = next_msg(sub, 3000);
  g_assert_cmpstr(natsMsg_GetData(m), ==, "after");
  natsMsg_Destroy(m);

  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(nc);
}

static void
test_lame_duck(Fix *f, gconstpointer data)
{
  Waiter *ldm = waiter_new();
  natsOptions *opts = NULL;
  CHECK(natsOptions_Create(&opts));
  CHECK(natsOptions_SetLameDuckModeCB(opts, on_conn_event, ldm));
  CHECK(natsOptions_SetAllowReconnect(opts, false));
  natsConnection *nc = connect_opts(f, opts);
  natsOptions_Destroy(opts);
  CHECK(natsConnection_Flush(nc));
  /* A raw client that announced async INFO support sees the wire form. */
  int fd = interop_raw_connect(f->srv->port, 0);
  g_assert_cmpint(fd, >=, 0);
  g_free(interop_raw_read_line(fd, 5000));
  const char *req = "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n";
  g_assert_true(interop_raw_write(fd, req, strlen(req)));
  g_autofree char *pong = interop_raw_read_line(fd, 5000);
  g_assert_cmpstr(pong, ==, "PONG");

  g_assert_cmpint(waiter_count(ldm), ==, 0);
  g_assert_true(interop_server_signal(f->srv, SIGUSR2));
  g_assert_cmpint(waiter_wait(ldm, 1, 5000), ==, 1);
  g_autofree char *info = interop_raw_read_line(fd, 5000);
  g_assert_nonnull(info);
  g_assert_true(g_str_has_prefix(info, "INFO "));
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, info + 5, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  g_assert_true(json_object_get_boolean_member_with_default(o, "ldm", FALSE));
  close(fd);
  /* The listener is closed at once: new clients are refused. */
  natsConnection *late = NULL;
  g_assert_cmpint(natsConnection_ConnectTo(&late, f->srv->url), !=, NATS_OK);
  g_assert_null(late);
  natsConnection_Destroy(nc);
  /* Lame duck mode would take minutes to finish on its own. */
  interop_server_kill(f->srv);
}

static void
test_max_payload(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "mp"));
  CHECK(natsConnection_Flush(nc));
  char *big = g_malloc0(MAX_PAYLOAD + 1);
  /* limit+1: refused by the client, which learned max_payload from INFO. */
  g_assert_cmpint(natsConnection_Publish(nc, "mp", big, MAX_PAYLOAD + 1), ==, NATS_MAX_PAYLOAD);
  /* Headers count toward the limit. */
  natsMsg *hm = NULL;
  CHECK(natsMsg_Create(&hm, "mp", NULL, big, MAX_PAYLOAD - 4));
  CHECK(natsMsgHeader_Set(hm, "K", "value"));
  g_assert_cmpint(natsConnection_PublishMsg(nc, hm), ==, NATS_MAX_PAYLOAD);
  natsMsg_Destroy(hm);
  /* limit: accepted, connection still fine. */
  CHECK(natsConnection_Publish(nc, "mp", big, MAX_PAYLOAD));
  CHECK(natsConnection_FlushTimeout(nc, 5000));
  natsMsg *m = next_msg(sub, 5000);
  g_assert_cmpint(natsMsg_GetDataLength(m), ==, MAX_PAYLOAD);
  natsMsg_Destroy(m);
  expect_no_msg(sub, 100);
  g_free(big);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);

  /* Raw oversize PUB: the server answers with -ERR and closes. */
  int fd = interop_raw_connect(f->srv->port, 0);
  g_assert_cmpint(fd, >=, 0);
  g_autofree char *info = interop_raw_read_line(fd, 5000);
  g_assert_nonnull(info);
  const char *req = "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPUB mp 1048577\r\n";
  g_assert_true(interop_raw_write(fd, req, strlen(req)));
  g_autofree char *line = interop_raw_read_line(fd, 5000);
  g_assert_cmpstr(line, ==, "-ERR 'Maximum Payload Violation'");
  g_assert_true(interop_raw_wait_closed(fd, 5000));
  close(fd);
}

static void
test_slow_consumer(Fix *f, gconstpointer data)
{
  /* A raw subscriber that never reads: the only way to make the server (not
   * the client library, which always reads) see a stalled socket. */
  int fd = interop_raw_connect(f->srv->port, 4096);
  g_assert_cmpint(fd, >=, 0);
  g_autofree char *info = interop_raw_read_line(fd, 5000);
  g_assert_nonnull(info);
  const char *req = "CONNECT {\"verbose\":false}\r\nSUB sc.big 1\r\nPING\r\n";
  g_assert_true(interop_raw_write(fd, req, strlen(req)));
  g_autofree char *pong = interop_raw_read_line(fd, 5000);
  g_assert_cmpstr(pong, ==, "PONG");

  natsConnection *hc = connect_default(f);
  natsSubscription *ok = NULL;
  CHECK(natsConnection_SubscribeSync(&ok, hc, "sc.ok"));
  CHECK(natsConnection_Flush(hc));

  Waiter *closed = waiter_new();
  natsOptions *opts = NULL;
  CHECK(natsOptions_Create(&opts));
  CHECK(natsOptions_SetClosedCB(opts, on_conn_event, closed));
  natsConnection *pc = connect_opts(f, opts);
  natsOptions_Destroy(opts);
  natsConnection *pc2 = connect_default(f);

  /* 96 MiB, over the default 64 MiB max_pending plus socket buffers. The
   * Go server stalls this producer and then cuts the subscriber off at the
   * 10 s write deadline or at max_pending, whichever comes first. */
  enum { CHUNK = 512 * 1024, COUNT = 192 };
  char *buf = g_malloc(CHUNK);
  memset(buf, 'S', CHUNK);
  for (int i = 0; i < COUNT; i++)
    CHECK(natsConnection_Publish(pc, "sc.big", buf, CHUNK));
  g_free(buf);

  /* While the server is stuck on the stalled subscriber, other connections
   * are served. */
  for (int i = 0; i < 10; i++)
    CHECK(natsConnection_PublishString(pc2, "sc.ok", "during"));
  CHECK(natsConnection_FlushTimeout(pc2, 5000));
  for (int i = 0; i < 10; i++) {
    natsMsg *m = next_msg(ok, 5000);
    g_assert_cmpstr(natsMsg_GetData(m), ==, "during");
    natsMsg_Destroy(m);
  }

  CHECK(natsConnection_FlushTimeout(pc, 20000));
  /* The server cut the stalled subscriber off... */
  g_assert_true(interop_raw_wait_closed(fd, 15000));
  close(fd);
  /* ...and the publisher keeps its connection and everybody carries on. */
  g_assert_cmpint(natsConnection_Status(pc), ==, NATS_CONN_STATUS_CONNECTED);
  for (int i = 0; i < 10; i++)
    CHECK(natsConnection_PublishString(pc, "sc.ok", "after"));
  CHECK(natsConnection_FlushTimeout(pc, 5000));
  for (int i = 0; i < 10; i++) {
    natsMsg *m = next_msg(ok, 5000);
    g_assert_cmpstr(natsMsg_GetData(m), ==, "after");
    natsMsg_Destroy(m);
  }
  g_assert_cmpint(waiter_count(closed), ==, 0);
  natsConnection_Destroy(pc2);

  natsSubscription_Destroy(ok);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(hc);
}

static void
test_large_messages(Fix *f, gconstpointer data)
{
  natsConnection *nc = connect_default(f);
  natsConnection *pc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "large"));
  CHECK(natsConnection_Flush(nc));
  const int sizes[] = {MAX_PAYLOAD - 1, MAX_PAYLOAD, 65536, 1};
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    char *buf = g_malloc(sizes[k]);
    for (int i = 0; i < sizes[k]; i++)
      buf[i] = (char)('a' + (i * 7 + (int)k) % 26);
    CHECK(natsConnection_Publish(pc, "large", buf, sizes[k]));
    CHECK(natsConnection_FlushTimeout(pc, 5000));
    natsMsg *m = next_msg(sub, 5000);
    g_assert_cmpint(natsMsg_GetDataLength(m), ==, sizes[k]);
    g_assert_true(memcmp(natsMsg_GetData(m), buf, sizes[k]) == 0);
    natsMsg_Destroy(m);
    g_free(buf);
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(nc);
}

static void
test_many_small_in_order(Fix *f, gconstpointer data)
{
  enum { N = 20000 };
  natsConnection *nc = connect_default(f);
  natsConnection *pc = connect_default(f);
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, "small"));
  CHECK(natsSubscription_SetPendingLimits(sub, N * 2, 64 * 1024 * 1024));
  CHECK(natsConnection_Flush(nc));
  for (int i = 0; i < N; i++) {
    char b[16];
    int len = g_snprintf(b, sizeof b, "%d", i);
    CHECK(natsConnection_Publish(pc, "small", b, len));
  }
  CHECK(natsConnection_FlushTimeout(pc, 10000));
  for (int i = 0; i < N; i++) {
    natsMsg *m = next_msg(sub, 5000);
    char b[16];
    int len = g_snprintf(b, sizeof b, "%d", i);
    if (natsMsg_GetDataLength(m) != len || memcmp(natsMsg_GetData(m), b, len) != 0)
      g_error("message %d out of order: got %.*s", i, natsMsg_GetDataLength(m),
              natsMsg_GetData(m));
    natsMsg_Destroy(m);
  }
  int64_t dropped = -1;
  CHECK(natsSubscription_GetDropped(sub, &dropped));
  g_assert_cmpint(dropped, ==, 0);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(pc);
  natsConnection_Destroy(nc);
}

typedef void (*ScenarioFn)(Fix *f, gconstpointer data);

/* Each scenario runs in its own process (g_test_trap_subprocess): a failed
 * assertion aborts only that scenario, so a run against an unfinished server
 * still reports every scenario. The child's stderr (assertion text, server
 * log of a failed test) is passed through; its stdout (TAP) is not. */
static void
run_isolated(gconstpointer data)
{
  ScenarioFn fn = (ScenarioFn)data;
  if (g_test_subprocess()) {
    Fix f = {0};
    fix_setup(&f, NULL);
    fn(&f, NULL);
    fix_teardown(&f, NULL);
    return;
  }
  g_test_trap_subprocess(NULL, 90 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed()) {
    g_test_message("scenario failed in its subprocess (see stderr)");
    g_test_fail();
  }
}

int
main(int argc, char **argv)
{
  /* Report every scenario, not just the first failure. */
  char **args = g_new0(char *, argc + 2);
  memcpy(args, argv, sizeof(char *) * argc);
  args[argc++] = (char *)"--keep-going";
  argv = args;
  g_test_init(&argc, &argv, NULL);
  if (nats_Open(-1) != NATS_OK)
    g_error("nats_Open failed");
  if (!g_file_test(interop_server_bin(), G_FILE_TEST_IS_EXECUTABLE)) {
    /* Missing server binary is a setup error, not a skip. */
    g_printerr("NATS_SERVER_BIN %s is not executable\n", interop_server_bin());
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

#define ADD(name, fn) g_test_add_data_func("/interop/nats-c/" name, (gconstpointer)fn, run_isolated)
  ADD("connect-info", test_connect_info);
  ADD("pub-sub", test_pub_sub);
  ADD("wildcards", test_wildcards);
  ADD("queue-groups", test_queue_groups);
  ADD("request-reply", test_request_reply);
  ADD("headers", test_headers);
  ADD("no-responders", test_no_responders);
  ADD("auto-unsubscribe", test_auto_unsubscribe);
  ADD("drain-subscription", test_drain_subscription);
  ADD("drain-connection", test_drain_connection);
  ADD("flush-ping", test_flush_ping);
  ADD("reconnect", test_reconnect);
  ADD("lame-duck", test_lame_duck);
  ADD("max-payload", test_max_payload);
  ADD("slow-consumer", test_slow_consumer);
  ADD("large-messages", test_large_messages);
  ADD("many-small-in-order", test_many_small_in_order);
#undef ADD

  all_waiters = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
  int rc = g_test_run();
  nats_CloseAndWait(2000);
  g_ptr_array_unref(all_waiters);
  g_free(args);
  return rc;
}
