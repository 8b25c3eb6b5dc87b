/* accounts_test.c — Go's account rules for mappings, exports and imports
 * (accounts.go AddWeightedMappings, selectMappedSubject, stream/service
 * export authorization, cycle checks), on accounts without a server. */
#include <glib.h>
#include <string.h>

#include "accounts.h"
#include "subject_transform.h"

static char *map1(Account *a, const SubjectTransform *tr, const char *subj) {
  return subject_transform_apply_dup(tr, subj, strlen(subj));
}

static void test_mapping_weights(void) {
  Account *a = account_new("A", false);
  AccountMapDestSpec over[] = {{"x", 60, NULL}, {"y", 50, NULL}};
  g_autofree char *e1 = account_add_mapping(a, "w", over, 2);
  g_assert_cmpstr(e1, ==, "total weight needs to be <= 100");
  AccountMapDestSpec dup[] = {{"x", 10, NULL}, {"x", 20, NULL}};
  g_autofree char *e2 = account_add_mapping(a, "w", dup, 2);
  g_assert_cmpstr(e2, ==, "duplicate entry for \"x\"");
  g_autofree char *e3 = account_add_mapping(a, "a..b", over, 1);
  g_assert_cmpstr(e3, ==, "invalid subject");
  g_assert_null(a->mappings);  /* nothing added by failures */

  /* 40% to n.$1; the source keeps the other 60%, sorted and cumulative */
  AccountMapDestSpec part[] = {{"n.$1", 40, NULL}};
  g_assert_null(account_add_mapping(a, "m.*", part, 1));
  AccountMapping *m = a->mappings->pdata[0];
  g_assert_cmpuint(m->dests->len, ==, 2);
  AccountMapDest *d0 = m->dests->pdata[0], *d1 = m->dests->pdata[1];
  g_assert_cmpstr(subject_transform_dest(d0->tr), ==, "n.$1");
  g_assert_cmpuint(d0->weight, ==, 40);
  g_assert_cmpstr(subject_transform_dest(d1->tr), ==, "m.$1");
  g_assert_cmpuint(d1->weight, ==, 100);

  /* picks spread over both destinations, never none */
  int to_n = 0, to_m = 0;
  for (int i = 0; i < 1000; i++) {
    const SubjectTransform *tr = NULL;
    g_assert_true(account_select_mapping(a, "m.k", 3, &tr));
    g_assert_nonnull(tr);
    g_autofree char *out = map1(a, tr, "m.k");
    if (strcmp(out, "n.k") == 0) to_n++;
    else if (strcmp(out, "m.k") == 0) to_m++;
    else g_assert_not_reached();
  }
  g_assert_cmpint(to_n, >, 300);
  g_assert_cmpint(to_m, >, 500);

  /* no mapping for other subjects; a mapping of the same source replaces */
  const SubjectTransform *tr = NULL;
  g_assert_false(account_select_mapping(a, "other", 5, &tr));
  AccountMapDestSpec all[] = {{"z.$1", 100, NULL}};
  g_assert_null(account_add_mapping(a, "m.*", all, 1));
  g_assert_cmpuint(a->mappings->len, ==, 1);
  g_assert_true(account_select_mapping(a, "m.q", 3, &tr));
  g_autofree char *out = map1(a, tr, "m.q");
  g_assert_cmpstr(out, ==, "z.q");

  /* the source listed explicitly with less than 100% in total: the rest is dropped */
  AccountMapDestSpec loss[] = {{"drop", 50, NULL}, {"keep", 0, NULL}};
  g_assert_null(account_add_mapping(a, "drop", loss, 2));
  int none = 0;
  for (int i = 0; i < 400; i++) {
    g_assert_true(account_select_mapping(a, "drop", 4, &tr));
    if (!tr) none++;
  }
  g_assert_cmpint(none, >, 100);
  account_free(a);
}

static void test_exports_imports(void) {
  Account *a = account_new("A", false), *b = account_new("B", false), *c = account_new("C", false);
  g_autoptr(GPtrArray) only_b = g_ptr_array_new();
  g_ptr_array_add(only_b, "B");
  g_assert_null(account_add_stream_export(a, "priv.>", only_b, 0));
  g_assert_null(account_add_stream_export(a, "pub.>", NULL, 0));
  g_assert_null(account_add_service_export(a, "svc.*", SERVICE_RESP_STREAMED, NULL, 0));

  g_autofree char *e1 = account_add_stream_import(c, a, "priv.x", NULL);
  g_assert_cmpstr(e1, ==, "stream import not authorized");
  g_assert_null(account_add_stream_import(b, a, "priv.x", "p"));
  StreamImport *si = b->stream_imports->pdata[0];
  g_assert_cmpstr(si->to, ==, "p.priv.x");
  g_autofree char *e2 = account_add_stream_import(b, a, "pub.>", "x.*");
  g_assert_cmpstr(e2, ==, "stream import prefix can not contain wildcard tokens");
  g_autofree char *e3 = account_add_stream_import(b, a, "priv.x", NULL);
  g_assert_cmpstr(e3, ==, "stream import already exists");
  g_autofree char *e4 = account_add_stream_import(c, a, "other", NULL);
  g_assert_cmpstr(e4, ==, "stream import not authorized");

  /* wildcard service import renamed: requests map through a transform */
  g_assert_null(account_add_service_import(c, a, "local.*", "svc.*"));
  ServiceImport *svc = c->service_imports->pdata[0];
  g_assert_nonnull(svc->tr);
  g_assert_true(svc->rt == SERVICE_RESP_STREAMED);
  g_autofree char *to = subject_transform_apply_dup(svc->tr, "local.q", 7);
  g_assert_cmpstr(to, ==, "svc.q");
  g_autofree char *e5 = account_add_service_import(c, a, "local.*", "svc.*");
  g_assert_cmpstr(e5, ==,
                  "duplicate service import subject \"local.*\", previously used in import for account \"A\", subject "
                  "\"svc.*\"");
  g_autofree char *e6 = account_add_service_import(c, a, "nope", "nope");
  g_assert_cmpstr(e6, ==, "service import not authorized");

  /* A and B import each other's service on the same subject: a cycle */
  g_assert_null(account_add_service_export(b, "s", SERVICE_RESP_SINGLETON, NULL, 0));
  g_assert_null(account_add_service_export(a, "s", SERVICE_RESP_SINGLETON, NULL, 0));
  g_assert_null(account_add_service_import(a, b, "s", "s"));
  g_autofree char *e7 = account_add_service_import(b, a, "s", "s");
  g_assert_cmpstr(e7, ==, "import forms a cycle");

  /* account_token_position must point at a '*' */
  g_autofree char *e8 = account_add_stream_export(a, "t.b", NULL, 2);
  g_assert_cmpstr(e8, ==, "sublist: invalid subject");
  account_free(a);
  account_free(b);
  account_free(c);
}

static void free_rsi(gpointer p) {
  ServiceImport *si = p;
  g_free(si->from);
  g_free(si->to);
  g_free(si);
}

/* The same sharing config applied to A and B (B imports from A). */
static void apply_sharing(Account *a, Account *b, const char *prefix) {
  g_assert_null(account_add_stream_export(a, "ev.>", NULL, 0));
  g_assert_null(account_add_service_export(a, "svc.*", SERVICE_RESP_SINGLETON, NULL, 0));
  AccountMapDestSpec d[] = {{"dst", 100, NULL}};
  g_assert_null(account_add_mapping(a, "src", d, 1));
  g_assert_null(account_add_stream_import(b, a, "ev.>", prefix));
  g_assert_null(account_add_service_import(b, a, "ask", "svc.one"));
}

/* Config reload: sharing detached and re-applied; unchanged stream imports
 * keep their objects (shadows point at them), changed ones are put aside
 * until _finish; a replaced service export lives while a pending response
 * names it. */
static void test_reload(void) {
  Account *a = account_new("A", false), *b = account_new("B", false);
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  g_ptr_array_add(all, a);
  g_ptr_array_add(all, b);
  apply_sharing(a, b, NULL);
  StreamImport *first = b->stream_imports->pdata[0];
  ServiceExport *se = a->service_exports->pdata[0];
  ServiceImport *rsi = g_new0(ServiceImport, 1);
  rsi->from = g_strdup("_R_.abcdef.ghijkl");
  rsi->to = g_strdup("inbox");
  rsi->acc = b;
  rsi->se = se;
  rsi->response = true;
  a->responses = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free_rsi);
  g_hash_table_insert(a->responses, rsi->from, rsi);

  accounts_import_reload_detach(a);
  accounts_import_reload_detach(b);
  g_assert_null(a->mappings);
  g_assert_null(a->stream_exports);
  g_assert_null(a->service_exports);
  g_assert_null(b->service_imports);
  g_assert_null(b->stream_imports);
  g_assert_cmpuint(a->retired_service_exports->len, ==, 1);
  g_assert_true(b->old_stream_imports->pdata[0] == first);

  apply_sharing(a, b, NULL);
  g_assert_false(accounts_import_reload_streams_changed(a));
  g_assert_false(accounts_import_reload_streams_changed(b));
  g_assert_true(b->stream_imports->pdata[0] == first);  /* the old object, kept */
  g_assert_null(b->old_stream_imports);
  g_assert_nonnull(a->mappings);
  g_assert_true(a->service_exports->pdata[0] != se);
  accounts_import_reload_finish(all);
  g_assert_true(a->retired_service_exports->pdata[0] == se);  /* the response still names it */
  g_assert_cmpstr(se->subject, ==, "svc.*");

  /* the import changes: the old one stays until _finish */
  accounts_import_reload_detach(a);
  accounts_import_reload_detach(b);
  g_assert_cmpuint(a->retired_service_exports->len, ==, 2);
  apply_sharing(a, b, "p");
  g_assert_true(accounts_import_reload_streams_changed(b));
  g_assert_true(b->old_stream_imports->pdata[0] == first);
  g_assert_cmpstr(((StreamImport *)b->stream_imports->pdata[0])->to, ==, "p.ev.>");
  g_hash_table_remove(a->responses, "_R_.abcdef.ghijkl");
  accounts_import_reload_finish(all);
  g_assert_null(b->old_stream_imports);
  g_assert_null(a->retired_service_exports);  /* nobody names them any more */
  account_free(a);
  account_free(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/accounts/mapping-weights", test_mapping_weights);
  g_test_add_func("/accounts/exports-imports", test_exports_imports);
  g_test_add_func("/accounts/reload", test_reload);
  return g_test_run();
}
