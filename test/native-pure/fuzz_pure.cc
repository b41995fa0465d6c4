// Randomized property test of the addon's pure C++ parts, built and run with
// ASan + UBSan by scripts/fuzz-pure.sh (no Node, no libFuzzer needed: gcc only).
//
//  * ParseAddress / FormatAddress (addr.cc): random and mutated address
//    strings up to 130 bytes against a reference written from the man pages
//    (inet_pton(3) for the address, a strict decimal or if_nametoindex(3)
//    zone), plus a format -> parse round trip.
//  * TokenMerge (token_merge.h): random batches of up to kMaxEvents events
//    against a std::map model, including batches across the 2^32 stamp wrap.
//
//   fuzz_pure [iterations] [seed]
// Exit status 0 when every property held; prints the first failures.
#include <arpa/inet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "sys.h"
// White-box: the wrap test sets the batch stamp directly.
#define private public
#include "token_merge.h"
#undef private

using edgeio::SocketAddress;

static int failures = 0;
static void Fail(const std::string& what) {
  if (++failures <= 20) fprintf(stderr, "FAIL %s\n", what.c_str());
}

// ---------------------------------------------------------------------------
// The reference: what ParseAddress must accept, from the man pages.
struct Expect {
  int result;  // 0 or -EINVAL
  int family;
  unsigned char addr[16];
  uint32_t scope;
};

static bool StrictDecimal(const char* s, uint32_t* out) {
  // 1-10 ASCII digits, value <= 2^32-1. No sign, no space, no hex.
  size_t n = strlen(s);
  if (n == 0 || n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (v > 0xffffffffull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

static Expect Reference(const std::string& ip) {
  Expect e;
  memset(&e, 0, sizeof e);
  e.result = -EINVAL;
  if (inet_pton(AF_INET, ip.c_str(), e.addr) == 1) {
    e.result = 0;
    e.family = AF_INET;
    return e;
  }
  // INET6_ADDRSTRLEN + IF_NAMESIZE + 2 bytes of room, NUL included.
  if (ip.size() >= INET6_ADDRSTRLEN + IF_NAMESIZE + 2) return e;
  std::string host = ip;
  size_t pct = ip.find('%');
  uint32_t scope = 0;
  if (pct != std::string::npos) {
    host = ip.substr(0, pct);
    std::string zone = ip.substr(pct + 1);
    if (zone.empty()) return e;
    if (!StrictDecimal(zone.c_str(), &scope)) {
      scope = if_nametoindex(zone.c_str());
      if (scope == 0) return e;
    }
  }
  if (inet_pton(AF_INET6, host.c_str(), e.addr) != 1) return e;
  e.result = 0;
  e.family = AF_INET6;
  e.scope = scope;
  return e;
}

static std::string Show(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c >= 32 && c < 127) {
      o += static_cast<char>(c);
    } else {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      o += b;
    }
  }
  return "\"" + o + "\"";
}

static void CheckParse(const std::string& ip, int port) {
  SocketAddress a;
  memset(&a, 0xa5, sizeof a);  // garbage in: ParseAddress must set what it reports
  int r = edgeio::ParseAddress(ip.c_str(), port, &a);
  Expect e = Reference(ip);
  if (r != e.result) {
    Fail("ParseAddress(" + Show(ip) + ") = " + std::to_string(r) + ", reference says " + std::to_string(e.result));
    return;
  }
  if (r != 0) return;
  if (a.storage.ss_family != e.family) Fail("family of " + Show(ip));
  if (e.family == AF_INET) {
    const sockaddr_in* v4 = reinterpret_cast<const sockaddr_in*>(&a.storage);
    if (a.length != sizeof(sockaddr_in) || memcmp(&v4->sin_addr, e.addr, 4) != 0 || ntohs(v4->sin_port) != port) {
      Fail("IPv4 fields of " + Show(ip));
    }
  } else {
    const sockaddr_in6* v6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
    if (a.length != sizeof(sockaddr_in6) || memcmp(&v6->sin6_addr, e.addr, 16) != 0 || ntohs(v6->sin6_port) != port ||
        v6->sin6_scope_id != e.scope || v6->sin6_flowinfo != 0) {
      Fail("IPv6 fields of " + Show(ip));
    }
  }
  // Round trip: format, parse again, same address and port.
  char text[128];
  memset(text, 'x', sizeof text);
  int fport = -1;
  int ffam = 0;
  if (edgeio::FormatAddress(a, text, sizeof text, &fport, &ffam) != 0) {
    Fail("FormatAddress of " + Show(ip));
    return;
  }
  if (strnlen(text, sizeof text) == sizeof text) {
    Fail("FormatAddress left no NUL for " + Show(ip));
    return;
  }
  SocketAddress b;
  if (edgeio::ParseAddress(text, fport, &b) != 0 || b.storage.ss_family != a.storage.ss_family || fport != port) {
    Fail("round trip of " + Show(ip) + " via " + Show(text));
    return;
  }
  const void* pa = e.family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr)
                                       : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
  const void* pb = e.family == AF_INET ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&b.storage)->sin_addr)
                                       : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&b.storage)->sin6_addr);
  if (memcmp(pa, pb, e.family == AF_INET ? 4 : 16) != 0) Fail("round trip bytes of " + Show(ip));
}

static std::string RandomAddress(std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  static const char* kSeeds[] = {
      "127.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "::", "::1", "fe80::1", "::ffff:127.0.0.1",
      "2001:db8::1", "1:2:3:4:5:6:7:8", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "fe80::1%lo",
      "fe80::1%1", "fe80::1%4294967295", "fe80::1%4294967296", "fe80::1%18446744073709551617", "fe80::1%-1",
      "fe80::1%+1", "fe80::1% 1", "fe80::1%0x1", "fe80::1%", "fe80::1%%", "%", "::1%lo%lo", "01.2.3.4",
      "1.2.3", "256.0.0.1", "1..2.3", ":::", "1::2::3", "fe80::1%01", "fe80::1%0000000001",
  };
  const std::string alphabet = "0123456789abcdefABCDEF:.%lo- x+\t";
  std::string s;
  switch (pick(4)) {
    case 0:
      return kSeeds[pick(sizeof kSeeds / sizeof kSeeds[0])];
    case 1: {  // a seed, mutated
      s = kSeeds[pick(sizeof kSeeds / sizeof kSeeds[0])];
      int k = 1 + static_cast<int>(pick(3));
      for (int i = 0; i < k; i++) {
        size_t at = s.empty() ? 0 : pick(s.size() + 1);
        switch (pick(3)) {
          case 0:
            s.insert(at, 1, alphabet[pick(alphabet.size())]);
            break;
          case 1:
            if (!s.empty() && at < s.size()) s.erase(at, 1);
            break;
          default:
            if (!s.empty() && at < s.size()) s[at] = alphabet[pick(alphabet.size())];
        }
      }
      return s;
    }
    case 2: {  // random bytes from the alphabet, around the 64-byte boundary
      size_t n = pick(4) == 0 ? 60 + pick(8) : pick(130);
      for (size_t i = 0; i < n; i++) s += alphabet[pick(alphabet.size())];
      return s;
    }
    default: {  // a valid IPv6 address with a long zone
      s = "fe80::";
      s += std::to_string(pick(65536));
      s += "%";
      size_t n = pick(70);
      for (size_t i = 0; i < n; i++) s += static_cast<char>('0' + pick(10));
      return s;
    }
  }
}

// ---------------------------------------------------------------------------
static void CheckMergeBatch(edgeio::TokenMerge& merge, std::mt19937_64& rng, int32_t* out, uint32_t universe = 0) {
  const int kMax = edgeio::kMaxEvents;
  if (universe == 0) universe = rng() % 3 == 0 ? 8 : (rng() % 2 ? 2048 : 0xffffffffu);
  int adds = static_cast<int>(rng() % (2 * kMax));
  merge.Begin();
  int pairs = 0;
  std::map<uint32_t, std::pair<int, int32_t>> model;  // token -> (index, bits)
  std::vector<uint32_t> order;
  for (int i = 0; i < adds; i++) {
    uint32_t token = universe == 0xffffffffu ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % universe);
    if (model.find(token) == model.end() && pairs == kMax) continue;  // caller guarantees room
    int32_t bits = static_cast<int32_t>(1u << (rng() % 6));
    merge.Add(out, &pairs, token, bits);
    auto it = model.find(token);
    if (it == model.end()) {
      model[token] = {static_cast<int>(order.size()), bits};
      order.push_back(token);
    } else {
      it->second.second |= bits;
    }
  }
  if (pairs != static_cast<int>(order.size())) {
    Fail("TokenMerge: " + std::to_string(pairs) + " pairs, model " + std::to_string(order.size()));
    return;
  }
  for (int i = 0; i < pairs; i++) {
    uint32_t token = order[static_cast<size_t>(i)];
    if (static_cast<uint32_t>(out[2 * i]) != token || out[2 * i + 1] != model[token].second) {
      Fail("TokenMerge: pair " + std::to_string(i) + " differs from the model");
      return;
    }
  }
}

int main(int argc, char** argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 200000;
  unsigned long long seed = argc > 2 ? strtoull(argv[2], nullptr, 10) : 1;
  std::mt19937_64 rng(seed);
  for (long i = 0; i < iterations; i++) CheckParse(RandomAddress(rng), static_cast<int>(rng() % 65536));

  // Bad ports: rejected before anything else.
  SocketAddress a;
  if (edgeio::ParseAddress("127.0.0.1", -1, &a) != -EINVAL || edgeio::ParseAddress("::1", 65536, &a) != -EINVAL) {
    Fail("ParseAddress port range");
  }

  static edgeio::TokenMerge merge;  // static: 24 KiB of slots
  static int32_t out[2 * edgeio::kMaxEvents];
  long batches = iterations / 100 + 50;
  for (long i = 0; i < batches; i++) CheckMergeBatch(merge, rng, out);
  // Across the stamp wrap. A fresh table's first batch (stamp 1) fills slots
  // for tokens 0-7; 2^32 batches later the stamp is 1 again, and those slots
  // must not read as live (Begin() wipes the table when the stamp wraps).
  static edgeio::TokenMerge wrap;
  int first_pairs = 0;
  wrap.Begin();
  for (uint32_t t = 0; t < 8; t++) wrap.Add(out, &first_pairs, t, 1);
  wrap.stamp_ = 0xffffffffu;  // the next Begin() wraps
  for (int i = 0; i < 40; i++) CheckMergeBatch(wrap, rng, out, 8);

  printf("fuzz_pure: %ld addresses, %ld + 40 merge batches (seed %llu): %d failures\n", iterations, batches, seed,
         failures);
  return failures == 0 ? 0 : 1;
}
