/* sublist_driver.c — the C side of the Go differential check (run.sh):
 * runs a gen.py program against our Sublist and prints one line per
 * outcome, in the same format as main.go.in does for nats-server's. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "subject.h"
#include "sublist.h"

#define TF(b) ((b) ? "true" : "false")

static guchar *unhex(const char *h, gsize *len) {
  gsize n = strlen(h) / 2;
  guchar *out = g_malloc(n + 1);
  for (gsize i = 0; i < n; i++)
    out[i] = (guchar)(g_ascii_xdigit_value(h[2 * i]) * 16 + g_ascii_xdigit_value(h[2 * i + 1]));
  *len = n;
  return out;
}

static int id_of(Subscription *s) { return atoi(s->sid); }
static gint icmp(gconstpointer a, gconstpointer b) { return *(const int *)a - *(const int *)b; }
static gint scmp(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void ids_str(GString *o, Subscription **v, uint32_t n) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(int));
  for (uint32_t i = 0; i < n; i++) { int x = id_of(v[i]); g_array_append_val(a, x); }
  g_array_sort(a, icmp);
  g_string_append_c(o, '[');
  for (guint i = 0; i < a->len; i++) g_string_append_printf(o, "%s%d", i ? " " : "", g_array_index(a, int, i));
  g_string_append_c(o, ']');
  g_array_free(a, TRUE);
}
static char *canon(SublistResult *r) {
  GString *o = g_string_new("P");
  ids_str(o, r->psubs, r->npsubs);
  GPtrArray *gs = g_ptr_array_new_with_free_func(g_free);
  for (uint32_t g = 0; g < r->nqgroups; g++) {
    GString *x = g_string_new(r->qsubs[g][0]->queue); g_string_append_c(x, ':');
    ids_str(x, r->qsubs[g], r->nqsubs[g]);
    g_ptr_array_add(gs, g_string_free(x, FALSE));
  }
  g_ptr_array_sort(gs, scmp);
  g_string_append(o, " Q[");
  for (guint i = 0; i < gs->len; i++) g_string_append_printf(o, "%s%s", i ? " " : "", (char *)gs->pdata[i]);
  g_string_append(o, "]");
  g_ptr_array_free(gs, TRUE);
  sublist_result_unref(r);
  return g_string_free(o, FALSE);
}
static GString *pending;
static void ncb(const char *subject, bool has, void *ud) { g_string_append_printf(pending, "notify %s %s\n", (char *)ud, has ? "true" : "false"); }
int main(void) {
  unsigned nreg = 0;
  Sublist *sl = sublist_new(true);
  GHashTable *subs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)subscription_unref);
  pending = g_string_new(NULL);
  char line[4096];
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char **f = g_strsplit(line, "\t", -1);
    if (!strcmp(f[0], "I")) {
      int id = atoi(f[1]);
      const char *q = strcmp(f[3], "-") ? f[3] : NULL;
      Subscription *s = subscription_new(NULL, f[2], strlen(f[2]), q, q ? strlen(q) : 0, f[1], strlen(f[1]));
      int rc = sublist_insert(sl, s);
      if (rc == 0) g_hash_table_insert(subs, GINT_TO_POINTER(id), s); else subscription_unref(s);
      printf("insert %d %s\n", id, rc == 0 ? "true" : "false");
    } else if (!strcmp(f[0], "R")) {
      int id = atoi(f[1]);
      int rc = sublist_remove(sl, g_hash_table_lookup(subs, GINT_TO_POINTER(id)));
      printf("remove %d %s\n", id, rc == 0 ? "true" : "false");
    } else if (!strcmp(f[0], "M")) {
      char *c = canon(sublist_match(sl, f[1], strlen(f[1]))); printf("match %s %s\n", f[1], c); g_free(c);
    } else if (!strcmp(f[0], "V")) {
      char *c = canon(sublist_reverse_match(sl, f[1], strlen(f[1]))); printf("rmatch %s %s\n", f[1], c); g_free(c);
    } else if (!strcmp(f[0], "S")) {
      gsize la = 0, lb = 0;
      guchar *a = unhex(f[1], &la), *b = unhex(f[2], &lb);
      const char *x = (const char *)a, *y = (const char *)b;
      printf("subject %s %s %s %s %s %s %s\n", f[1], f[2], TF(subject_is_valid(x, la)),
             TF(subject_is_valid_literal(x, la)), TF(subject_is_valid_publish(x, la)),
             TF(subject_has_wildcard(x, la)), TF(subject_is_subset(x, la, y, lb)));
      g_free(a);
      g_free(b);
    } else if (!strcmp(f[0], "N")) {
      char *key = g_strdup_printf("%s|%s#%u", f[1], f[2], nreg++);
      g_ptr_array_add(keys, key);
      int rc = strcmp(f[2], "-") ? sublist_register_queue_notification(sl, f[1], f[2], ncb, key) : sublist_register_notification(sl, f[1], ncb, key);
      printf("register %s %s\n", key, rc == 0 ? "true" : "false");
    }
    fputs(pending->str, stdout); g_string_truncate(pending, 0);
    printf("count %u\n", sublist_count(sl));
    g_strfreev(f);
  }
  sublist_free(sl);
  g_hash_table_destroy(subs);
  g_ptr_array_free(keys, TRUE);
}
