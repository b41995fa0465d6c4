/*
 * udp-loadgen.c - load generator for the UDP benchmark (bench/udp.js).
 *
 *   udp-loadgen echo|blast PORT SIZE DURATION_S WARMUP_S [WINDOW]
 *
 * blast: sends SIZE-byte datagrams to 127.0.0.1:PORT as fast as sendmmsg
 *        goes (batches of 64); the server counts what it manages to take.
 * echo:  keeps WINDOW datagrams (default 64) in flight and counts the
 *        echoes; a window that sees no echo for 20 ms is counted as lost
 *        and refilled (UDP drops under overload; the load must not stall).
 *
 * After WARMUP_S it sends one 1-byte datagram (the servers reset their
 * count on it) and prints "MEASURE" (the harness starts reading the
 * server's CPU time then); after DURATION_S more it prints one JSON line:
 * {"sent":..,"received":..,"lost":..,"seconds":..}.
 */
#define _GNU_SOURCE /* recvmmsg/sendmmsg */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define DGRAM_MAX 2048

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 6) {
		fprintf(stderr, "usage: udp-loadgen echo|blast PORT SIZE DURATION_S WARMUP_S [WINDOW]\n");
		return 2;
	}
	const int echo = strcmp(argv[1], "echo") == 0;
	const int port = atoi(argv[2]);
	const int size = atoi(argv[3]);
	const double duration = atof(argv[4]);
	const double warmup = atof(argv[5]);
	const int window = argc > 6 ? atoi(argv[6]) : 64;
	if (size < 2 || size > DGRAM_MAX || window < 1) {
		fprintf(stderr, "udp-loadgen: SIZE must be in [2, %d], WINDOW >= 1\n", DGRAM_MAX);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	int rcv = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
	struct sockaddr_in to;
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("connect");
		return 1;
	}
	static unsigned char out[DGRAM_MAX];
	static unsigned char in[BATCH][DGRAM_MAX];
	memset(out, 'x', sizeof out);
	struct mmsghdr smsg[BATCH], rmsg[BATCH];
	struct iovec siov[BATCH], riov[BATCH];
	for (int i = 0; i < BATCH; i++) {
		siov[i].iov_base = out;
		siov[i].iov_len = (size_t)size;
		memset(&smsg[i].msg_hdr, 0, sizeof smsg[i].msg_hdr);
		smsg[i].msg_hdr.msg_iov = &siov[i];
		smsg[i].msg_hdr.msg_iovlen = 1;
		riov[i].iov_base = in[i];
		riov[i].iov_len = DGRAM_MAX;
		memset(&rmsg[i].msg_hdr, 0, sizeof rmsg[i].msg_hdr);
		rmsg[i].msg_hdr.msg_iov = &riov[i];
		rmsg[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long sent = 0, received = 0, lost = 0;
	long long inflight = 0;
	int measuring = 0;
	double t0 = now();
	double start = t0;
	double last_echo = t0;
	for (;;) {
		double t = now();
		if (!measuring && t - t0 >= warmup) {
			char one = 'R';
			(void)send(fd, &one, 1, 0);
			measuring = 1;
			sent = received = lost = 0;
			start = t;
			printf("MEASURE\n");
			fflush(stdout);
		}
		if (measuring && t - start >= duration) break;
		if (!echo) {
			int s = sendmmsg(fd, smsg, BATCH, 0);
			if (s > 0) sent += (unsigned long long)s;
			else if (s < 0 && errno != EINTR && errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) {
				perror("sendmmsg");
				return 1;
			}
			continue;
		}
		if (inflight < window) {
			int want = (int)(window - inflight);
			if (want > BATCH) want = BATCH;
			int s = sendmmsg(fd, smsg, (unsigned)want, 0);
			if (s > 0) {
				sent += (unsigned long long)s;
				inflight += s;
			}
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 5);
		if (r > 0) {
			int got = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
			if (got > 0) {
				for (int i = 0; i < got; i++) {
					if (rmsg[i].msg_len == 1) continue; /* the echoed reset marker */
					received++;
					inflight--;
				}
				last_echo = now();
			}
		} else if (now() - last_echo > 0.02 && inflight > 0) {
			lost += (unsigned long long)inflight;
			inflight = 0;
			last_echo = now();
		}
		if (inflight < 0) inflight = 0;
	}
	printf("{\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"seconds\":%.3f}\n", sent, received, lost, now() - start);
	return 0;
}
