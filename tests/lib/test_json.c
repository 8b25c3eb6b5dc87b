/* test_json.c — compare JSON documents by shape (for INFO lines, monitoring output).
 *
 * Pure functions on the test thread; json-glib does the parsing. The canonical form sorts
 * object keys so member order never matters, and replaces masked values (server_id, nonce,
 * port…) by a type tag so only their type is compared. */
#include "testlib.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const char *
type_tag(JsonNode *n)
{
  switch (json_node_get_node_type(n)) {
  case JSON_NODE_OBJECT: return "<object>";
  case JSON_NODE_ARRAY: return "<array>";
  case JSON_NODE_NULL: return "<null>";
  case JSON_NODE_VALUE: break;
  }
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_STRING)
    return "<string>";
  if (t == G_TYPE_BOOLEAN)
    return "<bool>";
  return "<number>";
}

static gboolean
is_masked(const char *key, const char *const *masked)
{
  for (const char *const *m = masked; m && *m; m++)
    if (strcmp(*m, key) == 0)
      return TRUE;
  return FALSE;
}

static JsonNode *
canon(JsonNode *n, const char *const *masked)
{
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *o = json_node_get_object(n);
    GList *keys = g_list_sort(json_object_get_members(o), (GCompareFunc)strcmp);
    JsonObject *out = json_object_new();
    for (GList *k = keys; k; k = k->next) {
      JsonNode *v = json_object_get_member(o, k->data);
      if (is_masked(k->data, masked))
        json_object_set_string_member(out, k->data, type_tag(v));
      else
        json_object_set_member(out, k->data, canon(v, masked));
    }
    g_list_free(keys);
    JsonNode *r = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(r, out);
    return r;
  }
  if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *a = json_node_get_array(n);
    JsonArray *out = json_array_new();
    for (guint i = 0; i < json_array_get_length(a); i++)
      json_array_add_element(out, canon(json_array_get_element(a, i), masked));
    JsonNode *r = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(r, out);
    return r;
  }
  return json_node_copy(n);
}

static JsonNode *
parse(const char *json, GError **error)
{
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_data(p, json, -1, error))
    return NULL;
  JsonNode *root = json_parser_get_root(p);
  if (!root) {
    g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "empty JSON document");
    return NULL;
  }
  return json_node_copy(root);
}

char *
test_json_shape(const char *json, const char *const *masked, GError **error)
{
  JsonNode *root = parse(json, error);
  if (!root)
    return NULL;
  JsonNode *c = canon(root, masked);
  char *txt = json_to_string(c, FALSE);
  json_node_unref(c);
  json_node_unref(root);
  return txt;
}

gboolean
test_json_same_shape(const char *a, const char *b, const char *const *masked, char **diff)
{
  g_autoptr(GError) ea = NULL, eb = NULL;
  g_autofree char *ca = test_json_shape(a, masked, &ea);
  g_autofree char *cb = test_json_shape(b, masked, &eb);
  gboolean same = ca && cb && strcmp(ca, cb) == 0;
  if (!same && diff)
    *diff = g_strdup_printf("A: %s\nB: %s", ca ? ca : ea->message, cb ? cb : eb->message);
  return same;
}

static gboolean
contains(JsonNode *have, JsonNode *want, GString *path, char **why)
{
  if (JSON_NODE_HOLDS_OBJECT(want)) {
    if (!JSON_NODE_HOLDS_OBJECT(have)) {
      *why = g_strdup_printf("%s: not an object", path->str);
      return FALSE;
    }
    JsonObject *wo = json_node_get_object(want), *ho = json_node_get_object(have);
    GList *keys = json_object_get_members(wo);
    gboolean ok = TRUE;
    for (GList *k = keys; k && ok; k = k->next) {
      gsize len = path->len;
      g_string_append_printf(path, ".%s", (char *)k->data);
      JsonNode *hv = json_object_get_member(ho, k->data);
      if (!hv) {
        *why = g_strdup_printf("%s: missing", path->str);
        ok = FALSE;
      } else {
        ok = contains(hv, json_object_get_member(wo, k->data), path, why);
      }
      g_string_truncate(path, len);
    }
    g_list_free(keys);
    return ok;
  }
  if (JSON_NODE_HOLDS_ARRAY(want)) {
    /* Arrays: same length, element i of `have` contains element i of `want`. */
    JsonArray *wa = json_node_get_array(want);
    JsonArray *ha = JSON_NODE_HOLDS_ARRAY(have) ? json_node_get_array(have) : NULL;
    if (!ha || json_array_get_length(ha) != json_array_get_length(wa)) {
      g_autofree char *h = json_to_string(have, FALSE);
      *why = g_strdup_printf("%s: have %s, want an array of %u", path->str, h,
                             json_array_get_length(wa));
      return FALSE;
    }
    for (guint i = 0; i < json_array_get_length(wa); i++) {
      gsize len = path->len;
      g_string_append_printf(path, "[%u]", i);
      gboolean ok = contains(json_array_get_element(ha, i), json_array_get_element(wa, i), path, why);
      g_string_truncate(path, len);
      if (!ok)
        return FALSE;
    }
    return TRUE;
  }
  if (!json_node_equal(have, want)) {
    g_autofree char *h = json_to_string(have, FALSE);
    g_autofree char *w = json_to_string(want, FALSE);
    *why = g_strdup_printf("%s: have %s, want %s", path->str, h, w);
    return FALSE;
  }
  return TRUE;
}

gboolean
test_json_contains(const char *json, const char *subset, char **why)
{
  g_autoptr(GError) e1 = NULL, e2 = NULL;
  char *dummy = NULL;
  if (!why)
    why = &dummy;
  JsonNode *have = parse(json, &e1);
  JsonNode *want = parse(subset, &e2);
  gboolean ok = FALSE;
  if (!have)
    *why = g_strdup_printf("not JSON: %s", e1->message);
  else if (!want)
    *why = g_strdup_printf("bad expected JSON: %s", e2->message);
  else {
    g_autoptr(GString) path = g_string_new("$");
    ok = contains(have, want, path, why);
  }
  if (have)
    json_node_unref(have);
  if (want)
    json_node_unref(want);
  g_free(dummy);
  return ok;
}
