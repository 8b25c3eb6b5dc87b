/* const.h — defaults and limits, named as in nats-server's const.go so that
 * grep works across both trees.  Add constants here as modules need them. */
#pragma once

#define VERSION "2.9.10"
#define PROTO 1
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
#define DEFAULT_MAX_CLOSED_CLIENTS 10000
#define DEFAULT_LEAFNODE_PORT 7422
#define DEFAULT_HTTP_PORT 8222
#define DEFAULT_SYSTEM_ACCOUNT "$SYS"
#define DEFAULT_GLOBAL_ACCOUNT "$G"

/* Go's time.Duration constants, in milliseconds. */
#define TLS_TIMEOUT_MS 2000
#define AUTH_TIMEOUT_MS 2000
#define DEFAULT_PING_INTERVAL_MS (2 * 60 * 1000)
#define DEFAULT_FLUSH_DEADLINE_MS 10000
#define DEFAULT_LAME_DUCK_DURATION_MS (2 * 60 * 1000)
#define DEFAULT_LAME_DUCK_GRACE_PERIOD_MS 10000

/* Read-buffer sizing (client.go: startBufSize, minBufSize, maxBufSize). */
#define START_BUF_SIZE 512
#define MIN_BUF_SIZE 64
#define MAX_BUF_SIZE 65536
