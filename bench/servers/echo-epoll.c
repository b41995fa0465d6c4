/*
 * echo-epoll.c - the "C floor": a minimal single-threaded, edge-triggered
 * epoll TCP echo server, the baseline the edgeio echo numbers are read
 * against.
 *
 *   echo-epoll PORT        listens on 127.0.0.1:PORT until SIGTERM/SIGINT
 *   echo-epoll --unix PATH the same on a Unix domain stream socket at PATH
 *                          (an existing file there is replaced; removed on exit)
 *
 * Each connection is registered once (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET)
 * and never modified. Data is read into a 64 KiB per-connection buffer and
 * written straight back; if the write is partial the remainder stays in the
 * buffer and the connection is not read again until EPOLLOUT has drained it,
 * so a client that does not read gets TCP backpressure, not server memory.
 */
#define _GNU_SOURCE /* accept4(2) */

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
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* One read's worth; a full loopback segment burst fits, and it is the only
 * per-connection memory (64 KiB x 10k connections = 640 MiB worst case). */
#define BUF_SIZE 65536
/* listen(2) caps this at net.core.somaxconn (4096 by default since 5.4). */
#define BACKLOG 1024
#define MAX_EVENTS 256

struct conn {
	int fd;
	bool rdhup;        /* peer's FIN reported (sticky, see conn_event) */
	unsigned off, len; /* unsent echo bytes: buf[off .. off+len) */
	unsigned char buf[BUF_SIZE];
};

/* The listener's epoll token; connections use their struct conn pointer. */
static char listener_token;
static volatile sig_atomic_t stop;
/* --unix: AF_UNIX listener, no TCP options on accepted sockets. */
static bool unix_mode;

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
	/* close(2) also drops the epoll registration (epoll(7), Q6). Each fd
	 * is reported at most once per epoll_wait batch and only its own event
	 * frees a conn, so no later event in the batch can refer to it. */
	if (close(c->fd) != 0 && errno != EINTR)
		perror("echo-epoll: close");
	free(c);
}

/* Write the pending remainder. 1: drained, 0: still pending, -1: closed. */
static int flush(struct conn *c)
{
	while (c->len > 0) {
		ssize_t w = write(c->fd, c->buf + c->off, c->len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			conn_close(c); /* EPIPE/ECONNRESET: the client went away */
			return -1;
		}
		c->off += (unsigned)w;
		c->len -= (unsigned)w;
	}
	c->off = 0;
	return 1;
}

static void conn_event(struct conn *c, uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if (ev & EPOLLRDHUP)
		c->rdhup = true;
	if (c->len > 0) {
		/* Backpressured: reads wait until the remainder is written. */
		if (!(ev & EPOLLOUT))
			return;
		int r = flush(c);
		if (r <= 0)
			return;
		/* Drained. Input that arrived meanwhile raised its edge while we
		 * ignored it, so read now; ET will not tell us again. */
	} else if (!(ev & (EPOLLIN | EPOLLRDHUP))) {
		return; /* EPOLLOUT with nothing to send */
	}

	for (;;) {
		ssize_t n = read(c->fd, c->buf, BUF_SIZE);
		if (n > 0) {
			ssize_t w = write(c->fd, c->buf, (size_t)n);
			if (w < 0) {
				if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
					conn_close(c);
					return;
				}
				w = 0;
			}
			if (w < n) {
				c->off = (unsigned)w;
				c->len = (unsigned)(n - w);
				return; /* wait for EPOLLOUT */
			}
			/* A short read means the receive queue is empty; epoll(7)
			 * allows stopping there instead of reading to EAGAIN. Not
			 * if a FIN was reported: it raises no further edge, and we
			 * must read on to see the EOF. */
			if (n < BUF_SIZE && !c->rdhup)
				return;
			continue;
		}
		if (n == 0) {
			conn_close(c); /* EOF */
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(c);
		return;
	}
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
				/* EMFILE/ENFILE/ENOBUFS/ENOMEM: leave the rest in the
				 * backlog. With ET the listener re-fires only when the
				 * next connection arrives; acceptable for a benchmark. */
				perror("echo-epoll: accept4");
				return;
			}
		}
		int one = 1;
		struct conn *c = NULL;
		/* AF_UNIX has no Nagle and no TCP options (unix(7)). */
		if ((!unix_mode && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) || !(c = malloc(sizeof *c))) {
			perror("echo-epoll: new connection");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->rdhup = false;
		c->off = c->len = 0;
		/* Registered once, never modified. If data is already queued,
		 * EPOLL_CTL_ADD reports it as ready right away. */
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			perror("echo-epoll: epoll_ctl");
			conn_close(c);
		}
	}
}

int main(int argc, char **argv)
{
	char *end = NULL;
	const char *path = NULL;
	long port = 0;
	if (argc == 3 && strcmp(argv[1], "--unix") == 0) {
		path = argv[2];
		unix_mode = true;
	} else {
		port = argc == 2 ? strtol(argv[1], &end, 10) : 0;
		if (argc != 2 || *end != '\0' || port < 1 || port > 65535) {
			fprintf(stderr, "usage: echo-epoll PORT | echo-epoll --unix PATH\n");
			return 2;
		}
	}

	/* Writing to a reset connection must be an EPIPE error, not death. */
	struct sigaction sa = { .sa_handler = SIG_IGN };
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		die("echo-epoll: sigaction");
	/* SIGTERM/SIGINT are blocked except inside epoll_pwait, which unblocks
	 * them atomically (epoll_pwait(2)): a signal arriving between the stop
	 * check and the wait cannot be lost. No SA_RESTART: the wait must
	 * return EINTR. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigprocmask(SIG_BLOCK, &block, &waitmask) != 0)
		die("echo-epoll: signals");
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	int lfd = socket(unix_mode ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("echo-epoll: socket");
	if (unix_mode) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		size_t len = strlen(path);
		/* sun_path is 108 bytes on Linux, NUL included (unix(7)). */
		if (len == 0 || len >= sizeof un.sun_path) {
			fprintf(stderr, "echo-epoll: --unix path must be 1..%zu bytes\n", sizeof un.sun_path - 1);
			return 2;
		}
		memcpy(un.sun_path, path, len + 1);
		/* bind(2) on an existing file fails with EADDRINUSE: a previous
		 * run's socket file is replaced. */
		if (unlink(path) != 0 && errno != ENOENT)
			die("echo-epoll: unlink");
		if (bind(lfd, (struct sockaddr *)&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1)) != 0)
			die("echo-epoll: bind");
	} else {
		int one = 1;
		/* Restarting between benchmark runs must not fail on TIME_WAIT. */
		if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
			die("echo-epoll: SO_REUSEADDR");
		struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0)
			die("echo-epoll: bind");
	}
	if (listen(lfd, BACKLOG) != 0)
		die("echo-epoll: listen");

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("echo-epoll: epoll_create1");
	struct epoll_event lev = { .events = EPOLLIN | EPOLLET, .data.ptr = &listener_token };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0)
		die("echo-epoll: epoll_ctl");

	static struct epoll_event evs[MAX_EVENTS];
	while (!stop) {
		int n = epoll_pwait(ep, evs, MAX_EVENTS, -1, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("echo-epoll: epoll_pwait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &listener_token)
				accept_all(lfd, ep);
			else
				conn_event(evs[i].data.ptr, evs[i].events);
		}
	}
	/* Open connections are closed by exit. */
	if (unix_mode)
		unlink(path);
	return 0;
}
