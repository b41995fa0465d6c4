// The Windows selector's waker (mio src/sys/windows/waker.rs): a kKeyWaker
// packet posted to the selector's completion port, and the process-wide
// registry of live ports that WakeHandle() (selector.h) checks before posting
// from another thread.
#ifndef EDGEIO_WAKER_WIN_H_
#define EDGEIO_WAKER_WIN_H_

#ifdef _WIN32

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>

namespace edgeio {
namespace win {

class PortWaker {
 public:
  // Posts one kKeyWaker packet to `port`, unless one is already in flight:
  // N wakes before a Select() give one event, as eventfd/EVFILT_USER do.
  // 0 or a negative libuv error. Safe from any thread.
  int Wake(HANDLE port);
  // The selector dequeued the waker packet: the next Wake() posts again.
  void Consumed() { pending_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> pending_{false};
};

// Adds/removes a live selector port, so WakeHandle() only ever posts to a
// port that is an edgeio selector and is not being closed. Add returns false
// when out of memory.
bool RegisterPort(HANDLE port);
void UnregisterPort(HANDLE port);

}  // namespace win
}  // namespace edgeio

#endif  // _WIN32

#endif  // EDGEIO_WAKER_WIN_H_
