/* natsbench: a lean NATS load generator that speaks the raw wire protocol.
 *
 * Owns: its own client connections (no client library), the verification of
 * every delivered message, and the server-side measurements (CPU ticks from
 * /proc/<pid>/stat, VmRSS from /proc/<pid>/status).  Run by ci/bench, once per
 * scenario and payload size against a freshly started server; prints one JSON
 * line on stdout and exits 0 only when every message arrived exactly once and
 * in order.
 *
 * Threads: at most two.  The main thread publishes (or sends requests); one
 * receiver thread owns every subscriber connection through one epoll fd (or
 * answers requests).  The box has 2 cores shared with the server, so the tool
 * stays small: PUBs are batched into a 1 MiB buffer per write(), MSG lines are
 * scanned by hand, and nothing allocates per message.
 *
 * Flow control (why the numbers are fair to both servers): a publisher that
 * simply overruns its subscribers measures how fast the server can buffer, and
 * ends in a slow-consumer cutoff (64 MiB max_pending) that depends on kernel
 * socket sizes rather than on the server.  So pub/sub runs use an end-to-end
 * credit window: the publisher may be at most --credit bytes (default 4 MiB,
 * far below max_pending) ahead of the slowest subscriber (fan-out) or of the
 * group's total (queue).  When the window is full it sleeps on a condition
 * variable until half of it has drained.  Pub-only runs have nobody to
 * acknowledge, so the publisher appends a PING after every half window and
 * keeps at most two PINGs outstanding: the PONG proves the server parsed
 * everything before it.  Both servers see the same offered load pattern and the
 * window is large enough that the pipeline never runs dry, so the rate is
 * limited by the server (and by the shared CPUs), not by the tool.
 *
 * Verification: payload bytes 0..7 hold the message sequence (little endian),
 * bytes 8..11 the publisher id.  Each subscriber keeps a bitmap of seen
 * sequences: a second sighting is a dup, a sequence other than last+1 is
 * out-of-order, and at the end every missing sequence is a loss.  A queue group
 * shares one bitmap (exactly once across members) while order is checked per
 * member.  Any nonzero count, a wrong payload size or an -ERR fails the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RBUF_CAP (2u * 1024 * 1024) /* holds several 64 KiB MSGs per read() */
#define WBUF_CAP (1u * 1024 * 1024)
#define IDLE_RBUF_CAP 4096u
#define MAX_LINE 4096u
#define MAX_SUBS 64
#define SUBJECT "bench.s"
#define QGROUP "benchq"
#define REQ_SUBJECT "bench.req"
#define INBOX "_INBOX.bench.reply"

typedef enum {
	SC_PUB,
	SC_PUBSUB,
	SC_QUEUE,
	SC_REQREP,
	SC_IDLE
} Scenario;

static const char *scenario_names[] = {"pub", "pubsub", "queue", "reqrep", "idle"};

typedef struct {
	const char *host;
	int port;
	Scenario scenario;
	size_t size;
	uint64_t count;
	int subs;
	int idle;
	int server_pid;
	double timeout_s;
	size_t credit;
	uint64_t warmup;
	int stall_ms; /* self-test only: the receiver stops reading once, to provoke loss */
} Options;

static Options opt = {
	.host = "127.0.0.1",
	.port = 4222,
	.scenario = SC_PUBSUB,
	.size = 16,
	.count = 100000,
	.subs = 1,
	.idle = 5000,
	.server_pid = 0,
	.timeout_s = 60.0,
	.credit = 4u * 1024 * 1024,
	.warmup = 0,
};

/* One client connection: the fd and its read buffer (compacted in place). */
typedef struct {
	int fd;
	char *buf; /* owned */
	size_t cap, len, pos;
} Conn;

typedef enum {
	FR_MSG,
	FR_PING,
	FR_PONG,
	FR_OK,
	FR_ERR,
	FR_INFO
} FrameKind;

typedef struct {
	FrameKind kind;
	const char *reply; /* borrowed: points into the Conn buffer until the next fill */
	size_t reply_len;
	const char *data; /* borrowed, as above (MSG payload or the -ERR line) */
	size_t len;
} Frame;

/* Per-subscriber verification state (touched only by the receiver thread). */
typedef struct {
	Conn c;
	uint8_t *seen; /* owned (fan-out) or borrowed from g_group_seen (queue) */
	uint64_t recv;     /* MSGs received */
	uint64_t distinct; /* distinct sequences (fan-out only) */
	uint64_t dup, ooo, badsize;
	int64_t last; /* last sequence seen, -1 before the first */
} Sub;

static const uint32_t g_pubid = 1; /* the one publisher's id, bytes 8..11 of each payload */
static Sub g_subs[MAX_SUBS];
static int g_nsubs;
static uint8_t *g_group_seen; /* owned: queue group's shared bitmap */
static uint64_t g_group_distinct;

/* Flow control between publisher (main) and receiver thread. */
static _Atomic uint64_t g_progress;    /* messages every subscriber has (min) / group total */
static _Atomic uint64_t g_wait_target = UINT64_MAX;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static _Atomic int g_stop;
static _Atomic int g_failed;
static double g_deadline;
static double g_t_done; /* receiver: when the last expected message arrived */
static char g_errmsg[512];

static void
fail(const char *fmt, ...)
{
	va_list ap;
	if (atomic_exchange(&g_failed, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(g_errmsg, sizeof g_errmsg, fmt, ap);
		va_end(ap);
	}
	atomic_store(&g_stop, 1);
	pthread_mutex_lock(&g_mu);
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* ---- /proc readers ---------------------------------------------------- */

/* Server CPU (utime+stime, all threads incl. exited ones) in seconds; -1 if unknown. */
static double
proc_cpu_s(int pid)
{
	char path[64], buf[2048];
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may contain spaces: fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; /* now at field 3 (state) */
	unsigned long long ut = 0, st = 0;
	for (int field = 3; field < 14 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* This process's own CPU, to show the tool is not the bottleneck. */
static double
self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec * 1e-6 + (double) ru.ru_stime.tv_sec +
	       (double) ru.ru_stime.tv_usec * 1e-6;
}

static long
proc_rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

/* ---- connection I/O --------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				/* SO_SNDTIMEO expired or a non-blocking socket is full. */
				if (now_s() > g_deadline) {
					errno = ETIMEDOUT;
					return -1;
				}
				struct timespec ts = {0, 100000};
				nanosleep(&ts, NULL);
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* Read what the kernel has into the buffer. Returns bytes read, 0 on EOF, -1 on error, -2 on EAGAIN. */
static ssize_t
conn_fill(Conn *c)
{
	if (c->pos == c->len) {
		c->pos = c->len = 0;
	} else if (c->pos > 0 && c->cap - c->len < c->cap / 2) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == c->cap)
		return -1; /* one frame larger than the buffer */
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t) n;
			return n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		return -1;
	}
}

/* Scan one frame from the buffer. 1: frame, 0: need more bytes, -1: protocol error. */
static inline int
conn_next(Conn *c, Frame *f)
{
	char *p = c->buf + c->pos;
	size_t avail = c->len - c->pos;
	char *nl = memchr(p, '\n', avail < MAX_LINE ? avail : MAX_LINE);
	if (!nl)
		return avail >= MAX_LINE ? -1 : 0;
	size_t ll = (size_t) (nl - p);
	if (ll == 0 || p[ll - 1] != '\r')
		return -1;
	ll--;
	char *end = p + ll;
	switch (p[0]) {
	case 'M': { /* MSG <subject> <sid> [reply] <#bytes> */
		if (ll < 10 || p[1] != 'S' || p[2] != 'G' || p[3] != ' ')
			return -1;
		char *q = memchr(p + 4, ' ', (size_t) (end - (p + 4)));
		if (!q)
			return -1;
		q++;
		char *sp = memchr(q, ' ', (size_t) (end - q)); /* after sid */
		if (!sp)
			return -1;
		q = sp + 1;
		sp = memchr(q, ' ', (size_t) (end - q));
		f->reply = NULL;
		f->reply_len = 0;
		if (sp) {
			f->reply = q;
			f->reply_len = (size_t) (sp - q);
			q = sp + 1;
		}
		size_t sz = 0;
		if (q == end)
			return -1;
		for (; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			sz = sz * 10 + (size_t) (*q - '0');
		}
		size_t total = ll + 2 + sz + 2;
		if (total > c->cap)
			return -1;
		if (avail < total)
			return 0;
		if (p[ll + 2 + sz] != '\r' || p[ll + 3 + sz] != '\n')
			return -1;
		f->kind = FR_MSG;
		f->data = p + ll + 2;
		f->len = sz;
		c->pos += total;
		return 1;
	}
	case 'P':
		if (ll == 4 && memcmp(p, "PING", 4) == 0)
			f->kind = FR_PING;
		else if (ll == 4 && memcmp(p, "PONG", 4) == 0)
			f->kind = FR_PONG;
		else
			return -1;
		break;
	case '+':
		f->kind = FR_OK;
		break;
	case '-':
		f->kind = FR_ERR;
		f->data = p;
		f->len = ll;
		break;
	case 'I':
		f->kind = FR_INFO;
		break;
	default:
		return -1;
	}
	c->pos += ll + 2;
	return 1;
}

static struct addrinfo *g_addr; /* owned: resolved once, reused by every connection */

static int
conn_open(Conn *c, size_t cap)
{
	if (!g_addr) {
		struct addrinfo hints = {0};
		char port[16];
		snprintf(port, sizeof port, "%d", opt.port);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(opt.host, port, &hints, &g_addr) != 0 || !g_addr) {
			g_addr = NULL;
			errno = EHOSTUNREACH;
			return -1;
		}
	}
	c->fd = socket(g_addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, g_addr->ai_addr, g_addr->ai_addrlen) < 0) {
		int e = errno;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* Blocking I/O wakes up every second so the run deadline is always honoured. */
	struct timeval tv = {1, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c->cap = cap;
	c->len = c->pos = 0;
	c->buf = malloc(cap);
	return c->buf ? 0 : -1;
}

static void
conn_close(Conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

/* Blocking read until a PONG; answers server PINGs, fails on -ERR or MSG. */
static int
conn_wait_pong(Conn *c, const char *what)
{
	for (;;) {
		Frame f;
		int r;
		while ((r = conn_next(c, &f)) == 1) {
			if (f.kind == FR_PONG)
				return 0;
			if (f.kind == FR_PING && write_all(c->fd, "PONG\r\n", 6) < 0)
				return -1;
			if (f.kind == FR_ERR) {
				fail("%s: server said %.*s", what, (int) f.len, f.data);
				return -1;
			}
		}
		if (r < 0) {
			fail("%s: protocol error from server", what);
			return -1;
		}
		ssize_t n = conn_fill(c);
		if (n == -2) {
			if (now_s() > g_deadline) {
				fail("%s: timeout waiting for PONG", what);
				return -1;
			}
			continue;
		}
		if (n <= 0) {
			fail("%s: connection lost while waiting for PONG", what);
			return -1;
		}
	}
}

/* Connect, send CONNECT (+ extra protocol, e.g. SUB) and PING, wait for the PONG. */
static int
conn_setup(Conn *c, size_t cap, const char *extra, const char *what)
{
	char buf[1024];
	if (conn_open(c, cap) < 0) {
		fail("%s: cannot connect to %s:%d: %s", what, opt.host, opt.port, strerror(errno));
		return -1;
	}
	int n = snprintf(buf, sizeof buf,
			 "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":true,"
			 "\"name\":\"natsbench\",\"lang\":\"c\",\"version\":\"0.1\",\"protocol\":1}\r\n%sPING\r\n",
			 extra ? extra : "");
	if (write_all(c->fd, buf, (size_t) n) < 0) {
		fail("%s: write: %s", what, strerror(errno));
		return -1;
	}
	return conn_wait_pong(c, what);
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- verification ----------------------------------------------------- */

static inline bool
bit_test_set(uint8_t *bm, uint64_t i)
{
	uint8_t m = (uint8_t) (1u << (i & 7));
	bool was = (bm[i >> 3] & m) != 0;
	bm[i >> 3] |= m;
	return was;
}

static inline void
sub_on_msg(Sub *s, const Frame *f)
{
	uint64_t seq;
	s->recv++;
	if (f->len != opt.size) {
		s->badsize++;
		return;
	}
	memcpy(&seq, f->data, 8);
	if (opt.size >= 12 && memcmp(f->data + 8, &g_pubid, 4) != 0) {
		s->badsize++;
		return;
	}
	if (seq >= opt.count) {
		s->badsize++;
		return;
	}
	if ((int64_t) seq != s->last + 1 && !(opt.scenario == SC_QUEUE && (int64_t) seq > s->last))
		s->ooo++;
	s->last = (int64_t) seq;
	if (bit_test_set(s->seen, seq))
		s->dup++;
	else if (opt.scenario == SC_QUEUE)
		g_group_distinct++;
	else
		s->distinct++;
}

/* Drain one subscriber's socket. Returns -1 on a fatal condition. */
static int
sub_service(Sub *s)
{
	ssize_t n = conn_fill(&s->c);
	if (n == -2)
		return 0;
	if (n <= 0) {
		fail("subscriber connection closed by server (%s)", n == 0 ? "EOF" : strerror(errno));
		return -1;
	}
	Frame f;
	int r;
	while ((r = conn_next(&s->c, &f)) == 1) {
		switch (f.kind) {
		case FR_MSG:
			sub_on_msg(s, &f);
			break;
		case FR_PING:
			write_all(s->c.fd, "PONG\r\n", 6);
			break;
		case FR_ERR:
			fail("subscriber got %.*s", (int) f.len, f.data);
			return -1;
		default:
			break;
		}
	}
	if (r < 0) {
		fail("subscriber: protocol error from server");
		return -1;
	}
	return 0;
}

static uint64_t
progress_now(void)
{
	if (opt.scenario == SC_QUEUE)
		return g_group_distinct;
	uint64_t m = UINT64_MAX;
	for (int i = 0; i < g_nsubs; i++)
		if (g_subs[i].distinct < m)
			m = g_subs[i].distinct;
	return m;
}

static void *
receiver_main(void *arg)
{
	(void) arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event evs[MAX_SUBS];
	for (int i = 0; i < g_nsubs; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
		set_nonblock(g_subs[i].c.fd);
		epoll_ctl(ep, EPOLL_CTL_ADD, g_subs[i].c.fd, &ev);
	}
	bool stalled = false;
	while (!atomic_load(&g_stop)) {
		int n = epoll_wait(ep, evs, MAX_SUBS, 100);
		if (opt.stall_ms > 0 && !stalled && n > 0) {
			struct timespec ts = {opt.stall_ms / 1000, (long) (opt.stall_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
			stalled = true;
		}
		if (n < 0 && errno != EINTR) {
			fail("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			if (sub_service(&g_subs[evs[i].data.u32]) < 0)
				goto out;
		uint64_t p = progress_now();
		/* seq_cst, not release: the store must not pass the g_wait_target load below,
		 * or a publisher that just went to sleep could miss its wake-up. */
		atomic_store(&g_progress, p);
		if (p >= atomic_load(&g_wait_target) || p >= opt.count) {
			pthread_mutex_lock(&g_mu);
			pthread_cond_broadcast(&g_cv);
			pthread_mutex_unlock(&g_mu);
		}
		if (p >= opt.count) {
			g_t_done = now_s();
			break;
		}
		if (now_s() > g_deadline) {
			fail("timeout: subscribers have %" PRIu64 " of %" PRIu64 " messages", p, opt.count);
			break;
		}
	}
out:
	close(ep);
	return NULL;
}

/* ---- publisher ------------------------------------------------------- */

typedef struct {
	Conn c;
	char *wbuf; /* owned */
	size_t wlen;
	char hdr[128];
	size_t hdr_len;
	char *payload; /* owned: template, seq patched per message */
	int pings_out;
} Pub;

static int
pub_flush(Pub *p)
{
	if (p->wlen == 0)
		return 0;
	if (write_all(p->c.fd, p->wbuf, p->wlen) < 0) {
		fail("publisher write: %s", strerror(errno));
		return -1;
	}
	p->wlen = 0;
	return 0;
}

static inline int
pub_append(Pub *p, const char *s, size_t n)
{
	if (p->wlen + n > WBUF_CAP && pub_flush(p) < 0)
		return -1;
	memcpy(p->wbuf + p->wlen, s, n);
	p->wlen += n;
	return 0;
}

static inline int
pub_one(Pub *p, uint64_t seq)
{
	size_t need = p->hdr_len + opt.size + 2;
	if (p->wlen + need > WBUF_CAP && pub_flush(p) < 0)
		return -1;
	char *w = p->wbuf + p->wlen;
	memcpy(w, p->hdr, p->hdr_len);
	w += p->hdr_len;
	memcpy(w, p->payload, opt.size);
	memcpy(w, &seq, 8);
	w += opt.size;
	w[0] = '\r';
	w[1] = '\n';
	p->wlen += need;
	return 0;
}

static int
pub_init(Pub *p, const char *subject, const char *reply)
{
	memset(p, 0, sizeof *p);
	if (conn_setup(&p->c, RBUF_CAP, NULL, "publisher") < 0)
		return -1;
	p->wbuf = malloc(WBUF_CAP);
	p->payload = malloc(opt.size);
	if (!p->wbuf || !p->payload)
		return -1;
	for (size_t i = 0; i < opt.size; i++)
		p->payload[i] = (char) ('a' + i % 26);
	if (opt.size >= 12)
		memcpy(p->payload + 8, &g_pubid, 4);
	p->hdr_len = (size_t) snprintf(p->hdr, sizeof p->hdr, "PUB %s%s%s %zu\r\n", subject, reply ? " " : "",
				       reply ? reply : "", opt.size);
	return 0;
}

static void
pub_free(Pub *p)
{
	conn_close(&p->c);
	free(p->wbuf);
	free(p->payload);
}

/* Publish opt.count messages with the pub-only PING window. */
static int
run_pub_only(Pub *p)
{
	size_t per = p->hdr_len + opt.size + 2;
	uint64_t window = (opt.credit / 2) / per;
	if (window < 1)
		window = 1;
	for (uint64_t seq = 0; seq < opt.count; seq++) {
		if (pub_one(p, seq) < 0)
			return -1;
		if ((seq + 1) % window == 0) {
			if (pub_append(p, "PING\r\n", 6) < 0)
				return -1;
			if (++p->pings_out > 2) {
				if (pub_flush(p) < 0 || conn_wait_pong(&p->c, "publisher") < 0)
					return -1;
				p->pings_out--;
			}
			if (now_s() > g_deadline) {
				fail("timeout while publishing");
				return -1;
			}
		}
	}
	if (pub_append(p, "PING\r\n", 6) < 0 || pub_flush(p) < 0)
		return -1;
	for (p->pings_out++; p->pings_out > 0; p->pings_out--)
		if (conn_wait_pong(&p->c, "publisher") < 0)
			return -1;
	return 0;
}

/* Publish opt.count messages, never more than the credit ahead of the subscribers. */
static int
run_pub_flow(Pub *p)
{
	size_t per = p->hdr_len + opt.size + 2;
	uint64_t credit = opt.credit / per;
	if (credit < 2)
		credit = 2;
	for (uint64_t seq = 0; seq < opt.count; seq++) {
		if (seq >= atomic_load(&g_progress) + credit) {
			if (pub_flush(p) < 0)
				return -1;
			uint64_t target = seq - credit / 2;
			pthread_mutex_lock(&g_mu);
			atomic_store(&g_wait_target, target);
			while (atomic_load(&g_progress) < target && !atomic_load(&g_stop)) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 20 * 1000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&g_cv, &g_mu, &ts);
			}
			atomic_store(&g_wait_target, UINT64_MAX);
			pthread_mutex_unlock(&g_mu);
			if (atomic_load(&g_stop))
				return -1;
		}
		if (pub_one(p, seq) < 0)
			return -1;
	}
	if (pub_append(p, "PING\r\n", 6) < 0 || pub_flush(p) < 0)
		return -1;
	return conn_wait_pong(&p->c, "publisher");
}

/* ---- request/reply ---------------------------------------------------- */

static Conn g_responder;

static void *
responder_main(void *arg)
{
	(void) arg;
	char *out = malloc(WBUF_CAP);
	struct timeval tv = {0, 100000};
	setsockopt(g_responder.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (!atomic_load(&g_stop) && out) {
		ssize_t n = conn_fill(&g_responder);
		if (n == -2)
			continue;
		if (n <= 0) {
			if (!atomic_load(&g_stop))
				fail("responder connection lost");
			break;
		}
		Frame f;
		int r;
		size_t olen = 0;
		while ((r = conn_next(&g_responder, &f)) == 1) {
			if (f.kind == FR_MSG && f.reply) {
				int h = snprintf(out + olen, 256, "PUB %.*s %zu\r\n", (int) f.reply_len, f.reply, f.len);
				olen += (size_t) h;
				memcpy(out + olen, f.data, f.len);
				olen += f.len;
				memcpy(out + olen, "\r\n", 2);
				olen += 2;
			} else if (f.kind == FR_PING) {
				memcpy(out + olen, "PONG\r\n", 6);
				olen += 6;
			} else if (f.kind == FR_ERR) {
				fail("responder got %.*s", (int) f.len, f.data);
				break;
			}
			if (olen > WBUF_CAP / 2) {
				write_all(g_responder.fd, out, olen);
				olen = 0;
			}
		}
		if (r < 0)
			fail("responder: protocol error from server");
		if (olen)
			write_all(g_responder.fd, out, olen);
	}
	free(out);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
	return x < y ? -1 : x > y;
}

/* ---- output ----------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: natsbench [--host H] --port P --scenario pub|pubsub|queue|reqrep|idle\n"
		"                 [--size BYTES] [--count N] [--subs N] [--idle N] [--server-pid PID]\n"
		"                 [--timeout S] [--credit BYTES] [--warmup N] [--stall-ms MS]\n"
		"Prints one JSON line; exit 0 = every message verified, 1 = failure, 2 = usage.\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{"host", required_argument, 0, 'h'},    {"port", required_argument, 0, 'p'},
		{"scenario", required_argument, 0, 's'}, {"size", required_argument, 0, 'z'},
		{"count", required_argument, 0, 'n'},   {"subs", required_argument, 0, 'k'},
		{"idle", required_argument, 0, 'i'},    {"server-pid", required_argument, 0, 'P'},
		{"timeout", required_argument, 0, 't'}, {"credit", required_argument, 0, 'c'},
		{"warmup", required_argument, 0, 'w'},  {"stall-ms", required_argument, 0, 'S'},
		{"help", no_argument, 0, '?'},
		{0, 0, 0, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 's': {
			int found = 0;
			for (unsigned i = 0; i < sizeof scenario_names / sizeof *scenario_names; i++)
				if (strcmp(optarg, scenario_names[i]) == 0) {
					opt.scenario = (Scenario) i;
					found = 1;
				}
			if (!found)
				usage();
			break;
		}
		case 'z': opt.size = strtoull(optarg, NULL, 10); break;
		case 'n': opt.count = strtoull(optarg, NULL, 10); break;
		case 'k': opt.subs = atoi(optarg); break;
		case 'i': opt.idle = atoi(optarg); break;
		case 'P': opt.server_pid = atoi(optarg); break;
		case 't': opt.timeout_s = atof(optarg); break;
		case 'c': opt.credit = strtoull(optarg, NULL, 10); break;
		case 'w': opt.warmup = strtoull(optarg, NULL, 10); break;
		case 'S': opt.stall_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.port <= 0 || opt.size < 8 || opt.size > 1024 * 1024 || opt.count == 0 || opt.subs < 1 ||
	    opt.subs > MAX_SUBS || opt.idle < 0 || opt.timeout_s <= 0 || opt.credit == 0)
		usage();
	if (opt.scenario == SC_PUB)
		opt.subs = 0;
	if (opt.scenario == SC_IDLE || opt.scenario == SC_REQREP)
		opt.subs = 1;
}

static void
raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Open opt.idle connections, one SUB each; returns the fds (owned) or NULL. */
static int *
open_idle(double *connect_s)
{
	int *fds = calloc((size_t) opt.idle + 1, sizeof *fds);
	double t0 = now_s();
	for (int i = 0; i < opt.idle && fds; i++) {
		Conn c = {.fd = -1};
		char sub[64];
		snprintf(sub, sizeof sub, "SUB idle.%d.x 1\r\n", i);
		if (conn_setup(&c, IDLE_RBUF_CAP, sub, "idle connection") < 0) {
			fprintf(stderr, "natsbench: idle connection %d failed\n", i);
			conn_close(&c);
			for (int j = 0; j < i; j++)
				close(fds[j]);
			free(fds);
			return NULL;
		}
		fds[i] = c.fd;
		free(c.buf); /* keep the socket, drop the buffer: they stay idle */
		if (now_s() > g_deadline) {
			fail("timeout opening idle connections (%d done)", i);
			for (int j = 0; j <= i; j++)
				close(fds[j]);
			free(fds);
			return NULL;
		}
	}
	*connect_s = now_s() - t0;
	return fds;
}

int
main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile();
	g_deadline = now_s() + opt.timeout_s;

	int *idle_fds = NULL;
	long rss_before = -1, rss_idle = -1;
	double connect_s = 0;
	uint64_t *rtts = NULL;
	uint64_t nrtt = 0;
	Pub pub;
	double cpu0 = -1, cpu1 = -1, t0 = 0, t1 = 0, self0 = 0, self1 = 0;
	pthread_t th;
	bool have_thread = false;

	if (opt.scenario == SC_IDLE) {
		rss_before = proc_rss_kib(opt.server_pid);
		idle_fds = open_idle(&connect_s);
		if (!idle_fds)
			goto report;
		rss_idle = proc_rss_kib(opt.server_pid);
	}

	/* Subscribers first, each confirmed by PONG so the SUB is live before the first PUB. */
	size_t bmbytes = (size_t) (opt.count + 7) / 8;
	if (opt.scenario == SC_QUEUE && !(g_group_seen = calloc(1, bmbytes))) {
		fail("out of memory");
		goto report;
	}
	if (opt.scenario != SC_REQREP)
		for (int i = 0; i < opt.subs; i++) {
			Sub *s = &g_subs[i];
			char sub[128];
			if (opt.scenario == SC_QUEUE)
				snprintf(sub, sizeof sub, "SUB " SUBJECT " " QGROUP " 1\r\n");
			else
				snprintf(sub, sizeof sub, "SUB " SUBJECT " 1\r\n");
			s->c.fd = -1;
			s->last = -1;
			s->seen = opt.scenario == SC_QUEUE ? g_group_seen : calloc(1, bmbytes);
			if (!s->seen) {
				fail("out of memory");
				goto report;
			}
			if (conn_setup(&s->c, RBUF_CAP, sub, "subscriber") < 0)
				goto report;
			g_nsubs++;
		}


	if (opt.scenario == SC_REQREP) {
		if (conn_setup(&g_responder, RBUF_CAP, "SUB " REQ_SUBJECT " 1\r\n", "responder") < 0)
			goto report;
		if (pub_init(&pub, REQ_SUBJECT, INBOX) < 0)
			goto report;
		const char *isub = "SUB " INBOX " 1\r\nPING\r\n";
		if (write_all(pub.c.fd, isub, strlen(isub)) < 0 || conn_wait_pong(&pub.c, "requester") < 0)
			goto report;
		if (pthread_create(&th, NULL, responder_main, NULL) != 0) {
			fail("pthread_create failed");
			goto report;
		}
		have_thread = true;
		rtts = malloc(sizeof *rtts * opt.count);
		uint64_t total = opt.warmup + opt.count;
		for (uint64_t i = 0; i < total && rtts; i++) {
			uint64_t seq = i % opt.count;
			if (i == opt.warmup) {
				cpu0 = proc_cpu_s(opt.server_pid);
				self0 = self_cpu_s();
				t0 = now_s();
			}
			uint64_t a = now_ns();
			if (pub_one(&pub, seq) < 0 || pub_flush(&pub) < 0)
				break;
			Frame f;
			int r = 0;
			bool got = false;
			while (!got) {
				while (!got && (r = conn_next(&pub.c, &f)) == 1) {
					if (f.kind == FR_MSG) {
						uint64_t rs;
						if (f.len != opt.size) {
							fail("reply of %zu bytes, expected %zu", f.len, opt.size);
							break;
						}
						memcpy(&rs, f.data, 8);
						if (rs != seq) {
							fail("reply for request %" PRIu64 ", expected %" PRIu64, rs, seq);
							break;
						}
						got = true;
					} else if (f.kind == FR_PING) {
						write_all(pub.c.fd, "PONG\r\n", 6);
					} else if (f.kind == FR_ERR) {
						fail("requester got %.*s", (int) f.len, f.data);
						break;
					}
				}
				if (atomic_load(&g_failed))
					break;
				if (got)
					break;
				if (r < 0) {
					fail("requester: protocol error from server");
					break;
				}
				ssize_t n = conn_fill(&pub.c);
				if (n <= 0 && n != -2) {
					fail("requester connection lost");
					break;
				}
				if (now_s() > g_deadline) {
					fail("timeout after %" PRIu64 " round trips", nrtt);
					break;
				}
			}
			if (!got)
				break;
			if (i >= opt.warmup)
				rtts[nrtt++] = now_ns() - a;
		}
		t1 = now_s();
		cpu1 = proc_cpu_s(opt.server_pid);
		self1 = self_cpu_s();
		atomic_store(&g_stop, 1);
		pthread_join(th, NULL);
		have_thread = false;
		pub_free(&pub);
		conn_close(&g_responder);
		if (nrtt < opt.count && !atomic_load(&g_failed))
			fail("only %" PRIu64 " of %" PRIu64 " round trips", nrtt, opt.count);
		goto report;
	}

	const char *subject = SUBJECT;
	if (pub_init(&pub, subject, NULL) < 0)
		goto report;
	if (opt.subs > 0) {
		if (pthread_create(&th, NULL, receiver_main, NULL) != 0) {
			fail("pthread_create failed");
			goto report;
		}
		have_thread = true;
	}
	cpu0 = proc_cpu_s(opt.server_pid);
	self0 = self_cpu_s();
	t0 = now_s();
	int rc = opt.subs > 0 ? run_pub_flow(&pub) : run_pub_only(&pub);
	if (have_thread) {
		if (rc < 0)
			atomic_store(&g_stop, 1);
		pthread_join(th, NULL);
		have_thread = false;
		t1 = g_t_done > 0 ? g_t_done : now_s();
	} else {
		t1 = now_s();
	}
	cpu1 = proc_cpu_s(opt.server_pid);
	self1 = self_cpu_s();
	pub_free(&pub);

report:;
	if (have_thread) {
		atomic_store(&g_stop, 1);
		pthread_join(th, NULL);
	}
	uint64_t lost = 0, dup = 0, ooo = 0, bad = 0, delivered = 0;
	for (int i = 0; i < g_nsubs; i++) {
		Sub *s = &g_subs[i];
		dup += s->dup;
		ooo += s->ooo;
		bad += s->badsize;
		delivered += s->recv;
		if (opt.scenario != SC_QUEUE)
			lost += opt.count - s->distinct;
	}
	if (opt.scenario == SC_QUEUE)
		lost = opt.count - g_group_distinct;
	if (!atomic_load(&g_failed) && (lost || dup || ooo || bad))
		fail("verification failed");

	double el = t1 - t0;
	bool ok = !atomic_load(&g_failed);
	double cpu = (cpu0 >= 0 && cpu1 >= 0) ? cpu1 - cpu0 : -1;
	uint64_t published = opt.count;
	if (opt.scenario == SC_PUB)
		delivered = 0;
	double mb_bytes = (double) opt.size * (double) (opt.scenario == SC_PUB ? published : delivered);
	if (opt.scenario == SC_REQREP)
		delivered = nrtt, mb_bytes = 2.0 * (double) opt.size * (double) nrtt;

	printf("{\"scenario\":\"%s\",\"size\":%zu,\"subs\":%d,\"count\":%" PRIu64 ",\"ok\":%s",
	       scenario_names[opt.scenario], opt.size, opt.subs, opt.count, ok ? "true" : "false");
	if (!ok) {
		printf(",\"error\":\"");
		for (const char *c = g_errmsg; *c; c++)
			if (*c == '"' || *c == '\\')
				printf("\\%c", *c);
			else if ((unsigned char) *c >= 0x20)
				putchar(*c);
		printf("\"");
	}
	if (el > 0) {
		printf(",\"elapsed_s\":%.6f,\"msgs_s\":%.1f,\"deliv_s\":%.1f,\"mb_s\":%.3f", el, (double) published / el,
		       (double) delivered / el, mb_bytes / el / 1e6);
		if (cpu >= 0)
			printf(",\"server_cpu_s\":%.3f,\"cpu_us_per_msg\":%.5f,\"server_cpu_util\":%.3f", cpu,
			       cpu * 1e6 / (double) published, cpu / el);
		printf(",\"client_cpu_util\":%.3f", (self1 - self0) / el);
	}
	printf(",\"lost\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"ooo\":%" PRIu64 ",\"badsize\":%" PRIu64, lost, dup, ooo,
	       bad);
	if (opt.scenario == SC_REQREP && nrtt > 0) {
		qsort(rtts, nrtt, sizeof *rtts, cmp_u64);
		double sum = 0;
		for (uint64_t i = 0; i < nrtt; i++)
			sum += (double) rtts[i];
#define PCT(q) ((double) rtts[(uint64_t) ((double) (nrtt - 1) * (q))] / 1000.0)
		printf(",\"rtt_p50_us\":%.2f,\"rtt_p99_us\":%.2f,\"rtt_p999_us\":%.2f,\"rtt_mean_us\":%.2f", PCT(0.5),
		       PCT(0.99), PCT(0.999), sum / (double) nrtt / 1000.0);
#undef PCT
	}
	if (opt.scenario == SC_IDLE) {
		printf(",\"idle_conns\":%d,\"rss_before_kib\":%ld,\"rss_idle_kib\":%ld", opt.idle, rss_before, rss_idle);
		if (idle_fds && rss_before > 0 && rss_idle > 0 && opt.idle > 0)
			printf(",\"kib_per_conn\":%.3f,\"connect_s\":%.4f,\"connect_us_per_conn\":%.2f",
			       (double) (rss_idle - rss_before) / opt.idle, connect_s, connect_s * 1e6 / opt.idle);
	}
	printf(",\"rss_end_kib\":%ld}\n", proc_rss_kib(opt.server_pid));
	fflush(stdout);
	if (!ok)
		fprintf(stderr, "natsbench: FAIL: %s\n", g_errmsg);

	for (int i = 0; i < g_nsubs; i++) {
		conn_close(&g_subs[i].c);
		if (g_subs[i].seen != g_group_seen)
			free(g_subs[i].seen);
	}
	free(g_group_seen);
	free(rtts);
	if (g_addr)
		freeaddrinfo(g_addr);
	if (idle_fds) {
		for (int i = 0; i < opt.idle; i++)
			close(idle_fds[i]);
		free(idle_fds);
	}
	return ok ? 0 : 1;
}
