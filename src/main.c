/* main.c — process entry: options, logging, then the server loop.
 * With --signal it only sends a signal to a running server and exits. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "opts.h"
#include "server.h"

int main(int argc, char **argv) {
  Options *opts = opts_new_default();
  g_autofree char *signal_cmd = NULL;
  switch (opts_parse_args(opts, argc, argv, &signal_cmd)) {
    case OPTS_EXIT_OK:
      opts_free(opts);
      return 0;
    case OPTS_EXIT_ERROR:
      opts_free(opts);
      return 1;
    case OPTS_SIGNAL: {
      opts_free(opts);
      return server_send_signal(signal_cmd);
    }
    case OPTS_RUN:
      break;
  }
  if (opts->check_config && !opts->config_file) {
    fprintf(stderr, "cnatsd: must specify [-c, --config] option to check configuration file syntax\n");
    opts_free(opts);
    return 1;
  }
  if (opts->config_file) {
    /* Config file first, then the command line again on top: flags win, as
     * with nats-server. */
    g_autofree char *path = g_strdup(opts->config_file);
    bool check = opts->check_config;
    opts_free(opts);
    opts = opts_new_default();
    g_autofree char *report = NULL;
    if (!opts_load_config(opts, path, check, &report)) {
      fprintf(stderr, "cnatsd: %s\n", report);
      opts_free(opts);
      return 1;
    }
    g_autofree char *ignored = NULL;
    opts_parse_args(opts, argc, argv, &ignored);
    if (check) {
      fprintf(stderr, "cnatsd: configuration file %s is valid\n", path);
      opts_free(opts);
      return 0;
    }
  }
  g_autofree char *invalid = opts_validate(opts);
  if (invalid) {
    fprintf(stderr, "cnatsd: %s\n", invalid);
    opts_free(opts);
    return 1;
  }
  g_autofree char *log_error_text = NULL;
  if (!log_apply_options(opts, &log_error_text)) {
    /* nats-server's logger setup dies through Go's log.Fatalf. */
    log_print_std(log_error_text);
    opts_free(opts);
    return 1;
  }
  GError *error = NULL;
  Server *s = server_new(opts, &error);
  if (!s) {
    fprintf(stderr, "cnatsd: %s\n", error->message);
    g_error_free(error);
    return 1;
  }
  s->argc = argc;  /* flags override the file again on reload */
  s->argv = argv;
  int rc = server_run(s);
  server_free(s);
  log_close();
  return rc;
}
