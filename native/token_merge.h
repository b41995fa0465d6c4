// Per-batch merging of readiness by token, for the selectors whose OS
// primitive can report one socket more than once per batch: kqueue (a read
// and a write filter per fd, selector_kqueue.cc) and AFD poll (separate read,
// write and close polls per socket, selector_win.cc). epoll reports each fd
// once, and the TypeScript reactor relies on that shape, so these selectors
// OR the bits of one token into a single [token, readiness] pair per Select.
//
// Allocation-free: a fixed open-addressing table with at most kMaxEvents
// live entries in 2 * kMaxEvents slots (half full at worst), keyed by token,
// holding the pair's index in the caller's array. A slot is live only when
// its stamp equals the current batch's, so nothing is cleared between
// batches; the table is wiped once every 2^32 batches when the stamp wraps.
#ifndef EDGEIO_TOKEN_MERGE_H_
#define EDGEIO_TOKEN_MERGE_H_

#include <stdint.h>
#include <string.h>

#include "selector.h"

namespace edgeio {

class TokenMerge {
 public:
  TokenMerge() { memset(slots_, 0, sizeof slots_); }

  // Starts a new batch.
  void Begin() {
    if (++stamp_ == 0) {
      memset(slots_, 0, sizeof slots_);
      stamp_ = 1;
    }
  }

  // Adds `bits` for `token`: ORs them into the token's pair if this batch
  // already has one, else appends a pair at out[2 * *pairs] and bumps
  // *pairs. The caller guarantees room for one more pair.
  void Add(int32_t* out, int* pairs, uint32_t token, int32_t bits) {
    // Fibonacci hashing: the top kBits bits of token * 2^32/phi.
    uint32_t h = (token * 2654435769u) >> (32 - kBits);
    for (;;) {
      Slot& slot = slots_[h];
      if (slot.stamp != stamp_) {
        slot.stamp = stamp_;
        slot.token = token;
        slot.index = *pairs;
        // Tokens travel as int32 bit patterns; the TS side reads them with >>> 0.
        out[2 * *pairs] = static_cast<int32_t>(token);
        out[2 * *pairs + 1] = bits;
        (*pairs)++;
        return;
      }
      if (slot.token == token) {
        out[2 * slot.index + 1] |= bits;
        return;
      }
      h = (h + 1) & (kSlots - 1);
    }
  }

 private:
  static constexpr uint32_t kBits = 11;
  static constexpr uint32_t kSlots = 1u << kBits;
  static_assert(kSlots >= 2 * static_cast<uint32_t>(kMaxEvents), "merge table must stay at most half full");

  struct Slot {
    uint32_t stamp;
    uint32_t token;
    int32_t index;  // pair index in the caller's array
  };
  uint32_t stamp_ = 0;
  Slot slots_[kSlots];
};

}  // namespace edgeio

#endif  // EDGEIO_TOKEN_MERGE_H_
