/* reload_test.c — reload_diff: which option changes nats-server 2.9.10
 * applies live and which it refuses, with its exact error texts and
 * "Reloaded:" lines in its order (checked against the Go server's log),
 * flags re-applied over the file, and the extension hook. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"
#include "reload.h"

/* Options from a config text, then argv on top (as reload does). */
static Options *load(const char *conf, const char *args) {
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("reload-test-XXXXXX.conf", &path, NULL);
  g_assert_cmpint(fd, >=, 0);
  close(fd);
  g_assert_true(g_file_set_contents(path, conf, -1, NULL));
  Options *o = opts_new_default();
  g_autofree char *report = NULL;
  g_assert_true(opts_load_config(o, path, false, &report));
  g_unlink(path);
  if (args) {
    g_auto(GStrv) argv = g_strsplit(args, " ", -1);
    g_autofree char *sig = NULL;
    g_assert_cmpint(opts_parse_args(o, (int)g_strv_length(argv), argv, &sig), ==, OPTS_RUN);
  }
  return o;
}

/* The diff's log lines joined by '\n', or "ERR: <error>". (transfer full) */
static char *diff(const char *old_conf, const char *new_conf, const char *args) {
  g_autoptr(Options) a = load(old_conf, args);
  g_autoptr(Options) b = load(new_conf, args);
  g_autoptr(GPtrArray) changes = reload_changes_new();
  g_autofree char *error = reload_diff(a, b, changes);
  if (error) return g_strdup_printf("ERR: %s", error);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < changes->len; i++) {
    ReloadChange *c = changes->pdata[i];
    if (!c->log_line) continue;
    g_string_append_printf(out, "%s%s", out->len ? "\n" : "", c->log_line);
  }
  return g_string_free(out, FALSE);
}

#define ALWAYS "Reloaded: authorization users\nReloaded: accounts"

static void test_unchanged(void) {
  /* Go reports users and accounts on every reload: it never compares them. */
  g_autofree char *d = diff("max_payload: 1000\n", "max_payload: 1000\n", NULL);
  g_assert_cmpstr(d, ==, ALWAYS);
}

static void test_order_and_format(void) {
  /* Same lines, same order as nats-server 2.9.10 printed for this change. */
  g_autofree char *d = diff("", "debug: true\nping_interval: \"30s\"\nwrite_deadline: \"3s\"\nmax_control_line: 2048\n"
                                "ping_max: 5\nauthorization { timeout: 1.5 }\nmax_traced_msg_len: 100\nmax_payload: 2000\n"
                                "trace: true\nlogtime: false\nmax_connections: 10\n",
                            NULL);
  g_assert_cmpstr(d, ==,
                  "Reloaded: trace = true\nReloaded: debug = true\nReloaded: logtime = false\n"
                  "Reloaded: max_connections = 10\n" ALWAYS "\n"
                  "Reloaded: ping_interval = 30s\nReloaded: ping_max = 5\nReloaded: authorization timeout = 1.5\n"
                  "Reloaded: max_control_line = 2048\nReloaded: max_payload = 2000\nReloaded: write_deadline = 3s\n"
                  "Reloaded: max_traced_msg_len = 100");
}

static void test_auth_lines(void) {
  g_autofree char *tok = diff("authorization { token: a }\n", "authorization { token: b }\n", NULL);
  g_assert_cmpstr(tok, ==, ALWAYS "\nReloaded: authorization token");
  g_autofree char *up = diff("", "authorization { user: a, password: b }\n", NULL);
  g_assert_cmpstr(up, ==, ALWAYS "\nReloaded: authorization username\nReloaded: authorization password");
  g_autofree char *nk = diff("", "authorization { users: [ {nkey: UCEO7YXHQXCFB2L3HEB43LK3DXM5X7HZU73AOPXEU4KGEZ7YTTEX5VNX} ] }\n", NULL);
  g_assert_cmpstr(nk, ==, "Reloaded: authorization nkey users\n" ALWAYS);
  /* the same nkey user again is no nkey change */
  const char *same = "authorization { users: [ {nkey: UCEO7YXHQXCFB2L3HEB43LK3DXM5X7HZU73AOPXEU4KGEZ7YTTEX5VNX} ] }\n";
  g_autofree char *nk2 = diff(same, same, NULL);
  g_assert_cmpstr(nk2, ==, ALWAYS);
}

static void test_refused(void) {
  static const struct { const char *conf; const char *error; } cases[] = {
      {"server_name: other\n", "config reload not supported for ServerName: old=, new=other"},
      {"max_pending: 5000\n", "config reload not supported for MaxPending: old=67108864, new=5000"},
      {"lame_duck_duration: \"60s\"\n", "config reload not supported for LameDuckDuration: old=2m0s, new=1m0s"},
      {"lame_duck_grace_period: \"5s\"\n", "config reload not supported for LameDuckGracePeriod: old=10s, new=5s"},
      {"max_subscriptions: 10\n", "config reload not supported for MaxSubs: old=0, new=10"},
      {"http_port: 8222\n", "config reload not supported for HTTPPort: old=0, new=8222"},
      {"http_base_path: /x\n", "config reload not supported for HTTPBasePath: old=, new=/x"},
      {"no_header_support: true\n", "config reload not supported for NoHeaderSupport: old=false, new=true"},
      {"disable_sublist_cache: true\n", "config reload not supported for NoSublistCache: old=false, new=true"},
      {"no_system_account: true\n", "config reload not supported for NoSystemAccount: old=false, new=true"},
      {"system_account: FOO\naccounts { FOO {} }\n", "config reload not supported for SystemAccount: old=, new=FOO"},
      {"authorization { users: [{user: x, password: y}] }\nno_auth_user: x\n",
       "config reload not supported for NoAuthUser: old=, new=x"},
      {"port: 5555\n", "config reload not supported for Port: old=4222, new=5555"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *d = diff("", cases[i].conf, NULL);
    g_autofree char *want = g_strdup_printf("ERR: %s", cases[i].error);
    g_assert_cmpstr(d, ==, want);
  }
}

static void test_allowed_special(void) {
  /* a random port in the new options keeps the bound one */
  g_autofree char *p = diff("", "port: 5555\n", "cnatsd -p -1");
  g_assert_cmpstr(p, ==, ALWAYS);
  /* dropping no_auth_user along with its user is allowed; keeping the user is not */
  const char *with = "authorization { users: [{user: x, password: y}] }\nno_auth_user: x\n";
  g_autofree char *gone = diff(with, "", NULL);
  g_assert_cmpstr(gone, ==, ALWAYS);
  g_autofree char *kept = diff(with, "authorization { users: [{user: x, password: y}] }\n", NULL);
  g_assert_cmpstr(kept, ==, "ERR: config reload not supported for NoAuthUser: old=x, new=");
  /* "$SYS" → unset is allowed */
  g_autofree char *sys = diff("system_account: \"$SYS\"\n", "", NULL);
  g_assert_cmpstr(sys, ==, ALWAYS);
  /* pid_file: logged only when a file is named */
  g_autofree char *pid = diff("", "pid_file: /tmp/x.pid\n", NULL);
  g_assert_cmpstr(pid, ==, ALWAYS "\nReloaded: pid_file = /tmp/x.pid");
  g_autofree char *nopid = diff("pid_file: /tmp/x.pid\n", "", NULL);
  g_assert_cmpstr(nopid, ==, ALWAYS);
  /* client_advertise uses Go's "Reload:" wording */
  g_autofree char *adv = diff("", "client_advertise: \"foo:4222\"\n", NULL);
  g_assert_cmpstr(adv, ==, "Reload: client_advertise = foo:4222\n" ALWAYS);
}

static void test_flags_win(void) {
  /* -D on the command line overrides debug: false in the file, on reload too */
  g_autofree char *d = diff("debug: false\n", "debug: false\n", "cnatsd -D");
  g_assert_cmpstr(d, ==, ALWAYS);
  /* a refused field changed in the file but pinned by a flag is no change */
  g_autofree char *n = diff("server_name: a\n", "server_name: b\n", "cnatsd -n fixed");
  g_assert_cmpstr(n, ==, ALWAYS);
}

static int ext_calls;
static int ext_diff(const Options *a, const Options *b, char **line, char **error) {
  ext_calls++;
  if (a->max_payload == b->max_payload) return 0;
  if (b->max_payload == 7) {
    *error = g_strdup("config reload not supported for Ext");
    return -1;
  }
  *line = g_strdup("Reloaded: ext");
  return 1;
}
static const ReloadExtension test_ext = {"Ext", ext_diff, NULL};

static void test_extension(void) {
  reload_register_extension(&test_ext);
  reload_register_extension(&test_ext); /* once only */
  ext_calls = 0;
  g_autofree char *same = diff("", "", NULL);
  g_assert_cmpint(ext_calls, ==, 1);
  g_assert_cmpstr(same, ==, ALWAYS);
  g_autofree char *changed = diff("", "max_payload: 9\n", NULL);
  g_assert_cmpstr(changed, ==, ALWAYS "\nReloaded: max_payload = 9\nReloaded: ext");
  g_autofree char *refused = diff("", "max_payload: 7\n", NULL);
  g_assert_cmpstr(refused, ==, "ERR: config reload not supported for Ext");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/reload/unchanged", test_unchanged);
  g_test_add_func("/reload/order-and-format", test_order_and_format);
  g_test_add_func("/reload/auth-lines", test_auth_lines);
  g_test_add_func("/reload/refused", test_refused);
  g_test_add_func("/reload/allowed-special", test_allowed_special);
  g_test_add_func("/reload/flags-win", test_flags_win);
  g_test_add_func("/reload/extension", test_extension);
  return g_test_run();
}
