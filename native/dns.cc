// Host name resolution on a pool thread: getaddrinfo(3), as libuv's
// uv_getaddrinfo does, but on edgeio's own pool (dns.lookup on libuv's 4
// shared threads can starve fs: node#8436).
//
// The result is a NUL-separated list of numeric addresses in the resolver's
// order (RFC 6724 sorting is getaddrinfo's job, gai.conf on glibc). Errors
// are libuv's UV_EAI_* codes, which Node's dns errors carry.
#include <errno.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include "pool.h"

namespace edgeio {

namespace {

// libuv's uv__getaddrinfo_translate_error (src/uv-common.c), for the codes
// that exist on every platform.
int TranslateEai(int e) {
  switch (e) {
    case 0: return 0;
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY: return UV_EAI_ADDRFAMILY;
#endif
    case EAI_AGAIN: return UV_EAI_AGAIN;
    case EAI_BADFLAGS: return UV_EAI_BADFLAGS;
    case EAI_FAIL: return UV_EAI_FAIL;
    case EAI_FAMILY: return UV_EAI_FAMILY;
    case EAI_MEMORY: return UV_EAI_MEMORY;
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
    case EAI_NODATA: return UV_EAI_NODATA;
#endif
    case EAI_NONAME: return UV_EAI_NONAME;
    case EAI_SERVICE: return UV_EAI_SERVICE;
    case EAI_SOCKTYPE: return UV_EAI_SOCKTYPE;
#ifdef EAI_SYSTEM
    case EAI_SYSTEM: return -errno;
#endif
    default: return UV_EAI_FAIL;
  }
}

}  // namespace

void RunLookupJob(Job* j) {
  addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = j->a == 4 ? AF_INET : j->a == 6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: getaddrinfo(3) says "the loopback address is not
  // considered for this case as valid as a configured address", so on a
  // host whose only IPv6 address is ::1, "localhost" would lose ::1 and
  // connect('localhost:port') could not reach a server listening on ::1.
  addrinfo* res = nullptr;
  int e = getaddrinfo(j->path.c_str(), nullptr, &hints, &res);
  if (e != 0) {
    j->syscall = kScGetaddrinfo;
    j->result = TranslateEai(e);
    return;
  }
  int64_t count = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char ip[INET6_ADDRSTRLEN + 16];
    const void* src = nullptr;
    if (ai->ai_family == AF_INET) {
      src = &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      src = &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, src, ip, sizeof ip) == nullptr) continue;
    // Duplicates come back once per socktype on some resolvers; the hints
    // above ask for SOCK_STREAM only, but musl ignores that for literals.
    size_t n = strlen(ip);
    bool dup = false;
    for (size_t p = 0; p < j->blob.size();) {
      size_t l = strlen(j->blob.c_str() + p);
      if (l == n && memcmp(j->blob.c_str() + p, ip, n) == 0) dup = true;
      p += l + 1;
    }
    if (dup) continue;
    j->blob.append(ip, n);
    j->blob.push_back('\0');
    count++;
  }
  freeaddrinfo(res);
  j->result = count;
}

}  // namespace edgeio
