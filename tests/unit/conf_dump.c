/* conf_dump — prints conf_parse_file() results in the canonical form of
 * tests/conf_oracle (nats-server's own parser), one line per file, so the
 * two can be diffed (tests/unit/conf_diff.sh). Not part of the server. */
#include "conf_parse.h"

#include <stdio.h>
#include <string.h>

static void quote(GString *b, const char *s, size_t n) {
  g_string_append_c(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      g_string_append_printf(b, "\\x%02x", c);
    else
      g_string_append_c(b, (char)c);
  }
  g_string_append_c(b, '"');
}

static int cmp_keys(gconstpointer a, gconstpointer b, gpointer m) {
  const char *ka = conf_value_map_key(m, GPOINTER_TO_SIZE(*(gpointer *)a));
  const char *kb = conf_value_map_key(m, GPOINTER_TO_SIZE(*(gpointer *)b));
  return strcmp(ka, kb);
}

static void dump(GString *b, const ConfValue *v, bool root) {
  g_autofree char *pos = NULL;
  if (root || !conf_value_file(v))
    pos = g_strdup("-");
  else
    pos = g_strdup_printf("%s:%d:%d:%d", conf_value_file(v), conf_value_line(v),
                          conf_value_column(v), conf_value_is_used_variable(v) ? 1 : 0);
  switch (conf_value_kind(v)) {
  case CONF_STRING:
    g_string_append_printf(b, "S(%s)", pos);
    quote(b, conf_value_string(v), conf_value_string_len(v));
    break;
  case CONF_INTEGER:
    g_string_append_printf(b, "I(%s)%" G_GINT64_FORMAT, pos, conf_value_int(v));
    break;
  case CONF_FLOAT: {
    double d = conf_value_float(v);
    guint64 bits;
    memcpy(&bits, &d, sizeof bits);
    g_string_append_printf(b, "F(%s)%016" G_GINT64_MODIFIER "x", pos, bits);
    break;
  }
  case CONF_BOOL:
    g_string_append_printf(b, "B(%s)%s", pos, conf_value_bool(v) ? "true" : "false");
    break;
  case CONF_DATETIME:
    g_string_append_printf(b, "D(%s)%" G_GINT64_FORMAT, pos, conf_value_datetime(v));
    break;
  case CONF_ARRAY:
    g_string_append_printf(b, "A(%s)[", pos);
    for (size_t i = 0; i < conf_value_array_len(v); i++) {
      if (i)
        g_string_append_c(b, ',');
      dump(b, conf_value_array_get(v, i), false);
    }
    g_string_append_c(b, ']');
    break;
  case CONF_MAP: {
    g_string_append_printf(b, "M(%s){", pos);
    GPtrArray *idx = g_ptr_array_new();
    for (size_t i = 0; i < conf_value_map_len(v); i++)
      g_ptr_array_add(idx, GSIZE_TO_POINTER(i));
    g_ptr_array_sort_with_data(idx, cmp_keys, (gpointer)v);
    for (guint j = 0; j < idx->len; j++) {
      size_t i = GPOINTER_TO_SIZE(g_ptr_array_index(idx, j));
      if (j)
        g_string_append_c(b, ',');
      const char *k = conf_value_map_key(v, i);
      quote(b, k, strlen(k));
      g_string_append_c(b, '=');
      dump(b, conf_value_map_value(v, i), false);
    }
    g_ptr_array_free(idx, TRUE);
    g_string_append_c(b, '}');
    break;
  }
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    GError *err = NULL;
    ConfValue *v = conf_parse_file(argv[i], &err);
    if (!v) {
      printf("ERR: %s\n", err->message);
      g_error_free(err);
      continue;
    }
    GString *b = g_string_new(NULL);
    dump(b, v, true);
    printf("%s\n", b->str);
    g_string_free(b, TRUE);
    conf_value_free(v);
  }
  return 0;
}
