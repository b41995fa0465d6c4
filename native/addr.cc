// Socket addresses for every OS: numeric IPv4/IPv6 text (with an IPv6 zone)
// to sockaddr and back. inet_pton/inet_ntop and if_nametoindex have the same
// shape in POSIX and Winsock, so there is one implementation; only the
// headers differ. Errors come back as sys.h's codes (-errno on unix, libuv's
// numbering on Windows).
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>  // if_nametoindex (netioapi.h, Vista+), IF_NAMESIZE
#else
#include <arpa/inet.h>
#include <net/if.h>  // if_nametoindex(3), IF_NAMESIZE
#endif

#include <string.h>

#include "sys.h"

namespace edgeio {

int ParseAddress(const char* ip, int port, SocketAddress* out) {
  if (port < 0 || port > 65535) return kErrInvalid;
  // Winsock must be initialised before inet_pton (MSDN: WSANOTINITIALISED).
  int w = SysStartup();
  if (w < 0) return w;
  memset(out, 0, sizeof *out);
  sockaddr_in* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out->length = sizeof(sockaddr_in);
    return 0;
  }
  // IPv6, optionally with a zone: "fe80::1%eth0" or "fe80::1%2". Longer
  // text cannot be a valid address (45 characters of address, '%', and a
  // name shorter than IF_NAMESIZE or at most 10 digits).
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t n = strlen(ip);
  if (n >= sizeof host) return kErrInvalid;
  memcpy(host, ip, n + 1);
  uint32_t scope = 0;
  char* pct = strchr(host, '%');
  if (pct != nullptr) {
    *pct = '\0';
    const char* zone = pct + 1;
    if (*zone == '\0') return kErrInvalid;
    if (!ParseZoneIndex(zone, &scope)) {
      // An interface name (if_nametoindex(3): 0 when there is none).
      scope = if_nametoindex(zone);
      if (scope == 0) return kErrInvalid;
    }
  }
  sockaddr_in6* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) return kErrInvalid;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(static_cast<uint16_t>(port));
  v6->sin6_scope_id = scope;
  out->length = sizeof(sockaddr_in6);
  return 0;
}

int FormatAddress(const SocketAddress& addr, char* ip, size_t ip_len, int* port, int* family) {
  // inet_ntop takes a non-const source on Windows (MSDN, InetNtop: PVOID).
  if (addr.storage.ss_family == AF_INET) {
    sockaddr_in v4;
    memcpy(&v4, &addr.storage, sizeof v4);
    if (inet_ntop(AF_INET, &v4.sin_addr, ip, static_cast<socklen_t>(ip_len)) == nullptr) return SysLastError();
    *port = ntohs(v4.sin_port);
    *family = kFamilyIPv4;
    return 0;
  }
  if (addr.storage.ss_family == AF_INET6) {
    sockaddr_in6 v6;
    memcpy(&v6, &addr.storage, sizeof v6);
    if (inet_ntop(AF_INET6, &v6.sin6_addr, ip, static_cast<socklen_t>(ip_len)) == nullptr) return SysLastError();
    *port = ntohs(v6.sin6_port);
    *family = kFamilyIPv6;
    return 0;
  }
  return kErrAfNoSupport;
}

}  // namespace edgeio
