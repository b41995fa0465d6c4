/*
 * http-epoll.c - the C floor for the HTTP scenarios: a minimal single-threaded,
 * edge-triggered epoll HTTP/1.1 "hello world" server.
 *
 *   http-epoll PORT        listens on 127.0.0.1:PORT until SIGTERM/SIGINT
 *
 * Every complete request in the input (a header block ending in CRLFCRLF;
 * requests have no body) gets one fixed keep-alive response. Requests may be
 * split across reads and many may arrive pipelined in one read; all the
 * responses one read produces go out in a single write(). A header block
 * over 8 KiB without CRLFCRLF is malformed and closes the connection.
 *
 * Deliberately not a real HTTP server: the request line and headers are not
 * parsed, "Connection: close" and HTTP/1.0 are not honoured, request bodies
 * are not supported. It measures the cost of the event loop and syscalls.
 *
 * Structure as in echo-epoll.c: registered once with
 * EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET; a partial write keeps the remainder
 * and stops reading until EPOLLOUT has drained it (backpressure).
 */
#define _GNU_SOURCE /* accept4(2), memmem(3) */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 13\r\n"
			       "\r\n"
			       "Hello, World!";
#define RESPONSE_LEN (sizeof RESPONSE - 1)

/* Input buffer: one read of up to 56 KiB on top of an unfinished header
 * block, which may be at most HDR_MAX bytes. */
#define IN_CAP 65536
#define HDR_MAX 8192
/* Output buffer: 840 responses, far more than one read of realistic
 * pipelined requests produces (16 x 37-byte GETs -> 1248 bytes). Should a
 * read hold more requests than fit (e.g. a flood of bare "\r\n\r\n"), the
 * rest are answered by further writes before the next read. */
#define OUT_CAP 65536
/* listen(2) caps this at net.core.somaxconn. */
#define BACKLOG 1024
#define MAX_EVENTS 256

struct conn {
	int fd;
	bool rdhup;        /* peer's FIN reported (sticky) */
	bool more;         /* complete requests left unanswered: OUT_CAP was full */
	unsigned pos;      /* start of the first unanswered request in in[] */
	unsigned scan;     /* CRLFCRLF search resumes here (pos <= scan <= inlen) */
	unsigned inlen;    /* bytes in in[] */
	unsigned off, len; /* unsent output: out[off .. off+len) */
	char in[IN_CAP];
	char out[OUT_CAP];
};

static char listener_token;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void conn_close(struct conn *c)
{
	/* close(2) also drops the epoll registration (epoll(7), Q6); only a
	 * conn's own event frees it, so no stale event can follow. */
	if (close(c->fd) != 0 && errno != EINTR)
		perror("http-epoll: close");
	free(c);
}

/* Answer the complete requests in in[pos..inlen) while out[] has room.
 * Output is produced only when out[] is empty. -1: malformed input. */
static int produce(struct conn *c)
{
	c->more = false;
	for (;;) {
		if (c->len + RESPONSE_LEN > OUT_CAP) {
			c->more = true;
			break;
		}
		char *e = memmem(c->in + c->scan, c->inlen - c->scan, "\r\n\r\n", 4);
		if (!e) {
			/* The terminator may straddle the next read. */
			c->scan = c->inlen - c->pos >= 3 ? c->inlen - 3 : c->pos;
			break;
		}
		c->pos = c->scan = (unsigned)(e - c->in) + 4;
		memcpy(c->out + c->len, RESPONSE, RESPONSE_LEN);
		c->len += RESPONSE_LEN;
	}
	/* Only an unterminated tail counts: when out[] filled up, the rest of
	 * in[] may be many complete requests. */
	if (!c->more && c->inlen - c->pos > HDR_MAX)
		return -1;
	if (c->pos == c->inlen)
		c->pos = c->scan = c->inlen = 0;
	return 0;
}

/* Write the pending output. 1: drained, 0: still pending, -1: error. */
static int flush(struct conn *c)
{
	while (c->len > 0) {
		ssize_t w = write(c->fd, c->out + c->off, c->len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->off += (unsigned)w;
		c->len -= (unsigned)w;
		/* Short write: the send buffer is full (epoll(7)). */
		if (c->len > 0)
			return 0;
	}
	c->off = 0;
	return 1;
}

static void conn_event(struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP))
		goto close;
	if (ev & EPOLLRDHUP)
		c->rdhup = true;
	if (c->len > 0) {
		/* Backpressured: no reading until the output is written. */
		if (!(ev & EPOLLOUT))
			return;
		int r = flush(c);
		if (r < 0)
			goto close;
		if (r == 0)
			return;
		/* Drained: buffered requests and input that raised its edge
		 * while we were not reading are handled below. */
	} else if (!(ev & (EPOLLIN | EPOLLRDHUP)) && !c->more) {
		return; /* EPOLLOUT with nothing to send */
	}

	bool empty = false; /* the last read found the socket drained */
	for (;;) {
		if (produce(c) < 0)
			goto close; /* over HDR_MAX without CRLFCRLF */
		if (c->len > 0) {
			/* Everything this read produced, in one write(). */
			int r = flush(c);
			if (r < 0)
				goto close;
			if (r == 0)
				return; /* wait for EPOLLOUT */
		}
		if (c->more)
			continue;
		if (empty)
			return;
		if (c->pos > 0) {
			/* Keep an unfinished request at the front of in[]. */
			memmove(c->in, c->in + c->pos, c->inlen - c->pos);
			c->inlen -= c->pos;
			c->scan -= c->pos;
			c->pos = 0;
		}
		size_t room = IN_CAP - c->inlen;
		ssize_t n = read(c->fd, c->in + c->inlen, room);
		if (n > 0) {
			c->inlen += (unsigned)n;
			/* Short read: receive queue empty (epoll(7)); but a
			 * reported FIN raises no new edge, so then read on. */
			empty = (size_t)n < room && !c->rdhup;
			continue;
		}
		if (n == 0)
			goto close; /* EOF */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		goto close;
	}
close:
	conn_close(c);
}

static void accept_all(int lfd, int ep)
{
	/* Edge-triggered listener: accept until EAGAIN. */
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return;
			case EINTR:
			case ECONNABORTED:
			/* accept(2): Linux passes already-pending network errors
			 * on the new socket as accept errors; retry them. */
			case EPROTO:
			case ENOPROTOOPT:
			case EHOSTDOWN:
			case ENONET:
			case EHOSTUNREACH:
			case EOPNOTSUPP:
			case ENETUNREACH:
			case ENETDOWN:
				continue;
			default:
				/* EMFILE etc.: the rest stay in the backlog until the
				 * next connection re-fires the listener's edge. */
				perror("http-epoll: accept4");
				return;
			}
		}
		int one = 1;
		struct conn *c = NULL;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 || !(c = malloc(sizeof *c))) {
			perror("http-epoll: new connection");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->rdhup = c->more = false;
		c->pos = c->scan = c->inlen = c->off = c->len = 0;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			perror("http-epoll: epoll_ctl");
			conn_close(c);
		}
	}
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long port = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 2 || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "usage: http-epoll PORT\n");
		return 2;
	}

	/* Same signal set-up as echo-epoll.c: SIGPIPE ignored; SIGTERM/SIGINT
	 * only delivered inside epoll_pwait (epoll_pwait(2)). */
	struct sigaction sa = { .sa_handler = SIG_IGN };
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		die("http-epoll: sigaction");
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigprocmask(SIG_BLOCK, &block, &waitmask) != 0)
		die("http-epoll: signals");
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("http-epoll: socket");
	int one = 1;
	if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		die("http-epoll: SO_REUSEADDR");
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0)
		die("http-epoll: bind");
	if (listen(lfd, BACKLOG) != 0)
		die("http-epoll: listen");

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("http-epoll: epoll_create1");
	struct epoll_event lev = { .events = EPOLLIN | EPOLLET, .data.ptr = &listener_token };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0)
		die("http-epoll: epoll_ctl");

	static struct epoll_event evs[MAX_EVENTS];
	while (!stop) {
		int n = epoll_pwait(ep, evs, MAX_EVENTS, -1, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("http-epoll: epoll_pwait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &listener_token)
				accept_all(lfd, ep);
			else
				conn_event(evs[i].data.ptr, evs[i].events);
		}
	}
	return 0;
}
