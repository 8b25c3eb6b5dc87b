/* predict.c — differential check of parser.c against the real nats-server
 * (manual tool, not built by meson).  Prints what nats-server should visibly
 * do with a client stream (PONGs, -ERR lines, CLOSED/OPEN), computed with
 * cnatsd's parser and error table plus a tiny model of the client-level
 * checks (CONNECT JSON, INFO JSON, SUB subject validity).  diff.py compares
 * it with what /usr/sbin/nats-server really does.
 *
 *   cc -O1 -I src tests/fuzz/diff/predict.c build/src/libcnatsd.a \
 *      $(pkg-config --cflags --libs glib-2.0 json-glib-1.0) -o /tmp/diff/predict
 *   python3 tests/fuzz/diff/gen.py            # writes /tmp/diff/gen/g*
 *   python3 tests/fuzz/diff/diff.py /tmp/diff/gen/g*  (or a fuzz corpus)
 *
 * Known, accepted differences: duplicate SIDs (the model validates every SUB),
 * and lines with a stray CR whose outcome depends on nats-server's read
 * boundaries (see parser.h). */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include "parser.h"
#include "errors.h"
typedef struct { GString *out; Parser *p; } Ctx;
static bool valid_subject(const char *s, size_t n) {
  if (n == 0) return false;
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || s[i] == '.') {
      size_t tl = i - start;
      if (tl == 0) return false;
      if (tl > 1) for (size_t k = start; k < i; k++) if (s[k] == '*' || s[k] == '>') return false;
      if (tl == 1 && s[start] == '>' && i != n) return false;
      start = i + 1;
    } else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == '\f') return false;
  }
  return true;
}
static NatsError on_ping(void *c) { g_string_append(((Ctx *)c)->out, "PONG\n"); return NATS_OK; }
static NatsError on_err(void *c, const char *m, size_t n) { return NATS_ERR_CLIENT_SENT_ERR; }
static JsonNode *parse_json(const char *j, size_t n) {
  JsonParser *jp = json_parser_new();
  JsonNode *r = NULL;
  if (json_parser_load_from_data(jp, j, (gssize)n, NULL) && json_parser_get_root(jp))
    r = json_node_copy(json_parser_get_root(jp));
  g_object_unref(jp);
  return r;
}
static NatsError on_info(void *c, const char *j, size_t n) {
  JsonNode *r = parse_json(j, n);
  bool ok = r && (JSON_NODE_HOLDS_OBJECT(r) || JSON_NODE_HOLDS_NULL(r));
  if (r) json_node_unref(r);
  return ok ? NATS_OK : NATS_ERR_INFO_PARSE;
}
static NatsError on_connect(void *c, const char *j, size_t n) {
  Ctx *x = c;
  JsonNode *r = parse_json(j, n);
  if (!r || !(JSON_NODE_HOLDS_OBJECT(r) || JSON_NODE_HOLDS_NULL(r))) { if (r) json_node_unref(r); return NATS_ERR_CONNECT_PARSE; }
  NatsError e = NATS_OK;
  if (JSON_NODE_HOLDS_OBJECT(r)) {
    JsonObject *o = json_node_get_object(r);
    if (json_object_has_member(o, "headers")) x->p->headers = json_object_get_boolean_member(o, "headers");
    gint64 proto = json_object_has_member(o, "protocol") ? json_object_get_int_member(o, "protocol") : 0;
    bool nr = json_object_has_member(o, "no_responders") && json_object_get_boolean_member(o, "no_responders");
    if (proto < 0 || proto > 1) e = NATS_ERR_BAD_CLIENT_PROTOCOL;
    else if (nr && !x->p->headers) e = NATS_ERR_NO_RESPONDERS_REQUIRES_HEADERS;
  }
  json_node_unref(r);
  return e;
}
static NatsError on_sub(void *c, const char *s, size_t sn, const char *q, size_t qn, const char *sid, size_t sidn) {
  if (!valid_subject(s, sn)) g_string_append(((Ctx *)c)->out, "-ERR 'Invalid Subject'\n");
  return NATS_OK;
}
int main(int argc, char **argv) {
  gchar *data; gsize len;
  if (!g_file_get_contents(argv[1], &data, &len, NULL)) return 2;
  Parser p; parser_init(&p);
  Ctx c = {g_string_new(NULL), &p};
  ParserCallbacks cb = {.on_ping = on_ping, .on_err = on_err, .on_info = on_info, .on_connect = on_connect, .on_sub = on_sub};
  NatsError e = parser_parse(&p, data, len, &cb, &c);
  if (e && errors_text(e)) g_string_append_printf(c.out, "-ERR '%s'\n", errors_text(e));
  g_string_append(c.out, e && errors_closes(e) ? "CLOSED\n" : "OPEN\n");
  fputs(c.out->str, stdout);
  return 0;
}
