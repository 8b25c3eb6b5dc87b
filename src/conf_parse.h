/* conf_parse.h — the NATS configuration file format as a tree of ConfValue.
 *
 * Semantics follow nats-server 2.9.10's conf package in pedantic mode
 * (ParseFileWithChecks, which is what the server uses): every value carries
 * the file, line and position nats-server would report; map entries carry
 * the position of their key; a map entry that a later $reference used is
 * flagged (opts treats such unknown keys as variables, not errors).
 *
 * Error messages (GError in CONF_ERROR) are nats-server's texts verbatim so
 * `cnatsd -t` prints what `nats-server -t` prints; the location is attached
 * to the error and read with conf_error_get_location(), or use
 * conf_error_format() for "file:line:col: message". */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits (nats-server has none; hostile input must not exhaust us). */
#define CONF_MAX_DEPTH 128                /* nested maps/arrays, root map = 1, counted after $var copies */
#define CONF_MAX_INCLUDE_DEPTH 16         /* include chains (a self-include stops here) */
#define CONF_MAX_ENV_DEPTH 16             /* $VAR taken from the environment, expanding further $VARs */
#define CONF_MAX_FILE_SIZE (8u << 20)     /* bytes in one file */
#define CONF_MAX_TOTAL_INPUT (64u << 20)  /* bytes lexed in one parse: files + includes + env values */
#define CONF_MAX_VALUES (1u << 20)        /* values created in one parse, $var copies included */

typedef enum {
  CONF_STRING,
  CONF_INTEGER,
  CONF_FLOAT,
  CONF_BOOL,
  CONF_DATETIME,
  CONF_ARRAY,
  CONF_MAP
} ConfKind;

typedef struct ConfValue ConfValue; /* owned by its parent; the root owned by the caller */

#define CONF_ERROR (conf_error_quark())
GQuark conf_error_quark(void);
typedef enum {
  CONF_ERROR_IO,       /* file could not be read (message: "open X: no such file or directory") */
  CONF_ERROR_SYNTAX,   /* lexer: "Parse error on line N: '...'" */
  CONF_ERROR_VALUE,    /* bad integer/float/bool/datetime literal */
  CONF_ERROR_VARIABLE, /* $name not found or its environment value does not parse */
  CONF_ERROR_INCLUDE,  /* an included file failed ("error parsing include file 'x', ...") */
  CONF_ERROR_LIMIT,    /* one of the CONF_MAX_* limits */
} ConfErrorCode;

/* Location of a CONF_ERROR (innermost file for include errors). file may be
 * NULL (no location). Returns false if error is not a CONF_ERROR. */
bool conf_error_get_location(const GError *error, const char **file, int *line, int *column);
/* "file:line:col: message" (transfer full). */
char *conf_error_format(const GError *error);

typedef enum {
  CONF_PARSE_DEFAULT = 0,
  CONF_PARSE_NO_INCLUDES = 1 << 0, /* 'include' fails with CONF_ERROR_INCLUDE (fuzzing, untrusted text) */
  CONF_PARSE_NO_ENV = 1 << 1,      /* unresolved $vars do not fall back to the environment */
} ConfParseFlags;

/* The whole file; includes resolve relative to its directory. (transfer full) */
ConfValue *conf_parse_file(const char *path, GError **error);
/* Text as if read from pseudo_path (NULL → "" : includes relative to the cwd). */
ConfValue *conf_parse_string(const char *text, const char *pseudo_path, GError **error);
/* Bytes (may contain NULs, which end the input the way nats-server reads them). */
ConfValue *conf_parse_data(const char *data, size_t len, const char *pseudo_path, ConfParseFlags flags,
                           GError **error);
ConfValue *conf_parse_file_full(const char *path, ConfParseFlags flags, GError **error);

void conf_value_free(ConfValue *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConfValue, conf_value_free)

ConfKind conf_value_kind(const ConfValue *v);
const char *conf_value_kind_name(ConfKind k);
/* Go's dynamic type of the value as nats-server's opts code sees it ("int64",
 * "map[string]interface {}", ...), for its "interface conversion" messages. */
const char *conf_value_go_type(const ConfValue *v);
/* Appends an error or warning to `list` as nats-server prints them:
 * "file:line:col: message", or just the message when v is NULL (Go had no
 * token to point at). */
void conf_report(GPtrArray *list, const ConfValue *v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* STRING: the text (may hold NULs from \x00: see _len); DATETIME: its source text. */
const char *conf_value_string(const ConfValue *v);
size_t conf_value_string_len(const ConfValue *v);
int64_t conf_value_int(const ConfValue *v);
double conf_value_float(const ConfValue *v);
bool conf_value_bool(const ConfValue *v);
int64_t conf_value_datetime(const ConfValue *v); /* seconds since the epoch, UTC */
size_t conf_value_array_len(const ConfValue *v);
const ConfValue *conf_value_array_get(const ConfValue *v, size_t i);
size_t conf_value_map_len(const ConfValue *v);
const char *conf_value_map_key(const ConfValue *v, size_t i);
const ConfValue *conf_value_map_value(const ConfValue *v, size_t i);
/* Exact key match (nats-server's m["system_account"]). */
const ConfValue *conf_value_map_get(const ConfValue *map, const char *key);
/* ASCII case-insensitive (opts matches keys with strings.ToLower); with
 * several spellings present, the last one written wins. */
const ConfValue *conf_value_map_lookup(const ConfValue *map, const char *key);

/* Where nats-server says the value is: file NULL and line 0 when it has no
 * position (values that came from an environment variable's text). */
const char *conf_value_file(const ConfValue *v);
int conf_value_line(const ConfValue *v);
int conf_value_column(const ConfValue *v);
/* True if a later $reference used this map entry (token.IsUsedVariable). */
bool conf_value_is_used_variable(const ConfValue *v);

/* Plain JSON (maps in written order, datetimes as strings). (transfer full) */
char *conf_value_to_json(const ConfValue *v);

/* Go's time.ParseDuration: "1h2m3.5s", "-300ms", "1µs", "0". On failure
 * returns false and sets error (may be NULL) to Go's message, e.g.
 * `time: invalid duration "x"`. */
bool conf_parse_duration(const char *s, int64_t *out_ns, GError **error);
