/**
 * What the selector is on this OS, for errors and for the short-read rule.
 *
 * A failed selector call is reported under the name of the call that failed
 * on this platform, as Node names `syscall` in its own errors: `kevent` on
 * macOS, not `epoll_ctl`. The native files say which call each operation
 * makes: native/selector_epoll.cc, native/selector_kqueue.cc,
 * native/selector_win.cc (and the bridges, native/loop.cc and
 * native/loop_win.cc).
 *
 * Internal module: not exported from index.ts.
 */
import { native } from './native';

/** The call behind each selector operation, as error messages name it. */
export interface SelectorCalls {
  /** Creating the selector. */
  readonly open: string;
  /** Registering a descriptor. */
  readonly register: string;
  /** Removing a descriptor. */
  readonly deregister: string;
  /** Waiting for events. */
  readonly select: string;
  /** Watching the selector from Node's loop. */
  readonly bridge: string;
}

/** Per backend (`native.backend`). */
export const SELECTOR_CALLS: Readonly<Record<'epoll' | 'kqueue' | 'iocp', SelectorCalls>> = {
  // epoll(7): the epoll fd, EPOLL_CTL_ADD/DEL, the wait; loop.cc watches it with a uv_poll_t.
  epoll: { open: 'epoll_create1', register: 'epoll_ctl', deregister: 'epoll_ctl', select: 'epoll_wait', bridge: 'uv_poll_start' },
  // kqueue(2): every change and every wait is a kevent() call.
  kqueue: { open: 'kqueue', register: 'kevent', deregister: 'kevent', select: 'kevent', bridge: 'uv_poll_start' },
  // selector_win.cc: a completion port; a registration submits IOCTL_AFD_POLL
  // through NtDeviceIoControlFile and a removal cancels it with
  // NtCancelIoFileEx; loop_win.cc wakes Node's loop with a uv_async_t.
  iocp: {
    open: 'CreateIoCompletionPort',
    register: 'NtDeviceIoControlFile',
    deregister: 'NtCancelIoFileEx',
    select: 'GetQueuedCompletionStatusEx',
    bridge: 'uv_async_init',
  },
};

/**
 * The calls of the selector this process loaded.
 *
 * @example
 * ```ts
 * if (h < 0) throw systemError(h, selectorCalls.open); // 'kqueue' on macOS
 * ```
 */
export const selectorCalls: SelectorCalls = SELECTOR_CALLS[native.backend];

/**
 * Interest to add when registering a TCP stream so that pending urgent data
 * (`MSG_OOB`) shows up as the PRIORITY readiness bit: EPOLLPRI on Linux,
 * EVFILT_EXCEPT/NOTE_OOB on macOS and OpenBSD (selector_kqueue.cc). 0 where
 * it is not available (FreeBSD and NetBSD have no such filter) or not needed:
 * on Windows sys_win.cc re-arms the AFD receive poll after every short read,
 * and a re-armed poll completes at once while bytes are left, so a read that
 * stopped early is always followed by a fresh event. Asking AFD for
 * RECEIVE_EXPEDITED there would even hurt: it stays true while the urgent
 * byte is unread, so every re-armed poll would complete at once, forever.
 */
export const URGENT_INTEREST: number =
  native.backend === 'epoll' || (native.backend === 'kqueue' && (process.platform === 'darwin' || process.platform === 'openbsd'))
    ? native.interest.PRIORITY
    : 0;

/**
 * Whether a short read on a TCP stream proves its receive buffer empty here
 * (with {@link URGENT_INTEREST} registered, and while PRIORITY is not set:
 * see Registration). False on the BSDs without an urgent-data filter: a read
 * ends at the urgent mark with data behind it, and nothing would report
 * that data again, so streams there read until EAGAIN.
 */
export const TCP_SHORT_READ_PROVES_EMPTY: boolean = URGENT_INTEREST !== 0 || native.backend === 'iocp';
