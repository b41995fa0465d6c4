// UDP syscalls, one function each, returning a value or a negative error
// (the conventions of sys.h: -errno on unix, libuv's UV_E* code on Windows).
//
// Implemented in udp_unix.cc (Linux, macOS, BSD) and udp_win.cc (Windows);
// the JavaScript bindings are in binding_udp.cc. Nothing here throws, and
// nothing allocates: batches live in caller-provided arrays.
#ifndef EDGEIO_UDP_H_
#define EDGEIO_UDP_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sys.h"

#ifndef _WIN32
#include <arpa/inet.h>  // ntohs/htons
#endif

namespace edgeio {

// ===== the wire form of an address =====
//
// Addresses cross the N-API boundary as 8 int32s in a typed array instead of
// strings: no inet_pton/inet_ntop and no JS string per datagram. TypeScript
// caches the wire form of the addresses it sends to and formats the ones it
// receives only when they change (src/net/udp/wire.ts).
//
//   [0] family (4 | 6, 0 = none)   [1] port   [2] IPv6 scope id
//   [3..7) the address bytes in network order (IPv4: the first 4)  [7] 0
constexpr int kWireInts = 8;
// A received datagram's record: [0] bytes, [1] flags, [2..10) wire address.
constexpr int kRecvRecordInts = 10;
// Record flag: the datagram was longer than its buffer (MSG_TRUNC /
// WSAEMSGSIZE); `bytes` is what was copied.
constexpr int32_t kRecvTruncated = 1;
// Most datagrams one native call moves. Linux caps recvmmsg/sendmmsg at
// UIO_MAXIOV (1024) messages; 256 keeps every per-call array on the stack
// (about 40 KiB) and is far past the point where a bigger batch still pays
// (daeuniverse/honk#80: the gain flattens at 8; quinn-udp uses 32).
constexpr int kMaxDatagramBatch = 256;

// Writes `addr` in wire form into `wire` (kWireInts int32s).
inline void WireFromAddress(const SocketAddress& addr, int32_t* wire) {
  memset(wire, 0, kWireInts * sizeof(int32_t));
  const uint8_t* bytes = nullptr;
  size_t n = 0;
  if (addr.storage.ss_family == AF_INET) {
    const sockaddr_in* v4 = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    wire[0] = kFamilyIPv4;
    wire[1] = ntohs(v4->sin_port);
    bytes = reinterpret_cast<const uint8_t*>(&v4->sin_addr);
    n = 4;
  } else if (addr.storage.ss_family == AF_INET6) {
    const sockaddr_in6* v6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
    wire[0] = kFamilyIPv6;
    wire[1] = ntohs(v6->sin6_port);
    wire[2] = static_cast<int32_t>(v6->sin6_scope_id);
    bytes = reinterpret_cast<const uint8_t*>(&v6->sin6_addr);
    n = 16;
  }
  if (bytes != nullptr) memcpy(&wire[3], bytes, n);
}

// Reads the wire form back into a sockaddr. False when the family is not 4
// or 6 or the port is out of range (the binding throws for those).
inline bool WireToAddress(const int32_t* wire, SocketAddress* out) {
  if (wire[1] < 0 || wire[1] > 65535) return false;
  memset(out, 0, sizeof *out);
  if (wire[0] == kFamilyIPv4) {
    sockaddr_in* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(wire[1]));
    memcpy(&v4->sin_addr, &wire[3], 4);
    out->length = sizeof(sockaddr_in);
    return true;
  }
  if (wire[0] == kFamilyIPv6) {
    sockaddr_in6* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(wire[1]));
    v6->sin6_scope_id = static_cast<uint32_t>(wire[2]);
    memcpy(&v6->sin6_addr, &wire[3], 16);
    out->length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// One datagram of a batch. The receive side fills `bytes`, `truncated` and
// `addr`; the send side reads `data`, `len` and (when `has_addr`) `addr`.
struct Datagram {
  uint8_t* data;
  size_t len;
  SocketAddress addr;
  bool has_addr;
  bool truncated;
  int64_t bytes;
};

// Options of SysUdpSetOption. Mirrored in src/sys/native.ts (udpOptions).
enum UdpOption : int32_t {
  kUdpBroadcast = 1,      // SO_BROADCAST
  kUdpTtl = 2,            // IP_TTL / IPV6_UNICAST_HOPS
  kUdpMulticastTtl = 3,   // IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS
  kUdpMulticastLoop = 4,  // IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP
};

// A new nonblocking, close-on-exec datagram socket (Windows: with the ICMP
// reset reports SIO_UDP_CONNRESET / SIO_UDP_NETRESET turned off), or -errno.
int64_t SysUdpSocket(int family);
// Receives one datagram into buf[0, len) (peek: leaves it queued). Returns
// the bytes copied and fills *from and *truncated, or -errno.
int64_t SysRecvFrom(socket_t fd, uint8_t* buf, size_t len, bool peek, SocketAddress* from, bool* truncated);
// Sends one datagram, to `to` or (null) to the connected peer.
int64_t SysSendTo(socket_t fd, const uint8_t* buf, size_t len, const SocketAddress* to);
// Receives up to `count` datagrams (recvmmsg on Linux, a loop elsewhere).
// Returns how many, or -errno when the first one failed (-EAGAIN included).
// A short batch proves nothing about the queue: an error after the first
// datagram is left for the next call, like recvmmsg(2) does.
int SysRecvMany(socket_t fd, Datagram* dgrams, int count);
// Sends up to `count` datagrams (sendmmsg on Linux, a loop elsewhere).
// Returns how many were sent, or -errno when the first one failed.
// With `gso` (Linux only; the caller probed SysUdpGsoSupported), runs of
// consecutive datagrams to one destination whose sizes are equal (the last
// may be shorter) go out as one message carrying a UDP_SEGMENT cmsg: the
// stack is traversed once per run instead of once per datagram (udp(7),
// UDP_SEGMENT; quinn-udp). -EIO or -EINVAL may mean the path cannot do GSO
// (no checksum offload, some IPv6 hosts: quic-go#3911): the caller then
// turns GSO off for the socket and sends again without it.
int SysSendMany(socket_t fd, Datagram* dgrams, int count, bool gso);
// True when the kernel knows UDP_SEGMENT (Linux >= 4.18): getsockopt works.
// An older kernel would ignore the cmsg and send one giant datagram, so GSO
// is only ever used after this probe said yes.
bool SysUdpGsoSupported(socket_t fd);
// Sets a UdpOption for a socket of `family` (4 or 6).
int SysUdpSetOption(socket_t fd, int family, int option, int value);
// Joins (or leaves) `group` on a socket; `iface` is the interface's IPv4
// address for IPv4 groups (null: the kernel's choice) and its index in
// iface_index for IPv6 groups (0: the kernel's choice).
int SysUdpMembership(socket_t fd, bool join, const SocketAddress& group, const SocketAddress* iface,
                     uint32_t iface_index);

// Picks the interface outgoing multicast leaves by: an IPv4 socket names it
// by one of its addresses (`v4`), an IPv6 socket by its index.
int SysUdpMulticastInterface(socket_t fd, const SocketAddress* v4, uint32_t index);

}  // namespace edgeio

#endif  // EDGEIO_UDP_H_
