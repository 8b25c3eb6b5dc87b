/* const.h — defaults and limits, named as in nats-server's const.go so that
 * grep works across both trees.  Durations are in microseconds (_US) unless
 * the name says otherwise.  Add constants here as modules need them. */
#pragma once

#include <glib.h>

#define VERSION "2.9.10"               /* nats-server version we match: clients gate features on it */
#define NATS_VERSION VERSION
#define CNATSD_VERSION "0.1.0"
#define PROTO 1
#define PROTO_VERSION PROTO
#define DEFAULT_PORT 4222
#define RANDOM_PORT (-1)
#define DEFAULT_HOST "0.0.0.0"

/* Longest control line (the op's arguments, not counting the op name). */
#define MAX_CONTROL_LINE_SIZE 4096
#define MAX_PAYLOAD_SIZE (1024 * 1024)
/* Above this, nats-server warns at startup that max_payload is unusually large. */
#define MAX_PAYLOAD_MAX_SIZE (8 * 1024 * 1024)
#define MAX_PENDING_SIZE (64 * 1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS (64 * 1024)

#define CR_LF "\r\n"
#define LEN_CR_LF 2

/* Sizes of the protocol snippets nats-server puts in its parser log lines. */
#define PROTO_SNIPPET_SIZE 32
#define MAX_CONTROL_LINE_SNIPPET_SIZE 128

#define MAX_MSG_ARGS 4
#define MAX_RMSG_ARGS 6
#define MAX_HMSG_ARGS 7
#define MAX_PUB_ARGS 3
#define MAX_HPUB_ARGS 4

/* Size arguments (PUB/HPUB sizes, UNSUB max) accept at most this many
 * decimal digits; longer is "Bad or Missing Size" (nats-server's parseSize). */
#define MAX_PARSE_SIZE_LEN 9

#define DEFAULT_PING_MAX_OUT 2
/* Routes, gateways, leaf nodes: log a failed (re)connect attempt every N tries. */
#define DEFAULT_CONNECT_ERROR_REPORTS 3600
#define DEFAULT_RECONNECT_ERROR_REPORTS 1
#define DEFAULT_MAX_CLOSED_CLIENTS 10000
#define DEFAULT_LEAFNODE_PORT 7422
#define DEFAULT_HTTP_PORT 8222
#define DEFAULT_SYSTEM_ACCOUNT "$SYS"
#define DEFAULT_GLOBAL_ACCOUNT "$G"

/* Go's time.Duration constants. */
#define TLS_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define AUTH_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define DEFAULT_PING_INTERVAL_US (120 * G_USEC_PER_SEC)
#define FIRST_CLIENT_PING_INTERVAL_US (2 * G_USEC_PER_SEC)
#define DEFAULT_FLUSH_DEADLINE_US (10 * G_USEC_PER_SEC)
#define DEFAULT_LAME_DUCK_DURATION_US (120 * G_USEC_PER_SEC)
#define DEFAULT_LAME_DUCK_GRACE_PERIOD_US (10 * G_USEC_PER_SEC)
#define RTT_MEASUREMENT_INTERVAL_US (3600LL * G_USEC_PER_SEC)   /* DEFAULT_RTT_MEASUREMENT_INTERVAL */
#define ACCEPT_MIN_SLEEP_US (10 * 1000)
#define ACCEPT_MAX_SLEEP_US (1 * G_USEC_PER_SEC)

/* Read-buffer sizing (client.go: startBufSize, minBufSize, maxBufSize). */
#define START_BUF_SIZE 512
#define MIN_BUF_SIZE 64
#define MAX_BUF_SIZE 65536
