/**
 * edgeio: an async I/O runtime for Node.js, with tokio's architecture over a
 * native epoll/kqueue/IOCP selector.
 *
 * This module is the whole public API.
 */

// ===== futures =====
export { PENDING } from './future/poll';
export type { Poll, Pending } from './future/poll';
export { Context } from './future/context';
export type { Waker } from './future/waker';
export { noopWaker, wakerFn } from './future/waker';
export { Future } from './future/future';
export { PromiseFuture, fromPromise } from './future/promise-future';
export {
  andThen,
  join,
  joinAll,
  lazy,
  map,
  pending,
  pollFn,
  race,
  ready,
  select,
  toFuture,
} from './future/combinators';
export type { FutureLike, Output, Selected, SelectedOf } from './future/combinators';

// ===== runtime =====
export { Runtime, spawn } from './runtime/runtime';
export type { Spawnable, ShutdownOptions } from './runtime/runtime';
export { JoinHandle } from './runtime/join-handle';
export { yieldNow } from './runtime/yield-now';
export { runUnconstrained as unconstrained } from './task/coop';

// ===== time =====
export { Sleep, sleep, sleepUntil } from './time/sleep';
export { Timeout, timeout } from './time/timeout';
export type { TimeoutError } from './time/timeout';
export { Interval, interval } from './time/interval';
export type { MissedTickBehavior } from './time/interval';

// ===== errors =====
export type { SystemError, CodedError } from './sys/errors';
export type { AddressInfo } from './sys/native';

// ===== I/O =====
export type { AsyncRead, AsyncWrite, AsyncDuplex } from './io/traits';
export { ReadHalf, WriteHalf, split, reunite } from './io/split';
export { copy, copyBidirectional } from './io/copy';

// ===== TCP =====
export { TcpListener, EMFILE_BACKOFF_MS } from './net/tcp/listener';
export type { BindOptions, ListenAddr } from './net/tcp/listener';
export { TcpStream } from './net/tcp/stream';
export type { NodeSocketLike } from './net/tcp/stream';
export type { ConnectOptions } from './net/tcp/connect';

// ===== structural futures and metrics =====
export { isPollable } from './future/future';
export type { Pollable } from './future/future';
export type { RuntimeMetrics } from './runtime/metrics';

// ===== Unix domain sockets and pipes =====
export { UnixListener } from './net/unix/listener';
export type { UnixBindOptions } from './net/unix/listener';
export { UnixStream } from './net/unix/stream';
export type { UnixCredentials, RecvWithFds, RecvWithFdsOptions } from './net/unix/stream';
export { UnixDatagram } from './net/unix/datagram';
export type { UnixRecvInfo, UnixRecvWithFds } from './net/unix/datagram';
export type { UnixSocketAddr } from './net/unix/path';
export { pipe, PipeReader, PipeWriter } from './net/unix/pipe';

// ===== sync =====
export { channel, unboundedChannel, Sender, UnboundedSender, Receiver } from './sync/mpsc';
export type { UnboundedReceiver } from './sync/mpsc';
export { oneshot, OneshotSender, OneshotReceiver } from './sync/oneshot';
export { broadcast, BroadcastSender, BroadcastReceiver } from './sync/broadcast';
export { watch, WatchSender, WatchReceiver } from './sync/watch';
export type { ChannelClosedError, LaggedError } from './sync/errors';
export { Semaphore, SemaphorePermit, MAX_PERMITS } from './sync/semaphore';
export { Mutex, MutexGuard } from './sync/mutex';
export { RwLock, RwLockReadGuard, RwLockWriteGuard, MAX_READS } from './sync/rwlock';
export { Notify, Notified } from './sync/notify';
export { Barrier, BarrierWaitResult } from './sync/barrier';
export type { WaitOptions } from './sync/abortable';
export { JoinSet } from './runtime/join-set';
export { CancellationToken } from './sync/cancellation-token';
export { TaskTracker } from './runtime/task-tracker';

// ===== buffered I/O and codecs =====
export { BufReader, DEFAULT_BUF_SIZE, DEFAULT_MAX_LINE_LENGTH } from './io/buf-reader';
export type { BufReaderOptions } from './io/buf-reader';
export { BufWriter } from './io/buf-writer';
export type { BufWriterOptions } from './io/buf-writer';
export { DecodeBuffer, FramedRead, FramedWrite } from './codec/framed';
export type { Decoder, Encoder, FramedReadOptions } from './codec/framed';
export { LengthDelimited, DEFAULT_MAX_FRAME_LENGTH } from './codec/length-delimited';
export type { LengthDelimitedOptions } from './codec/length-delimited';
export { LinesCodec } from './codec/lines';
export type { LinesCodecOptions } from './codec/lines';

// ===== task behaviour: errors, cancellation, signals =====
export type { RuntimeOptions } from './runtime/runtime';
export type { TaskErrorHandler } from './runtime/failure';
export type { SignalOptions } from './future/abortable';
export { configureUnpolledWarnings } from './future/unpolled';
export type { UnpolledWarningOptions } from './future/unpolled';

// ===== UDP =====
export { UdpSocket, RECV_BATCH } from './net/udp/socket';
export type { UdpBindOptions, UdpAddr, OutgoingDatagram, RecvInfo, UdpTarget } from './net/udp/socket';

// ===== Node interop (http, https, tls, ws, undici over edgeio) =====
export { toNodeSocket, EdgeioSocket } from './compat/node-socket';
export type { BridgeableStream, NodeSocketOptions } from './compat/node-socket';
export { serve } from './compat/serve';
export type { BridgeableListener, ConnectionServer, ServeHandle } from './compat/serve';
export { createConnection } from './compat/agent';
export type { ConnectionOptions } from './compat/agent';
export { connect, buildConnector } from './compat/undici';
export type { ConnectorOptions, UndiciConnector, UndiciConnectOptions } from './compat/undici';

// ===== files and the blocking pool =====
export type { BlockingOptions } from './runtime/blocking';
export { File } from './fs/file';
export type { SeekFrom } from './fs/file';
export { Stats } from './fs/stats';
export type { FsError } from './fs/errors';
export type { PathLike } from './fs/path';
export { readFile, writeFile, stat, statMany, readDir, mkdir, rename, remove, exists, Dirent } from './fs/ops';
export type { WriteFileOptions, MkdirOptions } from './fs/ops';
export { sendFile } from './fs/send-file';
export { lookup } from './net/dns';
export type { LookupAddress, LookupOptions, LookupError } from './net/dns';

// ===== workers (multi-core) =====
// Importing the pool attaches Runtime.workers.
export { WorkerPool } from './worker/pool';
export type { WorkerPoolOptions, PoolCloseOptions, WorkerExit, WorkerMetrics } from './worker/pool';
export { WorkerContext } from './worker/context';
export type { SharedListenOptions } from './worker/context';
export { SharedListener } from './worker/listener-sharing';
export type { Balance } from './worker/listener-sharing';
export { WorkerSender, WorkerReceiver } from './worker/channel';
export { SharedRing } from './worker/shared-ring';
export { BlockingPool, spawnBlocking } from './worker/spawn-blocking';
export type { BlockingPoolOptions } from './worker/spawn-blocking';

// ===== splice(2) between sockets and pipes =====
export { splice } from './net/splice';
