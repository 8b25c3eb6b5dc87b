/* const.h — defaults and limits, with nats-server's names (const.go) so a
 * grep finds the same constant in both trees.  Durations in microseconds. */
#pragma once

#define NATS_VERSION "2.9.10"          /* protocol/feature level we implement: clients gate on it */
#define CNATSD_VERSION "0.1.0"
#define PROTO_VERSION 1

#define DEFAULT_PORT 4222
#define DEFAULT_HOST "0.0.0.0"
#define MAX_CONTROL_LINE_SIZE 4096
#define MAX_PAYLOAD_SIZE (1024 * 1024)
#define MAX_PAYLOAD_MAX_SIZE (8 * 1024 * 1024)
#define MAX_PENDING_SIZE (64 * 1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS (64 * 1024)
#define TLS_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define AUTH_TIMEOUT_US (2 * G_USEC_PER_SEC)
#define DEFAULT_PING_INTERVAL_US (120 * G_USEC_PER_SEC)
#define DEFAULT_PING_MAX_OUT 2
#define DEFAULT_FLUSH_DEADLINE_US (10 * G_USEC_PER_SEC)
#define DEFAULT_HTTP_PORT 8222
#define ACCEPT_MIN_SLEEP_US (10 * 1000)
#define ACCEPT_MAX_SLEEP_US (1 * G_USEC_PER_SEC)
#define MAX_CONTROL_LINE_SNIPPET_SIZE 128
#define DEFAULT_MAX_CLOSED_CLIENTS 10000
#define DEFAULT_LAME_DUCK_DURATION_US (120 * G_USEC_PER_SEC)
#define DEFAULT_LAME_DUCK_GRACE_PERIOD_US (10 * G_USEC_PER_SEC)
#define DEFAULT_SYSTEM_ACCOUNT "$SYS"
#define DEFAULT_GLOBAL_ACCOUNT "$G"

/* Read buffer sizing (client.go: startBufSize/minBufSize/maxBufSize). */
#define START_BUF_SIZE 512
#define MIN_BUF_SIZE 64
#define MAX_BUF_SIZE 65536
#define SHORTS_TO_SHRINK 2
