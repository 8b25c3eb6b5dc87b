/* reload.h — configuration reload (nats-server reload.go): SIGHUP or
 * `--signal reload` re-reads the -c file, lays the startup command-line flags
 * over it again, diffs old and new options field by field in Go's Options
 * order, refuses the whole reload if any field that cannot change live did
 * change, and otherwise applies the changes to the running server and its
 * connections.  Thread: protocol loop (the signal arrives as a loop callback). */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "forward.h"

/* What a changed field needs once the new options are in place. */
typedef enum ReloadAction {
  RELOAD_LOG_ONLY,       /* read live from s->opts where used; just log */
  RELOAD_LOGGING,        /* reconfigure the logger */
  RELOAD_AUTH,           /* rebuild users/accounts, recheck every client */
  RELOAD_MAX_PAYLOAD,    /* INFO prefix and every client's parser limit */
  RELOAD_MAX_CONTROL_LINE,
  RELOAD_MAX_CONN,       /* close connections above the new limit */
  RELOAD_PID_FILE,
  RELOAD_PORTS_FILE_DIR,
  RELOAD_CLIENT_ADVERTISE,
  RELOAD_TLS,            /* INFO's tls_required/tls_verify; new sessions use the new config */
  RELOAD_EXTENSION,      /* a module's hook (see ReloadExtension) */
} ReloadAction;

/* One change found by reload_diff. */
typedef struct ReloadChange {
  ReloadAction action;
  char *log_line;        /* owned: the [INF] line logged when applied; NULL = none */
  const struct ReloadExtension *ext; /* borrowed: for RELOAD_EXTENSION */
} ReloadChange;

/* A module with options of its own (e.g. TLS) takes part in reload by
 * registering one of these at startup.  `diff` returns 0 when its options are
 * unchanged, 1 when changed and appliable (with *log_line, transfer full, or
 * NULL), -1 to refuse the reload (*error, transfer full, is Go's text).
 * `apply` runs after s->opts holds the new options; `old` is still valid. */
typedef struct ReloadExtension {
  const char *name;
  int (*diff)(const Options *old_opts, const Options *new_opts, char **log_line, char **error);
  void (*apply)(Server *s, const Options *old_opts);
} ReloadExtension;

/* Registers ext (borrowed; static storage).  At most 8. */
void reload_register_extension(const ReloadExtension *ext);

/* Compares old and new options as nats-server's diffOptions does.  Returns
 * NULL and appends ReloadChange* (owned by the array's free func) to
 * `changes` in Go's field order, or returns the error text (transfer full,
 * "config reload not supported for <Field>: old=<v>, new=<v>").  Pure: no
 * server, no logging, so unit tests call it directly. */
char *reload_diff(const Options *old_opts, const Options *new_opts, GPtrArray *changes);
/* A GPtrArray with the right free func for reload_diff. (transfer full) */
GPtrArray *reload_changes_new(void);

/* Reads s->opts->config_file again and applies it (SIGHUP).  On failure logs
 * "[ERR] Failed to reload server configuration: <why>" and keeps the old
 * options; returns false then. */
bool reload_server(Server *s);
