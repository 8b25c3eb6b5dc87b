/* monitor_json.h — a small JSON writer that prints exactly what Go's
 * encoding/json prints (json.MarshalIndent(v, "", "  ") or json.Marshal):
 * the same indentation, "{}"/"[]" for empty containers, HTML-safe string
 * escapes (\u003c, \u003e, \u0026), and Go's float formatting.  Keys are
 * written in the order the caller gives, which is Go's struct field order.
 * Used by monitor.c only; no state beyond the GString it appends to. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

typedef struct JsonW {
  GString *out;          /* borrowed */
  bool indent;           /* MarshalIndent vs Marshal */
  int depth;
  bool empty[JW_MAX_DEPTH];   /* container at this depth has no member yet */
} JsonW;

void jw_init(JsonW *w, GString *out, bool indent);
/* key is NULL inside arrays and for the root value. */
void jw_begin_object(JsonW *w, const char *key);
void jw_end_object(JsonW *w);
void jw_begin_array(JsonW *w, const char *key);
void jw_end_array(JsonW *w);
void jw_string(JsonW *w, const char *key, const char *value);  /* NULL value → "" */
void jw_int(JsonW *w, const char *key, int64_t value);
void jw_uint(JsonW *w, const char *key, uint64_t value);
void jw_bool(JsonW *w, const char *key, bool value);
void jw_double(JsonW *w, const char *key, double value);
void jw_null(JsonW *w, const char *key);
/* The key (and separator) only; the caller appends the value to w->out. */
void jw_key(JsonW *w, const char *key);

/* Appends `s` as a Go JSON string literal (quotes included). */
void jw_append_string(GString *out, const char *s);
/* Appends a float64 the way Go's encoding/json does. */
void jw_append_double(GString *out, double v);

/* Values as nats-server prints them: a time (RFC 3339, trimmed fraction;
 * `utc` prints Z, else the local offset), an uptime ("1d2h3m4s") of `us`
 * microseconds, and an RTT of `rtt_us` as Go's Duration.String(). */
void jw_time(JsonW *w, const char *key, int64_t us, bool utc);
void jw_uptime(JsonW *w, const char *key, int64_t us);
void jw_rtt(JsonW *w, const char *key, int64_t rtt_us);
char *jw_uptime_string(int64_t us);   /* (transfer full) */
