/* interop_server: start/stop/signal a NATS server binary (cnatsd or nats-server)
 * for the nats-c interop suite. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef struct {
  char *bin;      /* owned: server binary path */
  char *dir;      /* owned: temp dir (ports file, log) */
  char *log_path; /* owned: server stderr+stdout */
  GPid pid;       /* 0 when not running */
  int port;       /* client port read from the ports file */
  char *url;      /* owned: nats://127.0.0.1:port */
  char **args;    /* owned, NULL-terminated: extra flags (e.g. -c conf) */
  char **envp;    /* owned: environment for the server, NULL = inherit */
} InteropServer;

/* NATS_SERVER_BIN or /usr/sbin/nats-server. */
const char *interop_server_bin(void);

/* Start on `port` (-1 = any free port). Returns NULL with a message in *err. */
InteropServer *interop_server_start(int port, char **err);
/* Same with extra flags after the common ones and extra "NAME=value"
 * environment entries (config $VARIABLES); either may be NULL. */
InteropServer *interop_server_start_full(int port, const char *const *args,
                                         const char *const *env, char **err);
/* Restart a stopped server on its previous port (waits for the new ports file). */
gboolean interop_server_restart(InteropServer *s, char **err);
/* SIGTERM, wait up to 5 s, then SIGKILL. Safe to call when already stopped. */
void interop_server_stop(InteropServer *s);
void interop_server_kill(InteropServer *s); /* SIGKILL + reap */
gboolean interop_server_signal(InteropServer *s, int sig);
void interop_server_free(InteropServer *s);

/* Raw TCP connection to 127.0.0.1:port; rcvbuf > 0 sets SO_RCVBUF before
 * connect. Returns fd or -1. */
int interop_raw_connect(int port, int rcvbuf);
/* Read one CRLF-terminated line with a deadline; returns owned string without
 * CRLF, or NULL on EOF/timeout/error. */
char *interop_raw_read_line(int fd, int timeout_ms);
gboolean interop_raw_write(int fd, const char *buf, size_t len);
/* Read and discard until EOF or error (TRUE) or timeout (FALSE). */
gboolean interop_raw_wait_closed(int fd, int timeout_ms);
