/*
 * loadgen.c - single-threaded, edge-triggered epoll load generator for the
 * edgeio benchmark suite.
 *
 *   loadgen --host 127.0.0.1 --port P --scenario S [--conns N] [--size BYTES]
 *           [--depth D] [--duration SECONDS] [--warmup SECONDS] [--window BYTES]
 *   loadgen --unix PATH --scenario S ...   the same over a Unix domain
 *           stream socket (AF_UNIX, SOCK_STREAM; bench/unix.js uses it)
 *
 * Scenarios (defaults in the scenario table below):
 *   echo64     100 conns, 64-byte messages, 1 in flight per connection
 *   echo64p16  100 conns, 64-byte messages, 16 in flight per connection
 *   echo16k    10 conns, 16384-byte messages, 1 in flight
 *   connect    16 slots: connect, send 64 B, read 64 B back, close, repeat
 *   stream     4 conns writing 64 KiB chunks, <= --window bytes unacknowledged
 *   http       100 keep-alive conns, 1 GET in flight
 *   httpp16    100 keep-alive conns, 16 pipelined GETs in flight
 *   idle       10,000 conns opened and held silent; ops = conns still open
 *
 * Output: exactly one JSON line on stdout (see print_result()); errors in
 * human text on stderr. Exit 0 when it ran (even with errors counted), 2 on
 * bad arguments, 3 if it could not connect at all.
 *
 * Design notes
 *  - Every socket is registered once with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET
 *    and never modified: pending output is a per-connection cursor (tx versus
 *    tx_goal), flushed when EPOLLOUT reports space again.
 *  - Echo payloads are never copied: byte i of connection c's stream is
 *    (i * 31 + c) & 0xff, and because 31 is odd it equals
 *    ((i + c * 223) * 31) & 0xff (223 = 31^-1 mod 256). So one shared table
 *    pattern[k] = (k * 31) & 0xff serves every connection: the bytes from
 *    stream offset i onwards start at pattern[(i + c * 223) & 0xff]. send()
 *    reads straight from it and received data is checked with one memcmp.
 *  - No allocation after start-up: latencies go into a fixed log-linear
 *    histogram, send timestamps into a per-connection ring sized up front.
 *  - Time-bounded: every epoll_wait has a timeout derived from the next
 *    deadline, and a hard deadline ends the run whatever the server does.
 */
#define _GNU_SOURCE /* memmem(3), SOCK_NONBLOCK/SOCK_CLOEXEC in socket(2) */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- constants ---------------------------------------------------------- */

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull

/* One recv() takes up to 64 KiB: the size of one stream chunk, and larger
 * than any loopback burst a depth-16 64-byte echo produces. */
#define RBUF_SIZE 65536
/* One send() writes at most 64 KiB, so the stream scenario really issues
 * 65536-byte writes and the pattern table stays small. */
#define WRITE_MAX 65536
/* pattern[] must cover any 256-byte phase plus one full read or write. */
#define PATTERN_LEN (256 + (RBUF_SIZE > WRITE_MAX ? RBUF_SIZE : WRITE_MAX))
/* 223 * 31 = 6913 = 27 * 256 + 1, so 223 is the inverse of 31 mod 256. */
#define PATTERN_INV 223u

/* A response header block larger than this is treated as garbage: real
 * servers send a few hundred bytes, and it bounds the per-connection buffer. */
#define HDR_MAX 8192
/* The pipelined request buffer holds this many copies of the request so a
 * burst of up to 64 requests leaves in one send(). */
#define REQ_COPIES 64

/* Connecting all connections may take this long (the server may still be
 * starting); refused attempts are retried every SETUP_RETRY_NS meanwhile. */
#define SETUP_TIMEOUT_NS (5 * NS_PER_SEC)
#define SETUP_RETRY_NS (50 * NS_PER_MS)
/* idle scenario: one new connection per this interval during setup (10,000
 * per second). A client completes handshakes faster than a server accepts
 * them, and what does not fit the listen backlog is dropped (ListenDrops) and
 * retried a second later (tcp(7), tcp_syn_retries), which would land in the
 * measured idle window. */
#define IDLE_CONNECT_INTERVAL_NS 100000ull

/* connect scenario: a failed slot waits this long before its next attempt,
 * so a refusing server (or port exhaustion) does not turn into a busy loop. */
#define CHURN_BACKOFF_NS (1 * NS_PER_MS)
/* The whole run is guaranteed to end by warmup + duration + 10 s; keep
 * half a second of that for printing and exit. */
#define HARD_MARGIN_NS (9500 * NS_PER_MS)
/* epoll_wait never sleeps longer than this, whatever the next deadline. */
#define MAX_WAIT_MS 100
#define MAX_EVENTS 256
/* Print at most this many individual error messages; the rest are counted. */
#define MAX_ERROR_LINES 10

/* ---- latency histogram ---------------------------------------------------
 * Log-linear, HdrHistogram-like, in nanoseconds. Values below 2*H_SUB are
 * exact; above that every power of two is split into H_SUB linear buckets,
 * so a bucket is at most 1/H_SUB = 0.78% of its value wide. Covers the full
 * uint64 range (58 * 128 buckets = 59 KiB); samples are clamped to 10 s. */
#define H_SUB_BITS 7
#define H_SUB (1u << H_SUB_BITS)
#define H_BUCKETS ((64 - H_SUB_BITS + 1) * H_SUB)
#define H_MAX_NS (10 * NS_PER_SEC)

static uint64_t hist[H_BUCKETS];
static uint64_t hist_count;

static unsigned hist_index(uint64_t v)
{
	if (v < 2 * H_SUB)
		return (unsigned)v;
	unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - H_SUB_BITS;
	return (shift + 1) * H_SUB + (unsigned)(v >> shift) - H_SUB;
}

/* Midpoint of bucket idx (the exact value for the exact buckets). */
static double hist_value(unsigned idx)
{
	if (idx < 2 * H_SUB)
		return idx;
	unsigned shift = idx / H_SUB - 1;
	uint64_t lo = (uint64_t)(H_SUB + idx % H_SUB) << shift;
	return (double)lo + (double)((1ull << shift) - 1) / 2.0;
}

static void hist_record(uint64_t ns)
{
	if (ns > H_MAX_NS)
		ns = H_MAX_NS;
	hist[hist_index(ns)]++;
	hist_count++;
}

static double hist_percentile_us(double pct)
{
	if (hist_count == 0)
		return 0.0;
	uint64_t rank = (uint64_t)((pct / 100.0) * (double)hist_count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < H_BUCKETS; i++) {
		seen += hist[i];
		if (seen >= rank)
			return hist_value(i) / 1000.0;
	}
	return hist_value(H_BUCKETS - 1) / 1000.0;
}

/* ---- configuration -------------------------------------------------------- */

enum kind { K_ECHO, K_STREAM, K_CONNECT, K_HTTP, K_IDLE };

struct scenario {
	const char *name;
	enum kind kind;
	int conns;
	long size;
	int depth;
};

static const struct scenario scenarios[] = {
	{ "echo64", K_ECHO, 100, 64, 1 },
	{ "echo64p16", K_ECHO, 100, 64, 16 },
	{ "echo16k", K_ECHO, 10, 16384, 1 },
	{ "connect", K_CONNECT, 16, 64, 1 },
	{ "stream", K_STREAM, 4, 65536, 0 },
	{ "http", K_HTTP, 100, 0, 1 },
	{ "httpp16", K_HTTP, 100, 0, 16 },
	/* idle: open the connections and send nothing: the server's cost of
	 * holding silent connections (CPU while idle, memory per connection). */
	{ "idle", K_IDLE, 10000, 0, 1 },
};

static struct {
	const char *host;
	int port;
	const struct scenario *sc;
	enum kind kind;
	int conns;
	long size;   /* message / chunk bytes (http: request bytes) */
	int depth;   /* messages in flight (stream: window / size) */
	long window; /* stream only */
	double duration, warmup;
	const char *unix_path; /* --unix: connect to this AF_UNIX path instead */
	struct sockaddr_storage addr;
	socklen_t addrlen;
} cfg;

/* ---- connections ---------------------------------------------------------- */

enum cstate { C_IDLE, C_CONNECTING, C_OPEN, C_DEAD };

struct conn {
	int fd;
	enum cstate st;
	uint32_t id;       /* slot index: epoll token and pattern seed */
	uint32_t gen;      /* bumped on every close, see token() */
	bool rdhup;        /* peer's FIN has been reported (sticky) */
	uint64_t retry_at; /* C_IDLE: earliest next connect attempt (0: none) */
	int last_err;      /* errno of the last failed setup attempt */
	uint64_t born;     /* when socket() was called (connect latency) */
	uint64_t queued;   /* messages (echo), chunks (stream), requests (http) sent */
	uint64_t done;     /* ... of which fully answered */
	uint64_t tx_goal;  /* bytes committed to the stream */
	uint64_t tx;       /* bytes actually written (the pending-output cursor) */
	uint64_t rx;       /* bytes received and verified (echo) */
	uint64_t *sent;    /* ring: enqueue time of message k at [k % ring] */
	/* incremental HTTP response parser */
	char *hdr;
	uint32_t hlen;
	bool in_body;
	uint64_t body_left;
	int status;
};

static struct conn *conns;
static uint32_t ring;
static int ep = -1;
static unsigned char pattern[PATTERN_LEN];
static unsigned char rbuf[RBUF_SIZE];
static char *reqbuf;
static size_t reqlen, reqbuf_len;

/* ---- run state and statistics --------------------------------------------- */

enum phase { P_SETUP, P_WARMUP, P_MEASURE, P_DONE };
static enum phase phase = P_SETUP;
static uint64_t t_start, t_setup_end, t_warm_end, t_end, t_hard;
static uint64_t t_measure_start, t_measure_stop;
static struct rusage ru_start, ru_stop;
static uint64_t ops, bytes_rx;
static int n_idle;     /* slots waiting for retry_at, so the scan can be skipped */
static int n_open;     /* slots in C_OPEN */
static int n_dead;     /* slots retired for good (echo, stream, http) */
static bool probe_ok;  /* connect scenario: the setup probe got through */
static int next_slot;  /* idle scenario: first slot not yet started */

enum ecat { E_REFUSED, E_ADDRNOTAVAIL, E_RESET, E_EOF, E_MISMATCH, E_PROTOCOL, E_HTTP_STATUS, E_TIMEOUT, E_OTHER, E_COUNT };
static const char *const ecat_name[E_COUNT] = {
	"refused", "addrnotavail", "reset", "eof", "mismatch", "protocol", "http_status", "timeout", "other",
};
static uint64_t errs[E_COUNT];
static uint64_t errs_total;

static uint64_t now_ns(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC is served from the vDSO and cannot fail with a valid
	 * clock id and pointer (clock_gettime(2)); still, be loud if it does. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("loadgen: clock_gettime");
		exit(1);
	}
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static bool measuring(void) { return phase == P_MEASURE; }

static enum ecat errno_cat(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return E_REFUSED;
	case EADDRNOTAVAIL:
		return E_ADDRNOTAVAIL;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return E_RESET;
	case ETIMEDOUT:
		return E_TIMEOUT;
	default:
		return E_OTHER;
	}
}

static void count_error(const struct conn *c, enum ecat cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void count_error(const struct conn *c, enum ecat cat, const char *fmt, ...)
{
	errs[cat]++;
	errs_total++;
	if (errs_total > MAX_ERROR_LINES)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: error [%s] conn %" PRIu32 ": ", ecat_name[cat], c ? c->id : 0);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (errs_total == MAX_ERROR_LINES)
		fprintf(stderr, "loadgen: further errors are counted but not printed\n");
	va_end(ap);
}

/* epoll token: slot index plus generation. A slot in the connect scenario is
 * closed and reopened many times; when that happens while later events of
 * the same epoll_wait batch are still being dispatched, the generation tells
 * the stale ones (for the closed socket) apart from the new socket's. */
static uint64_t token(const struct conn *c) { return (uint64_t)c->gen << 32 | c->id; }

static void set_idle(struct conn *c, uint64_t at)
{
	c->st = C_IDLE;
	c->retry_at = at;
	n_idle++;
}

static void conn_close(struct conn *c)
{
	/* close(2) also removes the socket from the epoll set, as this process
	 * holds no other descriptor for it (epoll(7), Q6). */
	if (c->fd >= 0 && close(c->fd) != 0 && errno != EINTR)
		perror("loadgen: close");
	if (c->st == C_OPEN)
		n_open--; /* every caller changes c->st next */
	c->fd = -1;
	c->gen++;
}

/* An established connection failed: count it, close it, and either retry
 * (connect scenario, where churn is the point) or retire the slot. */
static int conn_fail(struct conn *c, enum ecat cat, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int conn_fail(struct conn *c, enum ecat cat, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	count_error(c, cat, "%s", msg);
	conn_close(c);
	if (cfg.kind == K_CONNECT && phase != P_SETUP) {
		set_idle(c, now_ns() + CHURN_BACKOFF_NS);
	} else {
		c->st = C_DEAD;
		n_dead++;
	}
	return -1;
}

/* Start a nonblocking connect on slot c. Returns 0 on progress, -1 if the
 * attempt failed at once (the caller's failure policy has been applied). */
static void connect_failed(struct conn *c, int err);

static int conn_start(struct conn *c)
{
	/* Leave C_OPEN/C_IDLE first, so a failure below (conn_close()) does
	 * not touch the n_open count a second time. */
	c->st = C_CONNECTING;
	c->queued = c->done = c->tx_goal = c->tx = c->rx = 0;
	c->rdhup = false;
	c->hlen = 0;
	c->in_body = false;
	c->born = now_ns();

	c->fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		connect_failed(c, errno);
		return -1;
	}
	int one = 1;
	/* Small messages must leave at once, not wait for Nagle (tcp(7)).
	 * AF_UNIX has no Nagle (and no TCP options: unix(7)). */
	if (!cfg.unix_path && setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
		connect_failed(c, errno);
		return -1;
	}
	/* Connect churn leaves one TIME_WAIT socket per connection on our side
	 * (we close first). The spec asks for SO_REUSEADDR here; note that on
	 * Linux it only affects bind(2). Ephemeral ports picked by connect(2)
	 * are recycled from TIME_WAIT only under net.ipv4.tcp_tw_reuse (default
	 * 2 = loopback only, and only once the TIME_WAIT socket is >= 1 s old),
	 * so with 28k ports a churn rate above ~28k/s can still run dry; the
	 * resulting EADDRNOTAVAIL is counted as an error (see ip-sysctl docs).
	 * Measured cost: with tens of thousands of TIME_WAIT sockets, about a
	 * third of the client's CPU goes to the kernel's ephemeral port search
	 * (__inet_hash_connect / __inet_check_established), which caps this
	 * scenario at ~11-14k connections/s on the reference VM whatever the
	 * server. (SO_LINGER {1, 0} would avoid TIME_WAIT by sending RST, but
	 * that is not a normal close, so it is deliberately not used.) */
	if (cfg.kind == K_CONNECT && !cfg.unix_path && setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
		connect_failed(c, errno);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = token(c) };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		connect_failed(c, errno);
		return -1;
	}
	if (connect(c->fd, (const struct sockaddr *)&cfg.addr, cfg.addrlen) != 0 && errno != EINPROGRESS) {
		connect_failed(c, errno);
		return -1;
	}
	/* Even an immediate success is reported as EPOLLOUT by the registration
	 * above, so both paths continue in handle_event(). */
	return 0;
}

static void connect_failed(struct conn *c, int err)
{
	conn_close(c);
	if (phase == P_SETUP) {
		/* Not an error yet: the server may still be starting. Retried
		 * until the setup deadline, which counts what is left. */
		c->last_err = err;
		set_idle(c, now_ns() + SETUP_RETRY_NS);
		return;
	}
	count_error(c, errno_cat(err), "connect: %s", strerror(err));
	if (cfg.kind == K_CONNECT) {
		set_idle(c, now_ns() + CHURN_BACKOFF_NS);
	} else {
		c->st = C_DEAD;
		n_dead++;
	}
}

/* ---- sending -------------------------------------------------------------- */

static void enqueue(struct conn *c, uint64_t t)
{
	c->sent[c->queued % ring] = t;
	c->queued++;
	c->tx_goal += (uint64_t)cfg.size;
}

/* Write pending output until done or the socket buffer is full. */
static int flush(struct conn *c)
{
	while (c->tx < c->tx_goal) {
		uint64_t left = c->tx_goal - c->tx;
		const void *p;
		size_t len;
		if (cfg.kind == K_HTTP) {
			size_t off = (size_t)(c->tx % reqlen);
			p = reqbuf + off;
			len = reqbuf_len - off;
		} else {
			p = pattern + ((c->tx + (uint64_t)c->id * PATTERN_INV) & 0xff);
			len = WRITE_MAX;
		}
		if (len > left)
			len = (size_t)left;
		/* MSG_NOSIGNAL: a peer reset is an error to count, not SIGPIPE. */
		ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0; /* EPOLLOUT will resume us */
			return conn_fail(c, errno_cat(errno), "send: %s", strerror(errno));
		}
		c->tx += (uint64_t)w;
		/* A short write means the send buffer is full; epoll(7) says
		 * that is as good as EAGAIN for ET, so skip the extra syscall. */
		if ((size_t)w < len)
			return 0;
	}
	return 0;
}

/* Top up the messages in flight and write them. */
static int pump(struct conn *c, uint64_t t)
{
	if (phase == P_SETUP || phase == P_DONE)
		return 0;
	switch (cfg.kind) {
	case K_ECHO:
	case K_HTTP:
		while (c->queued - c->done < (uint64_t)cfg.depth)
			enqueue(c, t);
		break;
	case K_STREAM:
		/* Byte window: keep sending while sent - received < window. */
		while (c->queued * (uint64_t)cfg.size - c->rx < (uint64_t)cfg.window)
			enqueue(c, t);
		break;
	case K_CONNECT:
		if (c->queued == 0)
			enqueue(c, c->born); /* latency covers the whole connection */
		break;
	case K_IDLE:
		return 0; /* silent by design */
	}
	return flush(c);
}

/* ---- receiving ------------------------------------------------------------ */

static void complete(struct conn *c, uint64_t t, bool ok)
{
	uint64_t sent_at = c->sent[c->done % ring];
	c->done++;
	if (ok && measuring()) {
		ops++;
		hist_record(t - sent_at);
	}
}

/* Verify echoed bytes against the pattern and complete finished messages. */
static int consume_echo(struct conn *c, const unsigned char *buf, size_t n, uint64_t t)
{
	if (n > c->tx - c->rx)
		return conn_fail(c, E_PROTOCOL, "server returned %zu bytes but only %" PRIu64 " are outstanding", n,
				 c->tx - c->rx);
	const unsigned char *want = pattern + ((c->rx + (uint64_t)c->id * PATTERN_INV) & 0xff);
	if (memcmp(buf, want, n) != 0) {
		size_t i = 0;
		while (buf[i] == want[i])
			i++;
		return conn_fail(c, E_MISMATCH, "stream byte %" PRIu64 ": expected 0x%02x, got 0x%02x", c->rx + i,
				 want[i], buf[i]);
	}
	c->rx += n;
	while (c->done < c->queued && c->rx >= (c->done + 1) * (uint64_t)cfg.size)
		complete(c, t, true);
	return 0;
}

/* Parse one complete response header block (len bytes, ends with CRLFCRLF):
 * status line, then headers; Content-Length is required. */
static int parse_head(struct conn *c, const char *h, size_t len)
{
	/* "HTTP/1.x SSS" */
	if (len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ' || h[9] < '0' || h[9] > '9' || h[10] < '0' ||
	    h[10] > '9' || h[11] < '0' || h[11] > '9')
		return conn_fail(c, E_PROTOCOL, "bad status line");
	c->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');

	const char *end = h + len - 2; /* the final empty line */
	const char *line = memmem(h, len, "\r\n", 2) + 2;
	int64_t clen = -1;
	while (line < end) {
		const char *eol = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
		const char *colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			return conn_fail(c, E_PROTOCOL, "header line without ':'");
		size_t nlen = (size_t)(colon - line);
		const char *v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (nlen == 14 && strncasecmp(line, "content-length", 14) == 0) {
			int64_t x = 0;
			const char *d = v;
			while (d < eol && *d >= '0' && *d <= '9' && x < (INT64_C(1) << 40))
				x = x * 10 + (*d++ - '0');
			while (d < eol && (*d == ' ' || *d == '\t'))
				d++;
			if (d == v || d != eol || (clen >= 0 && clen != x))
				return conn_fail(c, E_PROTOCOL, "bad Content-Length");
			clen = x;
		} else if (nlen == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
			return conn_fail(c, E_PROTOCOL, "Transfer-Encoding is not supported (need Content-Length)");
		}
		line = eol + 2;
	}
	if (clen < 0)
		return conn_fail(c, E_PROTOCOL, "response without Content-Length (status %d)", c->status);
	c->body_left = (uint64_t)clen;
	c->in_body = true;
	return 0;
}

static void http_complete(struct conn *c, uint64_t t)
{
	c->in_body = false;
	bool ok = c->status >= 200 && c->status <= 299;
	if (!ok)
		count_error(c, E_HTTP_STATUS, "HTTP status %d", c->status);
	complete(c, t, ok);
}

/* Incremental response parser: headers are accumulated (across reads) in
 * c->hdr until CRLFCRLF, bodies are skipped by counting. */
static int consume_http(struct conn *c, const unsigned char *buf, size_t n, uint64_t t)
{
	const char *p = (const char *)buf;
	while (n > 0) {
		if (c->in_body) {
			size_t take = c->body_left < n ? (size_t)c->body_left : n;
			p += take;
			n -= take;
			c->body_left -= take;
			if (c->body_left == 0)
				http_complete(c, t);
			continue;
		}
		if (c->done >= c->queued)
			return conn_fail(c, E_PROTOCOL, "unsolicited response data");
		size_t old = c->hlen;
		size_t copy = HDR_MAX - old < n ? HDR_MAX - old : n;
		memcpy(c->hdr + old, p, copy);
		/* The terminator may straddle reads: rescan the last 3 old bytes. */
		size_t from = old >= 3 ? old - 3 : 0;
		const char *e = memmem(c->hdr + from, old + copy - from, "\r\n\r\n", 4);
		if (!e) {
			c->hlen = (uint32_t)(old + copy);
			p += copy;
			n -= copy;
			if (c->hlen == HDR_MAX)
				return conn_fail(c, E_PROTOCOL, "response header block over %d bytes", HDR_MAX);
			continue;
		}
		size_t head = (size_t)(e - c->hdr) + 4;
		p += head - old;
		n -= head - old;
		c->hlen = 0;
		if (parse_head(c, c->hdr, head) < 0)
			return -1;
		if (c->body_left == 0)
			http_complete(c, t);
	}
	return 0;
}

/* Drain the socket (edge-triggered: until EAGAIN or a short read). */
static int on_readable(struct conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, rbuf, RBUF_SIZE, 0);
		if (n > 0 && cfg.kind == K_IDLE)
			return conn_fail(c, E_PROTOCOL, "unexpected data on an idle connection");
		if (n > 0) {
			uint64_t t = now_ns();
			if (measuring())
				bytes_rx += (uint64_t)n;
			int r = cfg.kind == K_HTTP ? consume_http(c, rbuf, (size_t)n, t)
						   : consume_echo(c, rbuf, (size_t)n, t);
			if (r < 0)
				return -1;
			if (cfg.kind == K_CONNECT && c->done == 1) {
				/* One full round trip: close and start over. */
				conn_close(c);
				conn_start(c);
				return -1;
			}
			/* Short read: the receive queue is empty (epoll(7)), unless
			 * a FIN is queued behind the data, which raises no new edge. */
			if ((size_t)n < RBUF_SIZE && !c->rdhup)
				break;
			continue;
		}
		if (n == 0)
			return conn_fail(c, E_EOF, "server closed the connection (%" PRIu64 " of %" PRIu64
						   " messages answered)", c->done, c->queued);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return conn_fail(c, errno_cat(errno), "recv: %s", strerror(errno));
	}
	return pump(c, now_ns());
}

static void setup_check(void);

static void handle_event(struct conn *c, uint32_t ev)
{
	if (c->st == C_CONNECTING) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		/* Nonblocking connect: completion is signalled as writable, the
		 * outcome is read from SO_ERROR (connect(2), EINPROGRESS). */
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		else if (err == 0 && (ev & (EPOLLERR | EPOLLHUP)))
			err = ECONNRESET;
		if (err) {
			connect_failed(c, err);
			setup_check();
			return;
		}
		c->st = C_OPEN;
		n_open++;
		if (phase == P_SETUP) {
			if (cfg.kind == K_CONNECT) {
				/* The probe proved the server is up; start_run()
				 * reopens this slot along with the others. */
				conn_close(c);
				c->st = C_IDLE;
				c->retry_at = 0;
				probe_ok = true;
			}
			setup_check();
			return;
		}
		if (pump(c, now_ns()) < 0)
			return;
	}
	if (c->st != C_OPEN)
		return;
	if (ev & EPOLLRDHUP)
		c->rdhup = true;
	/* recv() also surfaces EOF and pending socket errors (EPOLLERR). */
	if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		if (on_readable(c) < 0)
			return;
	}
	if ((ev & EPOLLOUT) && c->tx < c->tx_goal)
		flush(c);
}

/* ---- phases --------------------------------------------------------------- */

static void start_run(uint64_t t)
{
	phase = P_WARMUP;
	t_warm_end = t + (uint64_t)(cfg.warmup * 1e9);
	t_end = t_warm_end + (uint64_t)(cfg.duration * 1e9);
	for (int i = 0; i < cfg.conns; i++) {
		struct conn *c = &conns[i];
		if (cfg.kind == K_CONNECT)
			conn_start(c);
		else if (c->st == C_OPEN)
			pump(c, t);
	}
}

/* During setup: start the run once every connection is open (connect
 * scenario: once the probe got through), or at the setup deadline with
 * whatever is open; exit 3 if nothing is. */
static void setup_check(void)
{
	if (phase != P_SETUP)
		return;
	uint64_t t = now_ns();
	if (cfg.kind == K_CONNECT) {
		if (probe_ok) {
			start_run(t);
			return;
		}
		if (t < t_setup_end)
			return;
	}
	int pending = cfg.conns - n_open - n_dead; /* C_IDLE or C_CONNECTING */
	if (pending > 0 && t < t_setup_end)
		return;
	if (n_open == 0) {
		const struct conn *c = &conns[0];
		char target[300];
		if (cfg.unix_path)
			snprintf(target, sizeof target, "%s", cfg.unix_path);
		else
			snprintf(target, sizeof target, "%s:%d", cfg.host, cfg.port);
		fprintf(stderr, "loadgen: could not connect to %s within %.0f s: %s\n", target,
			(double)SETUP_TIMEOUT_NS / 1e9,
			c->st == C_IDLE && c->last_err ? strerror(c->last_err) : "no connection completed");
		exit(3);
	}
	for (int i = 0; i < cfg.conns; i++) {
		struct conn *c = &conns[i];
		if (c->st == C_IDLE || c->st == C_CONNECTING) {
			count_error(c, E_TIMEOUT, "not connected after %.0f s; continuing without it",
				    (double)SETUP_TIMEOUT_NS / 1e9);
			if (c->st == C_IDLE && c->retry_at != 0)
				n_idle--;
			conn_close(c);
			c->st = C_DEAD;
			n_dead++;
		}
	}
	start_run(t);
}

static void print_result(void)
{
	double secs = t_measure_stop > t_measure_start ? (double)(t_measure_stop - t_measure_start) / 1e9 : 0.0;
	double rate = secs > 0 ? (double)ops / secs : 0.0;
	double mbps = secs > 0 ? (double)bytes_rx / secs / 1e6 : 0.0;
	double cpu = (double)(ru_stop.ru_utime.tv_sec - ru_start.ru_utime.tv_sec) +
		     (double)(ru_stop.ru_utime.tv_usec - ru_start.ru_utime.tv_usec) / 1e6 +
		     (double)(ru_stop.ru_stime.tv_sec - ru_start.ru_stime.tv_sec) +
		     (double)(ru_stop.ru_stime.tv_usec - ru_start.ru_stime.tv_usec) / 1e6;
	printf("{\"scenario\":\"%s\",\"conns\":%d,\"depth\":%d,\"size\":%ld,\"seconds\":%.3f,\"ops\":%" PRIu64
	       ",\"rate\":%.1f,\"mbps\":%.2f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"errors\":%" PRIu64
	       ",\"client_cpu_s\":%.3f}\n",
	       cfg.sc->name, cfg.conns, cfg.depth, cfg.size, secs, ops, rate, mbps, hist_percentile_us(50.0),
	       hist_percentile_us(99.0), errs_total, cpu);
	if (fflush(stdout) != 0)
		perror("loadgen: stdout");
	if (errs_total > 0) {
		fprintf(stderr, "loadgen: %" PRIu64 " errors:", errs_total);
		for (int i = 0; i < E_COUNT; i++)
			if (errs[i])
				fprintf(stderr, " %s=%" PRIu64, ecat_name[i], errs[i]);
		fputc('\n', stderr);
	}
}

/* ---- arguments ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen (--host 127.0.0.1 --port P | --unix PATH) --scenario S [--conns N] [--size BYTES]\n"
		"               [--depth D] [--duration SECONDS] [--warmup SECONDS] [--window BYTES]\n"
		"scenarios: echo64 echo64p16 echo16k connect stream http httpp16\n"
		"defaults: --host 127.0.0.1 --duration 5 --warmup 1; --conns/--size/--depth per scenario;\n"
		"          --window 1048576 (stream only)\n");
}

static void bad_arg(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_arg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static long parse_long(const char *flag, const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: %s must be an integer in [%ld, %ld], got '%s'\n", flag, lo, hi, s);
		exit(2);
	}
	return v;
}

static double parse_secs(const char *flag, const char *s, double lo)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo) || v > 3600.0) {
		fprintf(stderr, "loadgen: %s must be a number of seconds in [%g, 3600], got '%s'\n", flag, lo, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	const char *scenario = NULL, *conns_s = NULL, *size_s = NULL, *depth_s = NULL, *window_s = NULL;
	const char *port_s = NULL, *dur_s = NULL, *warm_s = NULL;
	cfg.host = "127.0.0.1";
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0)
			bad_arg("unexpected argument '%s'", a);
		/* Accept both "--flag value" and "--flag=value". */
		const char *val;
		char *eq = strchr(a, '=');
		if (eq) {
			*eq = '\0';
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				bad_arg("%s needs a value", a);
			val = argv[++i];
		}
		if (strcmp(a, "--host") == 0)
			cfg.host = val;
		else if (strcmp(a, "--port") == 0)
			port_s = val;
		else if (strcmp(a, "--unix") == 0)
			cfg.unix_path = val;
		else if (strcmp(a, "--scenario") == 0)
			scenario = val;
		else if (strcmp(a, "--conns") == 0)
			conns_s = val;
		else if (strcmp(a, "--size") == 0)
			size_s = val;
		else if (strcmp(a, "--depth") == 0)
			depth_s = val;
		else if (strcmp(a, "--duration") == 0)
			dur_s = val;
		else if (strcmp(a, "--warmup") == 0)
			warm_s = val;
		else if (strcmp(a, "--window") == 0)
			window_s = val;
		else
			bad_arg("unknown flag '%s'", a);
	}
	if (!scenario)
		bad_arg("%s", "--scenario is required");
	if (!port_s && !cfg.unix_path)
		bad_arg("%s", "--port (or --unix PATH) is required");
	if (port_s && cfg.unix_path)
		bad_arg("%s", "--port and --unix exclude each other");
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (strcmp(scenario, scenarios[i].name) == 0)
			cfg.sc = &scenarios[i];
	if (!cfg.sc)
		bad_arg("unknown scenario '%s'", scenario);
	cfg.kind = cfg.sc->kind;

	memset(&cfg.addr, 0, sizeof cfg.addr);
	if (cfg.unix_path) {
		struct sockaddr_un *un = (struct sockaddr_un *)&cfg.addr;
		size_t len = strlen(cfg.unix_path);
		/* sun_path is 108 bytes on Linux, NUL included (unix(7)). */
		if (len == 0 || len >= sizeof un->sun_path)
			bad_arg("--unix path must be 1..%zu bytes, got %zu", sizeof un->sun_path - 1, len);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, cfg.unix_path, len + 1);
		cfg.addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&cfg.addr;
		cfg.port = (int)parse_long("--port", port_s, 1, 65535);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)cfg.port);
		if (inet_pton(AF_INET, cfg.host, &in->sin_addr) != 1)
			bad_arg("--host must be an IPv4 address, got '%s'", cfg.host);
		cfg.addrlen = sizeof *in;
	}

	/* 60000 connections is more than one client address has ports for. */
	cfg.conns = conns_s ? (int)parse_long("--conns", conns_s, 1, 60000) : cfg.sc->conns;
	cfg.duration = dur_s ? parse_secs("--duration", dur_s, 0.001) : 5.0;
	cfg.warmup = warm_s ? parse_secs("--warmup", warm_s, 0.0) : 1.0;

	if (size_s && (cfg.kind == K_HTTP || cfg.kind == K_CONNECT || cfg.kind == K_IDLE))
		bad_arg("--size does not apply to scenario '%s'", cfg.sc->name);
	if (depth_s && (cfg.kind == K_STREAM || cfg.kind == K_CONNECT || cfg.kind == K_IDLE))
		bad_arg("--depth does not apply to scenario '%s' (stream: use --window)", cfg.sc->name);
	if (window_s && cfg.kind != K_STREAM)
		bad_arg("--window applies only to scenario 'stream', not '%s'", cfg.sc->name);
	/* Bounds keep tx_goal arithmetic and the send-time ring small. */
	cfg.size = size_s ? parse_long("--size", size_s, 1, 64L << 20) : cfg.sc->size;
	cfg.depth = depth_s ? (int)parse_long("--depth", depth_s, 1, 4096) : cfg.sc->depth;
	cfg.window = window_s ? parse_long("--window", window_s, 1, 1L << 30) : 1L << 20;
	if (cfg.kind == K_STREAM) {
		cfg.depth = (int)(cfg.window / cfg.size);
		ring = (uint32_t)(cfg.window / cfg.size + 2); /* max chunks in flight, see pump() */
	} else {
		ring = (uint32_t)cfg.depth;
	}
	if ((uint64_t)ring * (uint64_t)cfg.conns > (64u << 20))
		bad_arg("%s", "too many messages in flight (conns x depth)");
}

/* Make sure the descriptor limit covers every connection (getrlimit(2)). */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg.conns + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("loadgen: getrlimit");
		exit(1);
	}
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr, "loadgen: --conns %d needs %lu descriptors, hard limit is %lu\n", cfg.conns,
			(unsigned long)need, (unsigned long)rl.rlim_max);
		exit(2);
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("loadgen: setrlimit");
		exit(2);
	}
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile();

	for (size_t k = 0; k < PATTERN_LEN; k++)
		pattern[k] = (unsigned char)(k * 31);

	if (cfg.kind == K_HTTP) {
		char req[512];
		int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cfg.host);
		if (n < 0 || (size_t)n >= sizeof req)
			bad_arg("%s", "request too long");
		reqlen = (size_t)n;
		cfg.size = (long)reqlen; /* a "message" is one request */
		reqbuf_len = reqlen * REQ_COPIES;
		reqbuf = malloc(reqbuf_len);
		if (!reqbuf) {
			perror("loadgen: malloc");
			return 1;
		}
		for (int i = 0; i < REQ_COPIES; i++)
			memcpy(reqbuf + (size_t)i * reqlen, req, reqlen);
	}

	conns = calloc((size_t)cfg.conns, sizeof *conns);
	uint64_t *rings = calloc((size_t)cfg.conns * ring, sizeof *rings);
	char *hdrs = cfg.kind == K_HTTP ? malloc((size_t)cfg.conns * HDR_MAX) : NULL;
	if (!conns || !rings || (cfg.kind == K_HTTP && !hdrs)) {
		perror("loadgen: calloc");
		return 1;
	}
	for (int i = 0; i < cfg.conns; i++) {
		conns[i].fd = -1;
		conns[i].id = (uint32_t)i;
		conns[i].st = C_IDLE;
		conns[i].sent = rings + (size_t)i * ring;
		conns[i].hdr = hdrs ? hdrs + (size_t)i * HDR_MAX : NULL;
	}

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("loadgen: epoll_create1");
		return 1;
	}

	t_start = now_ns();
	t_setup_end = t_start + SETUP_TIMEOUT_NS;
	t_hard = t_start + (uint64_t)((cfg.warmup + cfg.duration) * 1e9) + HARD_MARGIN_NS;

	/* Setup: open every connection (connect scenario: one probe). The idle
	 * scenario paces its thousands (see IDLE_CONNECT_INTERVAL_NS). */
	int slots = cfg.kind == K_CONNECT ? 1 : cfg.kind == K_IDLE ? 0 : cfg.conns;
	next_slot = slots;
	for (int i = 0; i < slots; i++)
		conn_start(&conns[i]);

	static struct epoll_event evs[MAX_EVENTS];
	for (;;) {
		uint64_t t = now_ns();
		if (phase == P_SETUP)
			setup_check();
		if (phase == P_WARMUP && t >= t_warm_end) {
			if (getrusage(RUSAGE_SELF, &ru_start) != 0)
				perror("loadgen: getrusage");
			phase = P_MEASURE;
			t_measure_start = t;
		}
		if (phase == P_MEASURE && t >= t_end)
			break;
		if (t >= t_hard) {
			fprintf(stderr, "loadgen: hard deadline reached\n");
			break;
		}

		/* Retry idle slots whose back-off has expired. */
		uint64_t next = phase == P_SETUP ? t_setup_end : phase == P_WARMUP ? t_warm_end : t_end;
		if (cfg.kind == K_IDLE && next_slot < cfg.conns) {
			uint64_t due = (t - t_start) / IDLE_CONNECT_INTERVAL_NS + 1;
			while ((uint64_t)next_slot < due && next_slot < cfg.conns)
				conn_start(&conns[next_slot++]);
			if (next_slot < cfg.conns && t + NS_PER_MS < next)
				next = t + NS_PER_MS;
		}
		if (t_hard < next)
			next = t_hard;
		if (n_idle > 0) {
			for (int i = 0; i < cfg.conns; i++) {
				struct conn *c = &conns[i];
				if (c->st != C_IDLE || c->retry_at == 0)
					continue;
				if (c->retry_at <= t) {
					n_idle--;
					c->retry_at = 0;
					conn_start(c);
				} else if (c->retry_at < next) {
					next = c->retry_at;
				}
			}
		}
		if (n_dead == cfg.conns) {
			fprintf(stderr, "loadgen: every connection has failed; stopping early\n");
			break;
		}

		uint64_t wait_ns = next > t ? next - t : 0;
		int timeout = (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
		if (timeout > MAX_WAIT_MS)
			timeout = MAX_WAIT_MS;
		int n = epoll_wait(ep, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("loadgen: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			uint32_t idx = (uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			struct conn *c = &conns[idx];
			if (c->gen != gen || c->fd < 0)
				continue; /* stale: that socket was closed earlier in this batch */
			handle_event(c, evs[i].events);
		}
	}

	t_measure_stop = now_ns();
	if (phase == P_MEASURE) {
		if (getrusage(RUSAGE_SELF, &ru_stop) != 0)
			perror("loadgen: getrusage");
	} else {
		t_measure_stop = t_measure_start = 0; /* never reached the measured window */
	}
	phase = P_DONE;
	if (cfg.kind == K_IDLE)
		ops = (uint64_t)n_open; /* idle: connections still open at the end */
	print_result();
	return 0;
}
