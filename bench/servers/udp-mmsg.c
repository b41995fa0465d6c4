/*
 * udp-mmsg.c - the UDP "C floor": a single-threaded, edge-triggered epoll
 * datagram server that moves batches with recvmmsg(2)/sendmmsg(2), the
 * baseline the edgeio UDP numbers are read against (bench/udp.js).
 *
 *   udp-mmsg echo|sink   binds 127.0.0.1:0, prints "PORT <n>", serves until
 *                        SIGTERM/SIGINT, then prints "COUNT <datagrams>"
 *
 * echo: every datagram goes back to its sender. sink: datagrams are counted
 * and dropped. A 1-byte datagram resets the count (the load generator sends
 * one when its warm-up ends; bench/udp-loadgen.c), in both modes.
 *
 * Batches of BATCH datagrams, like edgeio's recvMany (32, libuv's cap). A
 * partial sendmmsg is resumed; when the socket buffer is full (EAGAIN) the
 * rest of the batch is dropped, as a UDP server under overload would.
 */
#define _GNU_SOURCE /* recvmmsg/sendmmsg */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define DGRAM_MAX 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv) {
	if (argc != 2 || (strcmp(argv[1], "echo") != 0 && strcmp(argv[1], "sink") != 0)) {
		fprintf(stderr, "usage: udp-mmsg echo|sink\n");
		return 2;
	}
	const int echo = strcmp(argv[1], "echo") == 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	int rcv = 4 << 20;
	/* Capped by net.core.rmem_max; a failure only means the default size. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof addr;
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || getsockname(fd, (struct sockaddr *)&addr, &alen) < 0) {
		perror("bind");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = fd};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("epoll");
		return 1;
	}
	printf("PORT %d\n", ntohs(addr.sin_port));
	fflush(stdout);

	static unsigned char bufs[BATCH][DGRAM_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];
	unsigned long long count = 0;
	while (!stop) {
		struct epoll_event out;
		int n = epoll_wait(ep, &out, 1, 100);
		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 1;
		}
		if (n <= 0) continue;
		/* Edge-triggered: drain to EAGAIN. */
		for (;;) {
			for (int i = 0; i < BATCH; i++) {
				iov[i].iov_base = bufs[i];
				iov[i].iov_len = DGRAM_MAX;
				memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
				msgs[i].msg_hdr.msg_name = &from[i];
				msgs[i].msg_hdr.msg_namelen = sizeof from[i];
				msgs[i].msg_hdr.msg_iov = &iov[i];
				msgs[i].msg_hdr.msg_iovlen = 1;
			}
			int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
			if (got < 0) {
				if (errno == EINTR) continue;
				if (errno != EAGAIN) perror("recvmmsg");
				break;
			}
			for (int i = 0; i < got; i++) {
				if (msgs[i].msg_len == 1) count = 0;
				else count++;
			}
			if (echo) {
				for (int i = 0; i < got; i++) iov[i].iov_len = msgs[i].msg_len;
				int off = 0;
				while (off < got) {
					int s = sendmmsg(fd, msgs + off, (unsigned)(got - off), 0);
					if (s < 0) {
						if (errno == EINTR) continue;
						break; /* EAGAIN: the rest of the batch is dropped */
					}
					off += s;
				}
			}
		}
	}
	printf("COUNT %llu\n", count);
	fflush(stdout);
	return 0;
}
