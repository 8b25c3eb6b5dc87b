/* nats_c_auth: authentication, permissions and TLS through the official nats.c
 * client (libnats 3.x) against the server in NATS_SERVER_BIN.
 *
 * Same scenario list as nats-go/auth_test.go and nats-js/lib/auth.mjs; test
 * paths carry the parity row id (/interop/nats-c/R094/token). Each scenario
 * runs in its own subprocess with a fresh server started from a fixture
 * config (fixtures/auth, fixtures/interop under INTEROP_FIXTURES). TLS
 * certificates are made once per run by fixtures/interop/gen-tls.sh; TLS
 * scenarios are skipped when INTEROP_SERVER_FEATURES lacks "tls".
 * libnats calls the error handler on its own thread: AsyncErrs has a mutex.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <nats/nats.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "interop_server.h"

#define BCRYPT_HASH "$2a$04$chIhHqF4M40q9NGN8sHpEu97ZPMbFoOYIrZSw.QDGzuQPsg9.jDeC"

#define CHECK(call)                                                         \
  do {                                                                      \
    natsStatus s_ = (call);                                                 \
    if (s_ != NATS_OK)                                                      \
      g_error("%s:%d: %s -> %s (%s)", __FILE__, __LINE__, #call,            \
              natsStatus_GetText(s_), nats_GetLastError(NULL) ?: "");       \
  } while (0)

static char *tls_dir; /* owned: generated certificates, removed at exit */

typedef struct {
  InteropServer *srv; /* owned */
} Fix;

typedef void (*ScenarioFn)(Fix *f);

typedef struct {
  const char *conf; /* relative to INTEROP_FIXTURES */
  ScenarioFn fn;
  gboolean tls;     /* needs the certificates and a TLS-capable server */
} Scenario;

static char *
fixture(const char *rel)
{
  const char *dir = g_getenv("INTEROP_FIXTURES");
  if (!dir || !*dir)
    g_error("INTEROP_FIXTURES is not set");
  char *p = g_build_filename(dir, rel, NULL);
  if (!g_file_test(p, G_FILE_TEST_EXISTS))
    g_error("fixture %s missing", p);
  return p;
}

static char *
tls_file(const char *name)
{
  return g_build_filename(tls_dir, name, NULL);
}

/* INTEROP_SERVER_FEATURES: "all" for nats-server, cnatsd's parity_features
 * otherwise (tests/interop/meson.build). Unset: only nats-server has all. */
static gboolean
server_has(const char *feature)
{
  const char *f = g_getenv("INTEROP_SERVER_FEATURES");
  if (!f) {
    g_autofree char *base = g_path_get_basename(interop_server_bin());
    return g_str_equal(base, "nats-server");
  }
  g_auto(GStrv) v = g_strsplit(f, ",", -1);
  for (char **x = v; *x; x++) {
    g_strstrip(*x);
    if (g_str_equal(*x, "all") || g_str_equal(*x, feature))
      return TRUE;
  }
  return FALSE;
}

static void
make_tls_certs(void)
{
  GError *e = NULL;
  tls_dir = g_dir_make_tmp("nats-c-tls-XXXXXX", &e);
  if (!tls_dir)
    g_error("tmp dir: %s", e->message);
  g_autofree char *gen = fixture("interop/gen-tls.sh");
  const char *argv[] = {"sh", gen, tls_dir, NULL};
  int status = 0;
  g_autofree char *errout = NULL;
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                    &errout, &status, &e) ||
      !g_spawn_check_wait_status(status, NULL))
    g_error("gen-tls.sh failed: %s %s", e ? e->message : "", errout ?: "");
}

static void
remove_tls_certs(void)
{
  if (!tls_dir)
    return;
  GDir *d = g_dir_open(tls_dir, 0, NULL);
  if (d) {
    const char *n;
    while ((n = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(tls_dir, n, NULL);
      g_unlink(p);
    }
    g_dir_close(d);
  }
  g_rmdir(tls_dir);
  g_clear_pointer(&tls_dir, g_free);
}

/* ---- connections ---- */

static void
on_err_quiet(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
}

/* Options for this server with quiet async errors and no reconnects. */
static natsOptions *
opts_new(Fix *f)
{
  natsOptions *o = NULL;
  CHECK(natsOptions_Create(&o));
  CHECK(natsOptions_SetURL(o, f->srv->url));
  CHECK(natsOptions_SetAllowReconnect(o, false));
  CHECK(natsOptions_SetErrorHandler(o, on_err_quiet, NULL));
  return o;
}

/* Connect with o (destroyed here); NULL on failure, *st and *text set. */
static natsConnection *
try_connect(natsOptions *o, natsStatus *st, char **text)
{
  natsConnection *nc = NULL;
  *st = natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  *text = g_strdup(*st == NATS_OK ? "" : nats_GetLastError(NULL) ?: "");
  return *st == NATS_OK ? nc : NULL;
}

static natsConnection *
must_connect(natsOptions *o)
{
  natsStatus st;
  g_autofree char *text = NULL;
  natsConnection *nc = try_connect(o, &st, &text);
  if (!nc)
    g_error("connect: %s (%s)", natsStatus_GetText(st), text);
  return nc;
}

/* The server must refuse the credentials; nats.c reports -ERR 'Authorization
 * Violation' during connect as NATS_CONNECTION_AUTH_FAILED with the server's
 * text in the last error. */
static void
expect_auth_err(const char *what, natsOptions *o)
{
  natsStatus st;
  g_autofree char *text = NULL;
  natsConnection *nc = try_connect(o, &st, &text);
  if (nc)
    g_error("%s: connected", what);
  g_test_message("%s: %s (%s)", what, natsStatus_GetText(st), text);
  g_assert_cmpint(st, ==, NATS_CONNECTION_AUTH_FAILED);
  if (!strstr(text, "Authorization Violation"))
    g_error("%s: error text %s", what, text);
}

static natsOptions *
user_opts(Fix *f, const char *user, const char *pass)
{
  natsOptions *o = opts_new(f);
  CHECK(natsOptions_SetUserInfo(o, user, pass));
  return o;
}

static natsOptions *
token_opts(Fix *f, const char *token)
{
  natsOptions *o = opts_new(f);
  CHECK(natsOptions_SetToken(o, token));
  return o;
}

/* nc receives its own message on subject. */
static void
roundtrip(natsConnection *nc, const char *subject)
{
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc, subject));
  CHECK(natsConnection_Flush(nc));
  g_autofree char *payload = g_strdup_printf("ping %s", subject);
  CHECK(natsConnection_PublishString(nc, subject, payload));
  natsMsg *m = NULL;
  CHECK(natsSubscription_NextMsg(&m, sub, 5000));
  g_assert_cmpstr(natsMsg_GetData(m), ==, payload);
  natsMsg_Destroy(m);
  natsSubscription_Destroy(sub);
}

static void
expect_no_msg(natsSubscription *sub, int timeout_ms)
{
  natsMsg *m = NULL;
  natsStatus s = natsSubscription_NextMsg(&m, sub, timeout_ms);
  if (s == NATS_OK)
    g_error("unexpected message on %s: %s", natsSubscription_GetSubject(sub),
            natsMsg_GetSubject(m));
  g_assert_cmpint(s, ==, NATS_TIMEOUT);
}

/* ---- async errors ---- */

typedef struct {
  GMutex mu;
  GCond cond;
  GPtrArray *texts; /* owned: "<status>|<text>" per async error */
} AsyncErrs;

/* Lives until process exit (the scenario's subprocess): libnats may call the
 * handler after natsConnection_Destroy has returned. */
static AsyncErrs *
async_errs_new(void)
{
  AsyncErrs *a = g_new0(AsyncErrs, 1);
  g_mutex_init(&a->mu);
  g_cond_init(&a->cond);
  a->texts = g_ptr_array_new_with_free_func(g_free);
  return a;
}

static void
on_err_collect(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
  AsyncErrs *a = closure;
  const char *text = NULL;
  natsConnection_GetLastError(nc, &text);
  g_mutex_lock(&a->mu);
  g_ptr_array_add(a->texts, g_strdup_printf("%s|%s", natsStatus_GetText(err), text ?: ""));
  g_cond_broadcast(&a->cond);
  g_mutex_unlock(&a->mu);
}

static natsOptions *
with_errs(natsOptions *o, AsyncErrs *a)
{
  CHECK(natsOptions_SetErrorHandler(o, on_err_collect, a));
  return o;
}

static gboolean
async_errs_has(AsyncErrs *a, const char *want)
{
  for (guint i = 0; i < a->texts->len; i++)
    if (g_str_equal(g_ptr_array_index(a->texts, i), want))
      return TRUE;
  return FALSE;
}

/* Wait for the async error "Not Permitted|<text>" (exact). */
static void
async_errs_expect(AsyncErrs *a, const char *text)
{
  g_autofree char *want = g_strdup_printf("%s|%s", natsStatus_GetText(NATS_NOT_PERMITTED), text);
  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  g_mutex_lock(&a->mu);
  while (!async_errs_has(a, want))
    if (!g_cond_wait_until(&a->cond, &a->mu, end))
      break;
  gboolean ok = async_errs_has(a, want);
  GString *got = g_string_new(NULL);
  for (guint i = 0; i < a->texts->len; i++)
    g_string_append_printf(got, " [%s]", (char *)g_ptr_array_index(a->texts, i));
  g_mutex_unlock(&a->mu);
  if (!ok)
    g_error("no async error [%s]; got%s", want, got->str);
  g_string_free(got, TRUE);
}

static guint
async_errs_count(AsyncErrs *a)
{
  g_mutex_lock(&a->mu);
  guint n = a->texts->len;
  g_mutex_unlock(&a->mu);
  return n;
}

/* ---- scenarios ---- */

static void
test_token(Fix *f)
{
  natsConnection *nc = must_connect(token_opts(f, "s3cr3t"));
  roundtrip(nc, "tok");
  natsConnection_Destroy(nc);
  expect_auth_err("wrong token", token_opts(f, "s3cr3t-not"));
  expect_auth_err("missing token", opts_new(f));
  expect_auth_err("user/password instead of token", user_opts(f, "s3cr3t", "s3cr3t"));
  /* Token in the URL. */
  natsOptions *o = opts_new(f);
  g_autofree char *url = g_strdup_printf("nats://s3cr3t@127.0.0.1:%d", f->srv->port);
  CHECK(natsOptions_SetURL(o, url));
  nc = must_connect(o);
  roundtrip(nc, "tok.url");
  natsConnection_Destroy(nc);
}

static void
test_bcrypt_token(Fix *f)
{
  natsConnection *nc = must_connect(token_opts(f, "builder"));
  roundtrip(nc, "tok");
  natsConnection_Destroy(nc);
  expect_auth_err("wrong token", token_opts(f, "builder2"));
  expect_auth_err("hash as token", token_opts(f, BCRYPT_HASH));
}

static void
test_user_password(Fix *f)
{
  natsConnection *nc = must_connect(user_opts(f, "alice", "wonderland"));
  roundtrip(nc, "up");
  natsConnection_Destroy(nc);
  expect_auth_err("wrong password", user_opts(f, "alice", "wonderlan"));
  expect_auth_err("unknown user", user_opts(f, "carol", "wonderland"));
  expect_auth_err("no credentials", opts_new(f));
  natsOptions *o = opts_new(f);
  g_autofree char *url = g_strdup_printf("nats://alice:wonderland@127.0.0.1:%d", f->srv->port);
  CHECK(natsOptions_SetURL(o, url));
  nc = must_connect(o);
  roundtrip(nc, "up.url");
  natsConnection_Destroy(nc);
}

static void
test_bcrypt_password(Fix *f)
{
  natsConnection *nc = must_connect(user_opts(f, "bob", "builder"));
  roundtrip(nc, "bc");
  natsConnection_Destroy(nc);
  expect_auth_err("wrong password", user_opts(f, "bob", "Builder"));
  expect_auth_err("hash as password", user_opts(f, "bob", BCRYPT_HASH));
}

static natsOptions *
nkey_opts(Fix *f, const char *which)
{
  g_autofree char *pubf = g_strdup_printf("interop/R095-%s.pub", which);
  g_autofree char *seedf = g_strdup_printf("interop/R095-%s.nk", which);
  g_autofree char *pubpath = fixture(pubf);
  g_autofree char *seedpath = fixture(seedf);
  g_autofree char *pub = NULL;
  if (!g_file_get_contents(pubpath, &pub, NULL, NULL))
    g_error("read %s", pubpath);
  g_strstrip(pub);
  natsOptions *o = opts_new(f);
  CHECK(natsOptions_SetNKeyFromSeed(o, pub, seedpath));
  return o;
}

static void
test_nkey_seed(Fix *f)
{
  natsConnection *nc = must_connect(nkey_opts(f, "user"));
  roundtrip(nc, "nk");
  natsConnection_Destroy(nc);
  expect_auth_err("unknown nkey", nkey_opts(f, "other"));
  expect_auth_err("no credentials", opts_new(f));
  nc = must_connect(user_opts(f, "alice", "wonderland"));
  roundtrip(nc, "nk.pw");
  natsConnection_Destroy(nc);
}

static void
test_no_auth_user(Fix *f)
{
  AsyncErrs *ae = async_errs_new();
  natsConnection *guest = must_connect(with_errs(opts_new(f), ae));
  roundtrip(guest, "foo"); /* guest may use foo only */
  CHECK(natsConnection_PublishString(guest, "bar", "x"));
  CHECK(natsConnection_Flush(guest));
  async_errs_expect(ae, "Permissions Violation for Publish to \"bar\"");
  natsConnection *admin = must_connect(user_opts(f, "admin", "adminpw"));
  roundtrip(admin, "bar");
  expect_auth_err("wrong password", user_opts(f, "admin", "nope"));
  expect_auth_err("unknown user", user_opts(f, "guest2", "g"));
  natsConnection_Destroy(admin);
  natsConnection_Destroy(guest);
}

static void
test_publish_denied(Fix *f)
{
  natsConnection *alice = must_connect(user_opts(f, "alice", "wonderland"));
  natsSubscription *watch = NULL;
  CHECK(natsConnection_SubscribeSync(&watch, alice, ">"));
  CHECK(natsConnection_Flush(alice));

  AsyncErrs *ae = async_errs_new();
  natsConnection *nc = must_connect(with_errs(user_opts(f, "limited", "pw"), ae));
  /* One violation at a time: nats.c keeps only the last error text, which
   * the handler reads on its own thread. */
  CHECK(natsConnection_PublishString(nc, "baz", "not in allow")); /* R110 */
  CHECK(natsConnection_Flush(nc));
  async_errs_expect(ae, "Permissions Violation for Publish to \"baz\"");
  CHECK(natsConnection_PublishString(nc, "foo.secret", "in deny")); /* R112 */
  CHECK(natsConnection_Flush(nc));
  async_errs_expect(ae, "Permissions Violation for Publish to \"foo.secret\"");
  CHECK(natsConnection_PublishString(nc, "foo.ok", "allowed"));
  CHECK(natsConnection_Flush(nc));
  natsMsg *m = NULL;
  CHECK(natsSubscription_NextMsg(&m, watch, 5000));
  g_assert_cmpstr(natsMsg_GetSubject(m), ==, "foo.ok");
  natsMsg_Destroy(m);
  expect_no_msg(watch, 100);
  /* The connection stays up. */
  g_assert_cmpint(natsConnection_Status(nc), ==, NATS_CONN_STATUS_CONNECTED);
  roundtrip(nc, "foo.again");
  g_assert_cmpuint(async_errs_count(ae), ==, 2);
  natsSubscription_Destroy(watch);
  natsConnection_Destroy(nc);
  natsConnection_Destroy(alice);
}

static void
test_subscribe_denied(Fix *f)
{
  AsyncErrs *ae = async_errs_new();
  natsConnection *nc = must_connect(with_errs(user_opts(f, "limited", "pw"), ae));
  natsSubscription *denied = NULL, *hidden = NULL, *qdenied = NULL, *qok = NULL;
  /* One violation at a time (see test_publish_denied). */
  CHECK(natsConnection_SubscribeSync(&denied, nc, "baz")); /* R111 */
  CHECK(natsConnection_Flush(nc));
  async_errs_expect(ae, "Permissions Violation for Subscription to \"baz\"");
  CHECK(natsConnection_SubscribeSync(&hidden, nc, "foo.hidden")); /* R113 */
  CHECK(natsConnection_Flush(nc));
  async_errs_expect(ae, "Permissions Violation for Subscription to \"foo.hidden\"");
  CHECK(natsConnection_QueueSubscribeSync(&qdenied, nc, "q.a", "v2")); /* allow is "q.* v1" */
  CHECK(natsConnection_Flush(nc));
  async_errs_expect(ae, "Permissions Violation for Subscription to \"q.a\" using queue \"v2\"");
  CHECK(natsConnection_QueueSubscribeSync(&qok, nc, "q.a", "v1"));
  CHECK(natsConnection_Flush(nc));
  g_assert_cmpuint(async_errs_count(ae), ==, 3);

  natsConnection *alice = must_connect(user_opts(f, "alice", "wonderland"));
  CHECK(natsConnection_PublishString(alice, "baz", "baz"));
  CHECK(natsConnection_PublishString(alice, "foo.hidden", "foo.hidden"));
  CHECK(natsConnection_PublishString(alice, "q.a", "q.a"));
  CHECK(natsConnection_Flush(alice));
  natsMsg *m = NULL;
  CHECK(natsSubscription_NextMsg(&m, qok, 5000));
  g_assert_cmpstr(natsMsg_GetSubject(m), ==, "q.a");
  natsMsg_Destroy(m);
  expect_no_msg(denied, 100);
  expect_no_msg(hidden, 100);
  expect_no_msg(qdenied, 100);
  g_assert_cmpint(natsConnection_Status(nc), ==, NATS_CONN_STATUS_CONNECTED);
  roundtrip(nc, "foo.still");
  natsSubscription_Destroy(denied);
  natsSubscription_Destroy(hidden);
  natsSubscription_Destroy(qdenied);
  natsSubscription_Destroy(qok);
  natsConnection_Destroy(alice);
  natsConnection_Destroy(nc);
}

static void
on_req_answer_twice(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
  /* allow_responses (max 1) lets only the first answer through. */
  natsConnection_PublishString(nc, natsMsg_GetReply(msg), "answer");
  natsConnection_PublishString(nc, natsMsg_GetReply(msg), "second");
  natsMsg_Destroy(msg);
}

static void
test_allow_responses(Fix *f)
{
  AsyncErrs *ae = async_errs_new();
  natsConnection *rsp = must_connect(with_errs(user_opts(f, "responder", "pw"), ae));
  natsSubscription *svc = NULL;
  CHECK(natsConnection_Subscribe(&svc, rsp, "req", on_req_answer_twice, NULL));
  CHECK(natsConnection_Flush(rsp));

  natsConnection *cli = must_connect(user_opts(f, "alice", "wonderland"));
  natsMsg *r = NULL;
  CHECK(natsConnection_RequestString(&r, cli, "req", "q", 5000));
  g_assert_cmpstr(natsMsg_GetData(r), ==, "answer");
  natsMsg_Destroy(r);

  natsInbox *inbox = NULL;
  CHECK(natsInbox_Create(&inbox));
  natsSubscription *watch = NULL;
  CHECK(natsConnection_SubscribeSync(&watch, cli, inbox));
  CHECK(natsConnection_PublishRequestString(cli, "req", inbox, "q2"));
  CHECK(natsConnection_Flush(cli));
  natsMsg *m = NULL;
  CHECK(natsSubscription_NextMsg(&m, watch, 5000));
  g_assert_cmpstr(natsMsg_GetData(m), ==, "answer");
  natsMsg_Destroy(m);
  expect_no_msg(watch, 100);
  g_autofree char *want = g_strdup_printf("Permissions Violation for Publish to \"%s\"", inbox);
  async_errs_expect(ae, want);
  CHECK(natsConnection_PublishString(rsp, "elsewhere", "x"));
  CHECK(natsConnection_Flush(rsp));
  async_errs_expect(ae, "Permissions Violation for Publish to \"elsewhere\"");
  g_assert_cmpint(natsConnection_Status(rsp), ==, NATS_CONN_STATUS_CONNECTED);
  natsSubscription_Destroy(watch);
  natsInbox_Destroy(inbox);
  natsSubscription_Destroy(svc);
  natsConnection_Destroy(cli);
  natsConnection_Destroy(rsp);
}

/* ---- TLS (R169-R172) ---- */

static natsOptions *
tls_opts(Fix *f, const char *ca, const char *cert, const char *key)
{
  natsOptions *o = opts_new(f);
  CHECK(natsOptions_SetSecure(o, true));
  if (ca) {
    g_autofree char *p = tls_file(ca);
    CHECK(natsOptions_LoadCATrustedCertificates(o, p));
  }
  if (cert) {
    g_autofree char *c = tls_file(cert);
    g_autofree char *k = tls_file(key);
    CHECK(natsOptions_LoadCertificatesChain(o, c, k));
  }
  return o;
}

static void
test_tls_required(Fix *f)
{
  natsConnection *nc = must_connect(tls_opts(f, "ca.pem", NULL, NULL));
  roundtrip(nc, "tls");
  natsConnection *nc2 = must_connect(tls_opts(f, "ca.pem", NULL, NULL));
  natsSubscription *sub = NULL;
  CHECK(natsConnection_SubscribeSync(&sub, nc2, "tls.x"));
  CHECK(natsConnection_Flush(nc2));
  CHECK(natsConnection_PublishString(nc, "tls.x", "over tls"));
  natsMsg *m = NULL;
  CHECK(natsSubscription_NextMsg(&m, sub, 5000));
  g_assert_cmpstr(natsMsg_GetData(m), ==, "over tls");
  natsMsg_Destroy(m);
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc2);
  natsConnection_Destroy(nc);

  /* Plain-text CONNECT on a TLS-required port: no session, dropped. */
  int fd = interop_raw_connect(f->srv->port, 0);
  g_assert_cmpint(fd, >=, 0);
  g_autofree char *info = interop_raw_read_line(fd, 5000);
  g_assert_nonnull(info);
  g_assert_true(g_str_has_prefix(info, "INFO "));
  g_assert_nonnull(strstr(info, "\"tls_required\":true"));
  const char *connect = "CONNECT {\"verbose\":false}\r\nPING\r\n";
  interop_raw_write(fd, connect, strlen(connect));
  g_assert_true(interop_raw_wait_closed(fd, 5000));
  close(fd);
}

static void
test_ca_validation_failure(Fix *f)
{
  /* An unrelated CA, the system roots only, or no TLS options at all (the
   * client follows the server's tls_required): OpenSSL's verification fails
   * in the client, with the same text for both servers. */
  for (int i = 0; i < 3; i++) {
    natsOptions *o = i == 0 ? tls_opts(f, "other-ca.pem", NULL, NULL)
                   : i == 1 ? tls_opts(f, NULL, NULL, NULL)
                            : opts_new(f);
    natsStatus st;
    g_autofree char *text = NULL;
    natsConnection *nc = try_connect(o, &st, &text);
    if (nc)
      g_error("case %d: connected", i);
    g_test_message("case %d: %s (%s)", i, natsStatus_GetText(st), text);
    g_assert_cmpint(st, ==, NATS_SSL_ERROR);
    if (!strstr(text, "SSL handshake error: 20:unable to get local issuer certificate"))
      g_error("case %d: error text %s", i, text);
  }
  natsConnection *nc = must_connect(tls_opts(f, "ca.pem", NULL, NULL));
  natsConnection_Destroy(nc);
}

static void
test_mutual_tls(Fix *f)
{
  natsConnection *nc = must_connect(tls_opts(f, "ca.pem", "client.pem", "client-key.pem"));
  roundtrip(nc, "mtls");
  natsConnection_Destroy(nc);
  /* No client certificate, or one from an unrelated CA: refused. The alert
   * text differs between TLS stacks, so only the refusal is compared. */
  natsStatus st;
  g_autofree char *t1 = NULL, *t2 = NULL;
  nc = try_connect(tls_opts(f, "ca.pem", NULL, NULL), &st, &t1);
  if (nc)
    g_error("connected without a client certificate");
  g_test_message("no client cert: %s (%s)", natsStatus_GetText(st), t1);
  nc = try_connect(tls_opts(f, "ca.pem", "rogue.pem", "rogue-key.pem"), &st, &t2);
  if (nc)
    g_error("connected with a client certificate from an unknown CA");
  g_test_message("rogue client cert: %s (%s)", natsStatus_GetText(st), t2);
}

/* Each scenario in its own subprocess (as nats_c_test.c does): a failed
 * assertion aborts only that scenario. */
static void
run_isolated(gconstpointer data)
{
  const Scenario *sc = data;
  if (sc->tls && !server_has("tls")) {
    g_test_skip("server under test lacks feature tls (INTEROP_SERVER_FEATURES)");
    return;
  }
  if (g_test_subprocess()) {
    if (sc->tls)
      make_tls_certs();
    g_autofree char *conf = fixture(sc->conf);
    g_autofree char *cert = sc->tls ? tls_file("server.pem") : NULL;
    g_autofree char *key = sc->tls ? tls_file("server-key.pem") : NULL;
    g_autofree char *ca = sc->tls ? tls_file("ca.pem") : NULL;
    g_autofree char *e1 = g_strdup_printf("INTEROP_TLS_CERT=%s", cert ?: "");
    g_autofree char *e2 = g_strdup_printf("INTEROP_TLS_KEY=%s", key ?: "");
    g_autofree char *e3 = g_strdup_printf("INTEROP_TLS_CA=%s", ca ?: "");
    const char *args[] = {"-c", conf, NULL};
    const char *env[] = {e1, e2, e3, NULL};
    char *err = NULL;
    Fix f = {0};
    f.srv = interop_server_start_full(-1, args, sc->tls ? env : NULL, &err);
    if (!f.srv)
      g_error("cannot start %s -c %s: %s", interop_server_bin(), conf, err);
    g_test_message("server %s pid %d at %s", f.srv->bin, (int)f.srv->pid, f.srv->url);
    sc->fn(&f);
    interop_server_free(f.srv);
    remove_tls_certs();
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
  char **args = g_new0(char *, argc + 2);
  memcpy(args, argv, sizeof(char *) * argc);
  args[argc++] = (char *)"--keep-going";
  argv = args;
  g_test_init(&argc, &argv, NULL);
  if (nats_Open(-1) != NATS_OK)
    g_error("nats_Open failed");
  if (!g_file_test(interop_server_bin(), G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr("NATS_SERVER_BIN %s is not executable\n", interop_server_bin());
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  static const Scenario scenarios[] = {
    {"auth/token.conf", test_token, FALSE},
    {"auth/bcrypt_token.conf", test_bcrypt_token, FALSE},
    {"auth/users.conf", test_user_password, FALSE},
    {"auth/users.conf", test_bcrypt_password, FALSE},
    {"interop/R095-nkey.conf", test_nkey_seed, FALSE},
    {"auth/no_auth_user.conf", test_no_auth_user, FALSE},
    {"auth/users.conf", test_publish_denied, FALSE},
    {"auth/users.conf", test_subscribe_denied, FALSE},
    {"auth/users.conf", test_allow_responses, FALSE},
    {"interop/R169-tls.conf", test_tls_required, TRUE},
    {"interop/R169-tls.conf", test_ca_validation_failure, TRUE},
    {"interop/R172-mtls.conf", test_mutual_tls, TRUE},
  };
  static const char *names[] = {
    "R094/token",
    "R097/bcrypt-token",
    "R093/user-password",
    "R097/bcrypt-password",
    "R095/nkey-seed",
    "R307/no-auth-user",
    "R110-R112/publish-denied",
    "R111-R113/subscribe-denied",
    "R116/allow-responses",
    "R169-R170/tls-required",
    "R171/ca-validation-failure",
    "R172/mutual-tls",
  };
  G_STATIC_ASSERT(G_N_ELEMENTS(scenarios) == G_N_ELEMENTS(names));
  for (guint i = 0; i < G_N_ELEMENTS(scenarios); i++) {
    g_autofree char *path = g_strdup_printf("/interop/nats-c/%s", names[i]);
    g_test_add_data_func(path, &scenarios[i], run_isolated);
  }

  int rc = g_test_run();
  nats_CloseAndWait(2000);
  g_free(args);
  return rc;
}
