#!/usr/bin/env node
// Randomized driver of the addon's argument checks (and of what lies behind
// them): every exported native function, called with random argument lists.
//
//   node scripts/fuzz-native.js [--iterations N] [--seed S] [--quiet]
//
// Defaults: 1,000,000 iterations, seed from the clock (printed). The same
// seed replays the same sequence of calls as long as the kernel answers the
// same way (accept/connect timing can make two runs diverge after a while);
// every failure prints the call that caused it.
//
// Used by test/native.fuzz.test.ts (a bounded quick run), by
// scripts/check-valgrind.sh and scripts/check-native.sh.
//
// Each iteration picks an exported function and builds its arguments in one
// of four ways: well-formed, well-formed with one or two positions replaced by
// a random value, a random arity, or entirely random. Random values: numbers
// (NaN, +-Infinity, -0, fractions, 2^31, 2^32, 2^53, negatives, ...), strings
// (address-like, huge, NUL, lone surrogates), objects, arrays, functions,
// typed arrays of every kind (with byte offsets, over SharedArrayBuffer, over
// resizable buffers shrunk out of bounds, detached), Buffers from the pool,
// DataViews, symbols, bigints, null/undefined, and objects whose valueOf /
// toString / Symbol.toPrimitive record being called (the addon must never
// coerce). Buffer lists for readv/writev also come with holes, 2^32-1 sparse
// lengths, more than IOV_MAX entries, and index getters that run more random
// operations: transfer or shrink a buffer already collected, close or open
// descriptors, open and close selectors. bridgeStart is sometimes called with
// an async_hooks init hook armed that does the same from inside the call, and
// bridge callbacks run random operations when the bridge fires.
//
// Safety (the driver must never disturb descriptors it does not own, nor
// other processes): a number that would pass as a descriptor is replaced,
// unless it is one the driver opened (sockets, /dev/null, a temp file, the
// fds accept() and reserveFd() returned to it), or provably invalid (above
// fs.nr_open), or one it closed and fstat() confirms is still closed. fds
// 0-2 reach only the pure queries (localAddress, peerAddress, getOption).
// close() never gets a selector's own eventfd. Selector handles that are not
// the driver's own (open or closed) are replaced unless >= 1e9. connect()
// only ever targets loopback ports the driver owns (listeners, and bound
// non-listening sockets, which refuse). bind() only ports 0 or the driver's.
// selectorSelect() on a live selector is preceded by a wake, so a random
// timeout (negative = forever) can never block. The blocking-pool functions
// (poolOpen, poolSubmit, ...) only ever get handles >= 1e9, never issued: a
// random pool job could remove or overwrite files, so only their argument
// checks are fuzzed (test/fs.* drive the jobs). sendFile gets the driver's
// own descriptors in both positions; fileClose only never-issued numbers.
// timeout (negative = forever) can never block. Unix socket paths, FIFOs and
// unlinks (PATH_ARG) only ever name entries of the driver's own temp
// directory; only the driver's descriptors travel in sendWithFds, and those
// recvWithFds receives are closed at once.
//
// Oracle: every call returns a value of the documented shape (an integer in
// the function's range, or a known negative errno; an {address, family, port}
// object for the address queries), or throws a TypeError, RangeError or Error
// with a string `code` (or the driver's own getter error, passed through).
// No argument is ever coerced. No call takes more than 2 s. At the end every
// resource is closed, the descriptor count is back to where it started, and
// an echo through the addon still works.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const asyncHooks = require('async_hooks');
const { spawnSync } = require('child_process');

// ---------------------------------------------------------------- PRNG ----
// sfc32: small, fast, good enough, and reproducible from a 32-bit seed.
function makeRng(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  const rng = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
  };
  return rng;
}

// ------------------------------------------------------------ constants ----
const NR_OPEN = (() => {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1048576;
  } catch {
    return 1048576;
  }
})();
// Numbers no descriptor can have (open(2): "the new file descriptor ... is the
// lowest-numbered file descriptor not currently open"; it can never reach
// fs.nr_open, the ceiling of RLIMIT_NOFILE).
const INVALID_FDS = [NR_OPEN, NR_OPEN + 7, 2 ** 30, 2 ** 31 - 2, 2 ** 31 - 1];
const FOREIGN_HANDLE_MIN = 1e9; // selector handles at or above: never issued
const MAX_OPEN_FDS = 48;
const MAX_OPEN_SELECTORS = 6;
const SLOW_CALL_MS = 2000;

const QUERY_FNS = new Set(['localAddress', 'peerAddress', 'getOption']);
// Functions whose first argument is a descriptor.
const FD_FIRST = new Set([
  'bind', 'connect', 'listen', 'accept', 'read', 'write', 'readv', 'writev', 'shutdown', 'close',
  'setOption', 'getOption', 'localAddress', 'peerAddress', 'adoptFd', 'detachFd', 'dupSocket', 'sendFile',
  'udpRecv', 'udpSend', 'udpRecvMany', 'udpSendMany', 'udpSetOption', 'udpMembership', 'udpMulticastInterface',
  'fdWrite', 'fdWritev', 'unixBind', 'unixConnect', 'unixPath', 'peerCred', 'sendWithFds', 'recvWithFds', 'fileType',
  'splice', 'spliceBlocked',
]);
// Unix socket / pipe functions and which argument is a filesystem path (a
// Uint8Array): only paths inside the driver's own temp directory reach them
// (never the cwd, never an abstract name another process may own).
const PATH_ARG = { unixBind: 1, unixConnect: 1, sendWithFds: 6, openFifo: 0, pathIdentity: 0, unlinkIfSame: 0, unlinkSocket: 0 };
const SELECTOR_FIRST = new Set([
  'selectorClose', 'selectorRegister', 'selectorDeregister', 'selectorSelect', 'selectorWake',
  'selectorWakerHandle', 'bridgeStart', 'bridgeStop', 'bridgeRef', 'bridgeUnref',
]);
const ALL_FNS = [
  'socket', 'bind', 'connect', 'listen', 'accept', 'read', 'write', 'readv', 'writev', 'shutdown', 'close',
  'setOption', 'getOption', 'localAddress', 'peerAddress', 'reserveFd', 'adoptFd', 'detachFd', 'trackedFds', 'dupSocket',
  'selectorOpen', 'selectorClose', 'selectorRegister', 'selectorDeregister', 'selectorSelect', 'selectorWake',
  'selectorWakerHandle', 'wakeHandle', 'bridgeStart', 'bridgeStop', 'bridgeRef', 'bridgeUnref',
  'udpSocket', 'udpWire', 'udpFormat', 'udpRecv', 'udpSend', 'udpRecvMany', 'udpSendMany', 'udpSetOption',
  'udpMembership', 'udpMulticastInterface', 'udpGsoSupported',
  'poolOpen', 'poolClose', 'poolSubmit', 'poolCancel', 'poolCollect', 'poolStats', 'sendFile', 'fileClose',
  'fsOpenNoWait', 'readFileNoWait', 'fsNoWaitState',
  'fdWrite', 'fdWritev', 'unixSocket', 'unixBind', 'unixConnect', 'socketPair', 'unixPath', 'peerCred',
  'sendWithFds', 'recvWithFds', 'pipe', 'openFifo', 'fileType', 'pathIdentity', 'unlinkIfSame', 'unlinkSocket',
  'splice', 'spliceBlocked',
];
// Blocking-pool functions whose first argument is a handle (forced >= 1e9).
const POOL_FIRST = new Set(['poolOpen', 'poolClose', 'poolSubmit', 'poolCancel', 'poolCollect']);
// UDP safety: datagrams only ever go to loopback ports of the driver's own
// UDP sockets (wire addresses the driver built, kept in SAFE_WIRES; any other
// Int32Array in a wire position is replaced), and multicast joins only ever
// name the loopback interface (a join on another interface would send an
// IGMP/MLD report onto that network).
const SAFE_WIRES = new WeakSet();

// Would ArgSocket (native/napi_args.h) accept v as a descriptor?
const looksLikeFd = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2147483647;
const looksLikeHandle = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

function isClosed(fd) {
  try {
    fs.fstatSync(fd);
    return false;
  } catch (e) {
    return e.code === 'EBADF';
  }
}

const KNOWN_ERRNOS = new Set(Object.values(os.constants.errno));
// A full GC on demand, without --expose-gc on the command line (the flag can
// be set at run time; the function appears in contexts created afterwards).
const gc = (() => {
  try {
    require('v8').setFlagsFromString('--expose-gc');
    return require('vm').runInNewContext('gc');
  } catch {
    return null;
  }
})();
const GETTER_ERROR = Symbol('fuzz getter error');
const SAFE_CALLBACKS = new WeakSet();
const hasResizable = typeof ArrayBuffer.prototype.resize === 'function';

// ---------------------------------------------------------------- driver ----
class Fuzzer {
  constructor(native, seed, log) {
    this.native = native;
    this.seed = seed >>> 0;
    this.rng = makeRng(this.seed);
    this.log = log;
    this.errors = [];
    this.iteration = 0;
    this.coerced = 0;
    this.stats = new Map(); // fn -> { ok, errno, TypeError, RangeError, Error, other }
    this.fds = new Map(); // fd -> kind: 'socket' | 'listener' | 'bound' | 'conn' | 'file' | 'nfile' (fsOpenNoWait) | ...
    this.listenPorts = new Map(); // fd -> port
    this.boundPorts = new Map(); // fd -> port (bound, not listening: refuses)
    this.udpPorts = new Map(); // fd -> [family, port] of the driver's bound UDP sockets
    this.closedFds = [];
    this.peers = new Map(); // fd -> the other end of a connected pair
    this.selectors = new Set();
    this.closedSelectors = [];
    this.wakerFds = new Map(); // handle -> eventfd
    this.depth = 0;
    this.stolen = [];
    this.hookOps = 0;
    this.getterOps = 0;
    this.callbackOps = 0;
    this.turns = 0;
    this.tmpFile = path.join(os.tmpdir(), `edgeio-fuzz-${process.pid}-${this.seed}`);
    // Unix socket paths and FIFOs live here only (PATH_ARG); removed at teardown.
    this.udsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-fuzz-uds-'));
    this.fifoPath = path.join(this.udsDir, 'fifo');
    this.udsSeq = 0;
    this.checkExports();
  }

  /** A path for the no-wait file functions: the driver's own files, its directory, or junk. */
  nowaitPath() {
    const r = this.rng;
    if (this.nowaitFile === undefined) {
      this.nowaitFile = path.join(this.udsDir, 'file');
      fs.writeFileSync(this.nowaitFile, 'edgeio fuzz\n');
    }
    return r.pick([this.nowaitFile, this.nowaitFile, this.udsDir, this.fifoPath, path.join(this.udsDir, 'missing'), '', 'a\0b', 'x'.repeat(5000), 42, null]);
  }

  checkExports() {
    const exported = Object.keys(this.native).filter((k) => typeof this.native[k] === 'function').sort();
    const missing = exported.filter((k) => !ALL_FNS.includes(k));
    if (missing.length > 0) throw new Error(`fuzz-native.js has no spec for ${missing.join(', ')}: add one`);
    const gone = ALL_FNS.filter((k) => !exported.includes(k));
    if (gone.length > 0) throw new Error(`fuzz-native.js specs functions the addon no longer exports: ${gone.join(', ')}`);
  }

  fail(msg) {
    const full = `seed ${this.seed} iteration ${this.iteration}: ${msg}`;
    this.errors.push(full);
    this.log(`FAIL ${full}`);
  }

  // ------------------------------------------------------------- values ----
  coercionTrap() {
    const self = this;
    const trap = () => {
      self.coerced++;
      return 3;
    };
    return this.rng.pick([
      { valueOf: trap },
      { toString: trap },
      { [Symbol.toPrimitive]: trap },
      new Number(3),
      new String('127.0.0.1'),
    ]);
  }

  randomNumber() {
    const r = this.rng;
    switch (r.int(6)) {
      case 0:
        return r.pick([0, -0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0.5, 1.5, -1.5, 1e-300, -1e-300]);
      case 1:
        return r.pick([NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON]);
      case 2:
        return r.pick([
          2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1,
          2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, 2 ** 64, 1e21, 1e300,
        ]);
      case 3:
        return r.pick([65535, 65536, 1023, 1024, 1025, 0x7ffff000, 0x7fffffff, 4095, 4096, 4097, 16, 64, 128]);
      case 4:
        return r.range(-5, 300);
      default:
        return (r.next() - 0.5) * 2 ** r.int(64);
    }
  }

  randomString() {
    const r = this.rng;
    switch (r.int(4)) {
      case 0:
        return r.pick([
          '', '127.0.0.1', '::1', '0.0.0.0', '::', '::ffff:127.0.0.1', '127.0.0.2', '255.255.255.255',
          '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', 'localhost', 'fe80::1%lo', 'fe80::1%1',
          'fe80::1%', 'fe80::1%%', '%', '%lo', 'fe80::1%4294967297', 'fe80::1%-1', 'fe80::1% 1',
          'fe80::1%loooooooooooooooooooooong', '::1%lo', '1::2::3', ':::', '[::1]', '127.0.0.1:80',
          '10.0.0.1', '8.8.8.8', '2001:db8::1', 'fe80::1%eth0',
        ]);
      case 1:
        return r.pick(['\0', '127.0.0.1\0junk', '\ud800', '\udfff', '💥', 'é'.repeat(70), 'x'.repeat(63)]);
      case 2:
        return r.pick(['a', '1', ':']).repeat(r.pick([62, 63, 64, 126, 127, 128, 129, 1000, 100000]));
      default: {
        let s = '';
        const n = r.int(24);
        for (let i = 0; i < n; i++) s += String.fromCharCode(r.pick([r.range(32, 126), r.range(0, 0xffff)]));
        return s;
      }
    }
  }

  typedArray(kind) {
    const r = this.rng;
    const ctors = [
      Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
      Float32Array, Float64Array, BigInt64Array, BigUint64Array,
    ];
    const C = kind || r.pick(ctors);
    const len = r.pick([0, 1, 2, 3, 7, 8, 64, 256, 4096, 70000]);
    switch (r.int(7)) {
      case 0:
        return new C(len);
      case 1: {
        // A view at an offset into a bigger buffer.
        const off = r.range(0, 4) * C.BYTES_PER_ELEMENT * 2;
        return new C(new ArrayBuffer(off + len * C.BYTES_PER_ELEMENT + 16), off, len);
      }
      case 2:
        return new C(new SharedArrayBuffer(Math.max(len, 1) * C.BYTES_PER_ELEMENT));
      case 3: {
        // Detached.
        const a = new C(Math.max(len, 1));
        structuredClone(a.buffer, { transfer: [a.buffer] });
        return a;
      }
      case 4: {
        if (!hasResizable) return new C(len);
        // Over a resizable buffer: length-tracking, or fixed and then shrunk
        // out of bounds.
        const bytes = (len + 4) * C.BYTES_PER_ELEMENT;
        const ab = new ArrayBuffer(bytes, { maxByteLength: bytes * 2 });
        const a = r.chance(0.5) ? new C(ab) : new C(ab, C.BYTES_PER_ELEMENT * 2, len);
        ab.resize(r.pick([0, C.BYTES_PER_ELEMENT, bytes, bytes * 2]));
        return a;
      }
      case 5:
        if (C === Uint8Array) {
          // Buffers from Node's pool (allocUnsafe) and subarrays: offsets.
          // Filled: writing uninitialised bytes to a socket is the driver's
          // doing, but valgrind would report it under the addon's sendmsg.
          const b = Buffer.allocUnsafe(len + 32).fill(0x33);
          return b.subarray(r.range(0, 16), r.range(16, len + 32));
        }
        return new C(len);
      default:
        return new C(len);
    }
  }

  randomValue(depth = 0) {
    const r = this.rng;
    switch (r.int(14)) {
      case 0:
      case 1:
      case 2:
        return this.randomNumber();
      case 3:
        return this.randomString();
      case 4:
      case 5:
        return this.typedArray();
      case 6:
        return r.pick([undefined, null, true, false, Symbol('s'), 0n, -1n, 2n ** 64n, 5n]);
      case 7:
        return r.pick([
          {}, [], [1, 2], { length: 5 }, Object.create(null), new Proxy({}, {}), new Proxy([], {}),
          () => undefined, class K {}, new Date(0), /x/, new Map(), Promise.resolve(), new Error('e'),
          new ArrayBuffer(8), new DataView(new ArrayBuffer(8)), globalThis,
        ]);
      case 8:
        return this.coercionTrap();
      case 9:
        return depth < 1 ? this.bufferList(depth + 1) : [];
      case 10:
        return this.anyFd();
      case 11:
        return this.ownHandle();
      case 12:
        return r.pick([Buffer.alloc(16), Buffer.from('hello'), new Uint8Array(1)]);
      default:
        return this.typedArray(r.pick([Uint8Array, Int32Array]));
    }
  }

  // A buffer list for readv/writev: mostly plausible, sometimes hostile.
  bufferList(depth = 0) {
    const r = this.rng;
    const u8 = () => (r.chance(0.8) ? this.typedArray(Uint8Array) : this.randomValue(depth + 1));
    const n = r.pick([0, 1, 2, 3, 5, 16]);
    const list = [];
    for (let i = 0; i < n; i++) list.push(u8());
    switch (r.int(12)) {
      case 0: {
        // A hole.
        const l = [Buffer.alloc(4)];
        l[2] = Buffer.alloc(4);
        return l;
      }
      case 1: {
        // Sparse, length 2^32-1: at most IOV_MAX elements are read.
        const l = [Buffer.alloc(8)];
        l.length = 2 ** 32 - 1;
        return l;
      }
      case 2:
        // More buffers than IOV_MAX.
        return Array.from({ length: r.pick([1023, 1024, 1025, 2000]) }, () => Buffer.alloc(1));
      case 3:
      case 4:
        return this.evilList();
      case 5: {
        // An Array subclass.
        class Sub extends Array {}
        const s = new Sub();
        for (const x of list) s.push(x);
        return s;
      }
      default:
        return list;
    }
  }

  // A list whose element getters run code in the middle of the native call.
  evilList() {
    const r = this.rng;
    const victim = r.chance(0.5) || !hasResizable ? new Uint8Array(r.pick([1, 64, 4096])) : null;
    const ab = victim ? null : new ArrayBuffer(4096, { maxByteLength: 8192 });
    const first = victim || new Uint8Array(ab);
    const list = [first];
    const self = this;
    const mode = r.int(5);
    Object.defineProperty(list, 1, {
      enumerable: true,
      get() {
        self.getterOps++;
        switch (mode) {
          case 0:
            if (victim && victim.buffer.byteLength > 0) {
              // The clone owns the memory victim's data pointer pointed to.
              // Kept, to check that the call did not write into it; or
              // dropped and collected, so that such a write or read is a
              // use-after-free ASan sees.
              const clone = structuredClone(victim.buffer, { transfer: [victim.buffer] });
              if (gc && self.rng.chance(0.5)) gc();
              else self.stolen.push(clone);
            } else if (ab) ab.resize(0);
            return Buffer.alloc(8);
          case 1:
            // Anything at all, from inside the call.
            self.randomOp();
            return Buffer.alloc(8);
          case 2:
            self.closeSomeFd();
            return Buffer.alloc(8);
          case 3: {
            const e = new Error('from a list getter');
            e[GETTER_ERROR] = true;
            throw e;
          }
          default:
            return self.randomValue(1);
        }
      },
    });
    if (r.chance(0.5)) list.push(Buffer.alloc(4));
    return list;
  }

  // ------------------------------------------------------ the resources ----
  ownFd() {
    const fds = [...this.fds.keys()];
    if (fds.length === 0 || this.rng.chance(0.1)) return this.rng.pick(INVALID_FDS);
    return this.rng.pick(fds);
  }

  // For read/write calls: mostly one end of a connected pair, and for the
  // reads, with data waiting in it (written by its peer), so that the
  // syscall really moves bytes through the buffers the addon took.
  dataFd(fn) {
    const r = this.rng;
    const paired = [...this.peers.keys()];
    if (paired.length === 0 || r.chance(0.3)) return this.ownFd();
    const fd = r.pick(paired);
    if ((fn === 'read' || fn === 'readv') && r.chance(0.7)) {
      const data = Buffer.alloc(r.pick([1, 100, 5000, 70000]), 0x5a);
      this.native.write(this.peers.get(fd), data, 0, data.length);
    }
    return fd;
  }

  ownSocketOfKind(kind) {
    const fds = [...this.fds].filter(([, k]) => k === kind).map(([fd]) => fd);
    return fds.length > 0 ? this.rng.pick(fds) : this.ownFd();
  }

  anyFd() {
    const r = this.rng;
    switch (r.int(6)) {
      case 0:
        return r.pick(INVALID_FDS);
      case 1:
        return r.pick([0, 1, 2]); // queries only (made safe in safeArgs)
      case 2:
        return this.closedFds.length > 0 ? r.pick(this.closedFds) : r.pick(INVALID_FDS);
      case 3:
        return this.wakerFds.size > 0 ? r.pick([...this.wakerFds.values()]) : this.ownFd();
      default:
        return this.ownFd();
    }
  }

  ownHandle() {
    const r = this.rng;
    const open = [...this.selectors];
    if (open.length > 0 && r.chance(0.8)) return r.pick(open);
    if (this.closedSelectors.length > 0 && r.chance(0.6)) return r.pick(this.closedSelectors);
    return r.pick([FOREIGN_HANDLE_MIN, 2 ** 40, Number.MAX_SAFE_INTEGER]);
  }

  listenPort() {
    const ports = [...this.listenPorts.values()];
    return ports.length > 0 ? this.rng.pick(ports) : 0;
  }

  refusingPort() {
    const ports = [...this.boundPorts.values()];
    return ports.length > 0 ? this.rng.pick(ports) : 0;
  }

  udpFd() {
    const fds = [...this.udpPorts.keys()];
    return fds.length > 0 && this.rng.chance(0.8) ? this.rng.pick(fds) : this.ownFd();
  }

  loopbackIface() {
    return this.rng.pick(['127.0.0.1', 'lo', '1', '::1']);
  }

  // `count` wire addresses (native/udp.h) of the driver's own loopback UDP
  // sockets, a few of them "connected peer" (family 0) or port 0.
  safeWires(count) {
    const r = this.rng;
    const out = new Int32Array(count * 8);
    const ports = [...this.udpPorts.values()];
    for (let i = 0; i < count; i++) {
      if (ports.length === 0 || r.chance(0.1)) continue; // family 0
      const [fam, port] = r.pick(ports);
      out[i * 8] = fam;
      out[i * 8 + 1] = r.chance(0.05) ? 0 : port;
      const bytes = new Uint8Array(out.buffer, (i * 8 + 3) * 4, 16);
      if (fam === 4) bytes.set([127, 0, 0, 1]);
      else bytes[15] = 1; // ::1
    }
    SAFE_WIRES.add(out);
    return out;
  }

  // A socket path in the driver's directory: a new one, or (existing) one
  // bound before / the FIFO; as a Uint8Array (what the addon takes).
  udsPath(existing = false) {
    const r = this.rng;
    let p;
    if (existing && r.chance(0.7)) {
      const names = fs.readdirSync(this.udsDir);
      p = path.join(this.udsDir, names.length > 0 ? r.pick(names) : 'none');
    } else {
      p = path.join(this.udsDir, `s${this.udsSeq++ % 32}`);
    }
    if (r.chance(0.05)) p += '/' + 'x'.repeat(r.pick([10, 120]));
    return Buffer.from(p);
  }

  loopbackIp() {
    return this.rng.pick(['127.0.0.1', '127.0.0.1', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::']);
  }

  events() {
    const r = this.rng;
    return r.chance(0.85) ? new Int32Array(r.pick([2, 3, 16, 64, 2048, 4096])) : this.randomValue();
  }

  callback() {
    const self = this;
    const cb = this.rng.pick([
      () => undefined,
      function turn(count) {
        return count;
      },
      async () => undefined,
      // Re-entrant: random operations from inside the bridge's turn. Must
      // not throw (an exception escaping a turn is fatal by design), so
      // oracle failures are recorded rather than thrown.
      function reentrant() {
        self.turns++;
        if (self.depth > 0 || self.finished) return;
        for (let i = 0; i < 3; i++) {
          self.callbackOps++;
          self.randomOp();
        }
      },
    ]);
    SAFE_CALLBACKS.add(cb);
    return cb;
  }

  // ------------------------------------------------------------- setup ----
  addFd(fd, kind) {
    if (!(fd >= 0)) return;
    this.fds.set(fd, kind);
    const i = this.closedFds.indexOf(fd);
    if (i >= 0) this.closedFds.splice(i, 1);
  }

  forgetFd(fd) {
    if (!this.fds.has(fd)) return;
    this.fds.delete(fd);
    const peer = this.peers.get(fd);
    if (peer !== undefined) {
      this.peers.delete(fd);
      this.peers.delete(peer);
    }
    this.listenPorts.delete(fd);
    this.boundPorts.delete(fd);
    this.udpPorts.delete(fd);
    this.closedFds.push(fd);
    if (this.closedFds.length > 16) this.closedFds.shift();
  }

  closeSomeFd() {
    const fds = [...this.fds.keys()];
    if (fds.length === 0) return;
    const fd = this.rng.pick(fds);
    this.closeFd(fd);
  }

  closeFd(fd) {
    const kind = this.fds.get(fd);
    if (kind === undefined) return;
    if (kind === 'file') fs.closeSync(fd);
    else this.native.close(fd);
    this.forgetFd(fd);
  }

  openSelector() {
    const h = this.native.selectorOpen();
    if (h >= 0) {
      this.selectors.add(h);
      this.wakerFds.set(h, this.native.selectorWakerHandle(h));
    }
    return h;
  }

  forgetSelector(h) {
    if (!this.selectors.delete(h)) return;
    this.wakerFds.delete(h);
    this.closedSelectors.push(h);
    if (this.closedSelectors.length > 16) this.closedSelectors.shift();
  }

  // Keeps a working population: selectors, a listener, a refusing port,
  // connected pairs, a couple of non-sockets; and caps it.
  replenish() {
    const n = this.native;
    while (this.selectors.size < 2) if (this.openSelector() < 0) break;
    while (this.selectors.size > MAX_OPEN_SELECTORS) {
      const h = this.selectors.values().next().value;
      n.selectorClose(h);
      this.forgetSelector(h);
    }
    const kinds = [...this.fds.values()];
    if (!kinds.includes('listener')) {
      const fd = n.socket(4);
      if (fd >= 0) {
        this.addFd(fd, 'socket');
        if (n.bind(fd, '127.0.0.1', 0) === 0 && n.listen(fd, 64) === 0) {
          this.fds.set(fd, 'listener');
          this.listenPorts.set(fd, n.localAddress(fd).port);
        }
      }
    }
    if (!kinds.includes('bound')) {
      const fd = n.socket(this.rng.pick([4, 6]));
      if (fd >= 0) {
        this.addFd(fd, 'socket');
        const ip = n.localAddress(fd).family === 'IPv6' ? '::1' : '127.0.0.1';
        if (n.bind(fd, ip, 0) === 0) {
          this.fds.set(fd, 'bound');
          this.boundPorts.set(fd, n.localAddress(fd).port);
        }
      }
    }
    while (this.udpPorts.size < 2) {
      const fam = this.udpPorts.size === 0 ? 4 : 6;
      const fd = n.udpSocket(fam);
      if (fd < 0) break;
      this.addFd(fd, 'udp');
      if (n.bind(fd, fam === 4 ? '127.0.0.1' : '::1', 0) !== 0) break;
      this.udpPorts.set(fd, [fam, n.localAddress(fd).port]);
    }
    if (kinds.filter((k) => k === 'conn').length < 4 && this.listenPorts.size > 0) {
      const [lfd, port] = [...this.listenPorts][0];
      const c = n.socket(4);
      if (c >= 0) {
        this.addFd(c, 'conn');
        n.connect(c, '127.0.0.1', port);
        const out = new Int32Array(1);
        if (n.accept(lfd, out) === 1) {
          this.addFd(out[0], 'conn');
          this.peers.set(c, out[0]);
          this.peers.set(out[0], c);
        }
      }
    }
    if (!kinds.includes('uconn') && n.unix) {
      const out = new Int32Array(2);
      if (n.socketPair(this.rng.pick([n.unix.STREAM, n.unix.DATAGRAM]), out) === 0) {
        this.addFd(out[0], 'uconn');
        this.addFd(out[1], 'uconn');
        this.peers.set(out[0], out[1]);
        this.peers.set(out[1], out[0]);
      }
    }
    if (!kinds.includes('pipe') && n.unix) {
      const out = new Int32Array(2);
      if (n.pipe(out) === 0) {
        this.addFd(out[0], 'pipe');
        this.addFd(out[1], 'pipe');
      }
    }
    if (!fs.existsSync(this.fifoPath)) spawnSync('mkfifo', [this.fifoPath]);
    if (!kinds.includes('file')) {
      this.addFd(fs.openSync('/dev/null', 'r+'), 'file');
      this.addFd(fs.openSync(this.tmpFile, 'w+'), 'file');
    }
    while (this.fds.size > MAX_OPEN_FDS) this.closeFd(this.fds.keys().next().value);
  }

  // ------------------------------------------------------- argument gen ----
  wellFormed(fn) {
    const r = this.rng;
    const buf = () => {
      const b = r.chance(0.8) ? Buffer.alloc(r.pick([1, 16, 4096, 65536])) : this.typedArray(Uint8Array);
      return b;
    };
    switch (fn) {
      case 'socket':
        return [r.pick([4, 6])];
      case 'bind':
        return [this.ownSocketOfKind('socket'), r.chance(0.7) ? this.loopbackIp() : this.randomString(), r.pick([0, 0, this.listenPort()])];
      case 'connect':
        return [this.ownFd(), this.loopbackIp(), r.chance(0.5) ? this.listenPort() : this.refusingPort()];
      case 'listen':
        return [this.ownFd(), r.pick([0, 1, 8, 128, 2 ** 31 - 1])];
      case 'accept':
        return [this.ownSocketOfKind('listener'), new Int32Array(r.pick([1, 2, 8, 64, 2000]))];
      case 'read':
      case 'write': {
        const b = buf();
        const off = r.range(0, b.length);
        return [this.dataFd(fn), b, off, r.range(0, b.length - off)];
      }
      case 'readv':
        return [this.dataFd(fn), this.bufferList()];
      case 'writev': {
        const l = this.bufferList();
        return [this.dataFd(fn), l, r.range(0, 2), r.range(0, 8)];
      }
      case 'shutdown':
        return [this.ownFd(), r.pick([0, 1, 2])];
      case 'close':
        return [this.ownFd()];
      case 'setOption':
        return [this.ownFd(), r.range(1, 8), r.pick([-1, 0, 1, 2, 60, 4096, 2 ** 31 - 1])];
      case 'getOption':
        return [this.anyFd(), r.range(1, 9), new Int32Array(r.pick([1, 4]))];
      case 'localAddress':
      case 'peerAddress':
        return [this.anyFd()];
      case 'adoptFd':
      case 'detachFd':
      case 'dupSocket':
        return [this.ownFd()];
      case 'reserveFd':
      case 'trackedFds':
      case 'selectorOpen':
        return [];
      case 'selectorRegister':
        return [this.ownHandle(), r.chance(0.9) ? this.ownFd() : this.anyFd(), r.pick([0, 1, 7, 2 ** 31, 2 ** 32 - 1, r.int(2 ** 32)]), r.range(1, 7)];
      case 'selectorDeregister':
        return [this.ownHandle(), this.ownFd()];
      case 'selectorSelect':
        return [this.ownHandle(), this.events(), r.pick([0, 0, 0.3, 1, -1, -0, Infinity, -Infinity, 2 ** 40])];
      case 'wakeHandle':
        return [this.anyFd()];
      case 'udpSocket':
        return [r.pick([4, 6])];
      case 'udpWire':
        return [r.chance(0.7) ? this.loopbackIp() : this.randomString(), r.pick([0, 1, 53, 65535]), new Int32Array(r.pick([8, 16])), r.pick([0, 8])];
      case 'udpFormat':
        return [r.chance(0.7) ? this.safeWires(r.pick([1, 2])) : this.typedArray(Int32Array), r.pick([0, 2, 8])];
      case 'udpRecv': {
        const b = buf();
        const off = r.range(0, b.length);
        return [this.udpFd(), b, off, r.range(0, b.length - off), r.pick([0, 1]), new Int32Array(r.pick([10, 16]))];
      }
      case 'udpSend': {
        const b = buf();
        const off = r.range(0, b.length);
        return [this.udpFd(), b, off, r.range(0, Math.min(b.length - off, 2000)), r.chance(0.8) ? this.safeWires(1) : null, 0];
      }
      case 'udpRecvMany': {
        const count = r.pick([1, 2, 32, 256]);
        return [this.udpFd(), Array.from({ length: count }, () => Buffer.alloc(r.pick([0, 16, 2048]))), count, new Int32Array(count * 10)];
      }
      case 'udpSendMany': {
        const count = r.pick([1, 3, 64, 256]);
        const size = r.pick([0, 10, 1200]);
        return [this.udpFd(), Array.from({ length: count }, () => Buffer.alloc(r.chance(0.8) ? size : r.pick([0, 5, 3000]))), 0, count, this.safeWires(count), r.pick([0, 1])];
      }
      case 'udpSetOption':
        return [this.udpFd(), r.pick([4, 6]), r.range(1, 4), r.pick([0, 1, 64, 255])];
      case 'udpMembership':
        return [this.udpFd(), r.pick([0, 1]), r.pick(['239.1.2.3', 'ff02::1:3', '127.0.0.1', this.randomString()]), this.loopbackIface()];
      case 'udpMulticastInterface':
        return [this.udpFd(), r.pick([4, 6]), this.loopbackIface()];
      case 'udpGsoSupported':
        return [this.anyFd()];
      case 'bridgeStart':
        return [this.ownHandle(), this.events(), this.callback(), r.pick([{}, [], () => undefined, globalThis])];
      case 'poolOpen':
        return [FOREIGN_HANDLE_MIN + r.int(1000), r.range(1, 8), r.pick([1, 16, 1024])];
      case 'poolClose':
        return [FOREIGN_HANDLE_MIN + r.int(1000)];
      case 'poolSubmit':
        return [FOREIGN_HANDLE_MIN + r.int(1000), r.range(0, 16), r.range(1, 19), r.chance(0.5) ? this.randomString() : null, null, buf(), r.chance(0.5) ? new Float64Array(15) : null, r.range(0, 100), r.range(-1, 100), r.range(0, 2)];
      case 'poolCancel':
        return [FOREIGN_HANDLE_MIN + r.int(1000), r.range(0, 16)];
      case 'poolCollect':
        return [FOREIGN_HANDLE_MIN + r.int(1000), new Float64Array(r.pick([3, 48])), []];
      case 'poolStats':
      case 'fsNoWaitState':
        return [];
      case 'fsOpenNoWait':
        // Paths inside the driver's own directory only (or not paths at
        // all); random flags: O_CREAT/O_TRUNC answer EAGAIN, the rest open
        // an existing file without changing it.
        return [this.nowaitPath(), r.pick([0, 1, 2, 0o100, 0o1000, 0o2000, 0o4000, 0o200000, -1, 2 ** 31, 1.5, 'r'])];
      case 'readFileNoWait':
        return [this.nowaitPath(), r.pick([0, 1, 3, 4096, 1 << 30, (1 << 30) + 1, -1, 1.5, null])];
      case 'sendFile':
        return [this.ownFd(), this.ownFd(), r.range(0, 4096), r.pick([0, 1, 100, 65536])];
      case 'fileClose':
        // Never a live descriptor (safeArgs): it would close one behind
        // the driver's (or Node's) back; the argument checks and EBADF.
        return [r.pick(INVALID_FDS)];
      case 'fdWrite': {
        const b = buf();
        const off = r.range(0, b.length);
        return [this.ownSocketOfKind('pipe'), b, off, r.range(0, b.length - off)];
      }
      case 'fdWritev':
        return [this.ownSocketOfKind('pipe'), this.bufferList(), r.range(0, 2), r.range(0, 8)];
      case 'splice':
        // Pipes and connected sockets both ways (every descriptor the driver
        // owns is nonblocking, so neither side can block the call).
        return r.chance(0.5)
          ? [this.ownSocketOfKind('pipe'), this.dataFd('write'), r.pick([0, 1, 4096, 65536, 2 ** 31])]
          : [this.dataFd('read'), this.ownSocketOfKind('pipe'), r.pick([0, 1, 4096, 65536, 2 ** 31])];
      case 'spliceBlocked':
        return [this.anyFd(), this.ownFd()];
      case 'unixSocket':
        return [r.pick([1, 2, 0, 3])];
      case 'unixBind':
        return [this.ownFd(), this.udsPath()];
      case 'unixConnect':
        return [this.ownFd(), this.udsPath(true)];
      case 'socketPair':
        return [r.pick([1, 2, 0]), new Int32Array(r.pick([2, 2, 1, 4]))];
      case 'pipe':
        return [new Int32Array(r.pick([2, 2, 1]))];
      case 'unixPath':
        return [this.anyFd(), r.chance(0.5), new Uint8Array(r.pick([0, 1, 16, 108, 200]))];
      case 'peerCred':
        return [this.anyFd(), new Int32Array(r.pick([3, 3, 2, 8]))];
      case 'sendWithFds': {
        const b = buf();
        const off = r.range(0, b.length);
        const own = [...this.fds.keys()];
        const fds = Int32Array.from({ length: r.pick([0, 1, 2, 3, 253, 254]) }, () => (own.length > 0 ? r.pick(own) : -1));
        return [this.dataFd('write'), b, off, r.range(0, b.length - off), fds, r.range(0, fds.length + 1), r.chance(0.2) ? this.udsPath(true) : undefined];
      }
      case 'recvWithFds': {
        const b = buf();
        const off = r.range(0, b.length);
        return [this.dataFd('read'), b, off, r.range(0, b.length - off), new Int32Array(r.pick([0, 1, 4, 253])), new Int32Array(r.pick([3, 3, 2])),
          r.chance(0.3) ? new Uint8Array(r.pick([0, 16, 108])) : undefined, r.chance(0.2)];
      }
      case 'openFifo':
        return [r.chance(0.8) ? Buffer.from(this.fifoPath) : this.udsPath(), r.chance(0.5)];
      case 'fileType':
        return [this.anyFd()];
      case 'pathIdentity':
        return [this.udsPath(true), new BigUint64Array(r.pick([2, 2, 1]))];
      case 'unlinkIfSame':
        return [this.udsPath(true), new BigUint64Array(r.pick([2, 2, 1]))];
      case 'unlinkSocket':
        return [this.udsPath(true)];
      default: // selectorClose, selectorWake, selectorWakerHandle, bridgeStop, bridgeRef, bridgeUnref
        return [this.ownHandle()];
    }
  }

  makeArgs(fn) {
    const r = this.rng;
    const mode = r.int(20);
    let args;
    if (mode < 2) {
      // Entirely random.
      args = Array.from({ length: r.int(7) }, () => this.randomValue());
    } else {
      args = this.wellFormed(fn);
      if (mode < 11) {
        // One or two positions replaced.
        const k = r.chance(0.7) ? 1 : 2;
        for (let i = 0; i < k; i++) args[r.int(Math.max(args.length, 1) + 1)] = this.randomValue();
      } else if (mode < 13) {
        // Random arity.
        const n = r.int(args.length + 3);
        if (n < args.length) args.length = n;
        else while (args.length < n) args.push(this.randomValue());
      }
    }
    for (let i = 0; i < args.length; i++) if (!(i in args)) args[i] = undefined;
    return this.safeArgs(fn, args);
  }

  // Enforces the safety rules of the header comment. Returns the args, or
  // null to skip the call.
  safeArgs(fn, args) {
    const r = this.rng;
    const fdOk = (v, query) => {
      if (!looksLikeFd(v)) return true; // rejected by the argument check
      if (this.fds.has(v)) return true;
      if (v >= NR_OPEN) return true;
      if (query && v <= 2) return true;
      if (this.closedFds.includes(v) && isClosed(v)) return true;
      return false;
    };
    const fixFd = (i, query) => {
      if (!fdOk(args[i], query)) args[i] = this.ownFd();
    };
    if (FD_FIRST.has(fn)) fixFd(0, QUERY_FNS.has(fn));
    if (fn === 'sendFile' || fn === 'splice' || fn === 'spliceBlocked') {
      fixFd(1, false);
      if ([...this.wakerFds.values()].includes(args[0]) || [...this.wakerFds.values()].includes(args[1])) return null;
    }
    if (POOL_FIRST.has(fn) && looksLikeHandle(args[0]) && args[0] < FOREIGN_HANDLE_MIN) {
      args[0] = FOREIGN_HANDLE_MIN + r.int(1000);
    }
    if (fn === 'selectorRegister' || fn === 'selectorDeregister') {
      const v = args[1];
      // A waker eventfd of one of the driver's selectors may be registered:
      // epoll_ctl does not change it.
      if (!([...this.wakerFds.values()].includes(v) && fn === 'selectorRegister')) fixFd(1, false);
    }
    if (fn === 'wakeHandle') {
      const v = args[0];
      const ownWaker = [...this.wakerFds.values()].includes(v);
      if (looksLikeFd(v) && !ownWaker && !(v >= NR_OPEN) && !(this.closedFds.includes(v) && isClosed(v))) {
        args[0] = r.pick(INVALID_FDS);
      }
    }
    if (fn in PATH_ARG) {
      const i = PATH_ARG[fn];
      const v = args[i];
      const prefix = Buffer.from(this.udsDir + '/');
      // Strings, numbers etc. are rejected by the argument check; a byte
      // path outside the driver's directory is replaced.
      if (v instanceof Uint8Array && !(v.byteLength > prefix.length && Buffer.from(v.buffer, v.byteOffset, v.byteLength).subarray(0, prefix.length).equals(prefix))) {
        args[i] = fn === 'sendWithFds' && r.chance(0.5) ? undefined : this.udsPath(true);
      }
      // A connect/send to a path is only ever to the driver's own sockets.
    }
    if (fn === 'sendWithFds' && args[4] instanceof Int32Array) {
      // Only the driver's descriptors (or invalid ones) travel; what arrives
      // at the peer is closed by recvWithFds's bookkeeping (track()).
      const own = new Set(this.fds.keys());
      for (let k = 0; k < args[4].length; k++) {
        const v = args[4][k];
        if (!own.has(v) && !(v >= NR_OPEN) && v >= 0) args[4][k] = -1;
      }
    }
    if (fn === 'fileClose' && looksLikeFd(args[0])) args[0] = r.pick(INVALID_FDS);
    if (fn === 'close' && [...this.wakerFds.values()].includes(args[0])) args[0] = r.pick(INVALID_FDS);
    if (fn === 'close' && this.fds.get(args[0]) === 'file') {
      // Files go through fs.closeSync so Node's own bookkeeping stays right.
      return null;
    }
    if (SELECTOR_FIRST.has(fn)) {
      const h = args[0];
      if (looksLikeHandle(h) && h < FOREIGN_HANDLE_MIN && !this.selectors.has(h) && !this.closedSelectors.includes(h)) {
        args[0] = this.ownHandle();
      }
    }
    if (fn === 'bridgeStart' && typeof args[2] === 'function' && !SAFE_CALLBACKS.has(args[2])) {
      // A callback that throws when the bridge fires is a fatal exception by
      // design (loop.cc, Turn); a class constructor called without new does.
      args[2] = this.callback();
    }
    if (fn === 'connect') {
      // Only loopback, only ports the driver owns (or 0).
      const ip = args[1];
      if (typeof ip === 'string' && (net.isIP(ip.split('%')[0]) || ip.includes(':') || /^[\d.]+$/.test(ip))) {
        if (!['127.0.0.1', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::'].includes(ip)) args[1] = this.loopbackIp();
      }
      const p = args[2];
      if (Number.isInteger(p) && p >= 0 && p <= 65535 && p !== 0) {
        if (![...this.listenPorts.values(), ...this.boundPorts.values()].includes(p)) args[2] = this.refusingPort();
      }
    }
    if ((fn === 'udpSend' || fn === 'udpSendMany') && ArrayBuffer.isView(args[4]) && !SAFE_WIRES.has(args[4])) {
      // A wire array the driver did not build could name any address.
      args[4] = this.safeWires(fn === 'udpSend' ? 1 : Math.max(1, Number.isInteger(args[3]) ? Math.min(args[3], 256) : 1));
    }
    if (fn === 'udpSendMany' && SAFE_WIRES.has(args[4]) && Number.isInteger(args[2]) && Number.isInteger(args[3])) {
      // index/count past the safe wires would be rejected anyway; keep them in range of it.
      if ((args[2] + args[3]) * 8 > args[4].length) args[4] = this.safeWires(Math.min(256, Math.max(1, args[2] + args[3])));
    }
    if (fn === 'udpMembership' && (args[3] === undefined || args[3] === null || typeof args[3] === 'string')) {
      args[3] = this.loopbackIface(); // never the kernel's choice of interface
    }
    if (fn === 'bind') {
      const p = args[2];
      if (Number.isInteger(p) && p > 0 && p <= 65535 && ![...this.listenPorts.values(), ...this.boundPorts.values()].includes(p)) {
        args[2] = 0;
      }
    }
    return args;
  }

  // --------------------------------------------------------- the oracle ----
  stat(fn, key) {
    let s = this.stats.get(fn);
    if (!s) this.stats.set(fn, (s = { ok: 0, errno: 0, TypeError: 0, RangeError: 0, Error: 0, getter: 0 }));
    s[key]++;
  }

  checkErrno(fn, r, args) {
    // -errno of a value the platform defines (os.constants.errno has
    // EINPROGRESS, which libuv, and so util.getSystemErrorName, lacks).
    if (!KNOWN_ERRNOS.has(-r)) this.fail(`${fn}(${describeArgs(args)}) returned ${r}, not a known -errno`);
  }

  checkResult(fn, args, r) {
    const bad = (why) => this.fail(`${fn}(${describeArgs(args)}) returned ${describe(r)}: ${why}`);
    if (fn === 'localAddress' || fn === 'peerAddress') {
      if (typeof r === 'number') {
        if (!(Number.isInteger(r) && r < 0)) return bad('a number that is not a negative errno');
        this.stat(fn, 'errno');
        return this.checkErrno(fn, r, args);
      }
      if (r === null || typeof r !== 'object') return bad('neither a number nor an object');
      const keys = Object.keys(r).sort().join(',');
      if (keys !== 'address,family,port') return bad(`keys ${keys}`);
      if (typeof r.address !== 'string' || !net.isIP(r.address)) return bad('address');
      if (r.family !== 'IPv4' && r.family !== 'IPv6') return bad('family');
      if (!Number.isInteger(r.port) || r.port < 0 || r.port > 65535) return bad('port');
      this.stat(fn, 'ok');
      return undefined;
    }
    if (fn === 'udpGsoSupported') {
      if (typeof r !== 'boolean') return bad('not a boolean');
      this.stat(fn, 'ok');
      return undefined;
    }
    if (fn === 'udpFormat' && typeof r === 'string') {
      if (!net.isIP(r)) return bad('not an IP address');
      this.stat(fn, 'ok');
      return undefined;
    }
    if (fn === 'readFileNoWait' && r instanceof Uint8Array) {
      if (r.length > args[1]) return bad(`more than maxBytes (${args[1]})`);
      this.stat(fn, 'ok');
      return undefined;
    }
    if (fn === 'fsNoWaitState') {
      if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => x === -1 || x === 0 || x === 1)) return bad('not [open, read] states');
      this.stat(fn, 'ok');
      return undefined;
    }
    if ((fn === 'fsOpenNoWait' || fn === 'readFileNoWait') && r < 0 && r !== this.native.errno.EAGAIN) {
      return bad(`an error other than EAGAIN (${r}): the pool reports errors`);
    }
    if (fn === 'poolStats') {
      if (!Array.isArray(r) || r.length !== 3 || !r.every((x) => Number.isInteger(x) && x >= 0)) return bad('not [threads, queued, running]');
      this.stat(fn, 'ok');
      return undefined;
    }
    if (typeof r !== 'number' || !Number.isInteger(r)) return bad('not an integer');
    if ((fn === 'bind' || fn === 'connect') && typeof args[1] === 'string' && args[1].includes('\0') && r >= 0) {
      return bad('an address with a NUL in it was accepted (truncated at the NUL)');
    }
    if (r < 0) {
      this.stat(fn, 'errno');
      return this.checkErrno(fn, r, args);
    }
    this.stat(fn, 'ok');
    switch (fn) {
      case 'socket':
      case 'udpSocket':
      case 'reserveFd':
      case 'dupSocket':
      case 'trackedFds':
      case 'selectorOpen':
      case 'selectorWakerHandle':
        return undefined; // any non-negative value
      case 'udpRecv':
      case 'udpSend':
        if (r > args[3]) return bad(`more than the ${args[3]} bytes asked for`);
        return undefined;
      case 'udpRecvMany':
      case 'udpSendMany':
        if (r > args[3 - (fn === 'udpRecvMany' ? 1 : 0)]) return bad('more datagrams than asked for');
        return undefined;
      case 'read':
      case 'write':
      case 'sendFile':
        if (r > args[3]) return bad(`more than the ${args[3]} bytes asked for`);
        return undefined;
      case 'poolOpen':
        return bad('a pool client was opened on a selector handle that was never issued');
      case 'read':
      case 'write':
      case 'fdWrite':
      case 'sendWithFds':
      case 'recvWithFds':
        if (r > args[3]) return bad(`more than the ${args[3]} bytes asked for`);
        return undefined;
      case 'fdWritev':
        if (r > 0x7fffffff) return bad('more than 2^31-1');
        return undefined;
      case 'unixSocket':
      case 'openFifo':
      case 'fsOpenNoWait':
        return undefined; // a descriptor
      case 'unixPath':
        if (r > args[2].length) return bad(`a path length above the ${args[2].length}-byte buffer`);
        return undefined;
      case 'fileType':
        if (!Object.values(this.native.unix).includes(r)) return bad('not a unix.* file type');
        return undefined;
      case 'unlinkIfSame':
        if (r !== 0 && r !== 1) return bad('expected 1, 0 or a negative errno');
        return undefined;
      case 'splice':
        if (r > Math.min(args[2], 0x7ffff000)) return bad(`more than the ${args[2]} bytes asked for`);
        return undefined;
      case 'spliceBlocked':
        if ((r & ~(this.native.unix.SPLICE_IN_BLOCKED | this.native.unix.SPLICE_OUT_BLOCKED)) !== 0) return bad('not SPLICE_IN_BLOCKED | SPLICE_OUT_BLOCKED bits');
        return undefined;
      case 'readv':
      case 'writev':
        if (r > 0x7fffffff) return bad('more than 2^31-1');
        return undefined;
      case 'accept': {
        const max = Math.min(args[1].length, 1024);
        if (r > max) return bad(`more than ${max}`);
        return undefined;
      }
      case 'selectorSelect': {
        const max = Math.min(Math.floor(args[1].length / 2), 1024);
        if (r > max) return bad(`more than ${max} events`);
        return undefined;
      }
      default:
        if (r !== 0) return bad('expected 0 or a negative errno');
        return undefined;
    }
  }

  checkThrow(fn, args, e) {
    if (e !== null && typeof e === 'object' && e[GETTER_ERROR]) {
      this.stat(fn, 'getter');
      return;
    }
    const name = e && e.name;
    if (!['TypeError', 'RangeError', 'Error'].includes(name) || typeof e.code !== 'string' || typeof e.message !== 'string') {
      this.fail(`${fn}(${describeArgs(args)}) threw ${describe(e)} (${e && e.code})`);
      return;
    }
    this.stat(fn, name);
  }

  // Bookkeeping of what a successful call created or destroyed.
  track(fn, args, r) {
    if (typeof r !== 'number') return;
    switch (fn) {
      case 'socket':
        if (r >= 0) this.addFd(r, 'socket');
        break;
      case 'reserveFd':
        if (r >= 0) this.addFd(r, 'reserve');
        break;
      case 'udpSocket':
        if (r >= 0) this.addFd(r, 'udp');
      case 'dupSocket':
        // The copy is a descriptor of its own (closed on its own), of the
        // same socket; tracked as a plain one so nothing expects its peer.
        if (r >= 0) this.addFd(r, 'reserve');
        break;
      case 'accept':
        if (r > 0) for (let i = 0; i < r; i++) this.addFd(args[1][i], 'conn');
        break;
      case 'close':
        // Closed whatever the result: Linux releases the fd even on error.
        this.forgetFd(args[0]);
        break;
      case 'listen':
        if (r === 0 && this.fds.has(args[0]) && !this.listenPorts.has(args[0])) {
          const a = this.native.localAddress(args[0]);
          if (typeof a === 'object') {
            this.listenPorts.set(args[0], a.port);
            this.boundPorts.delete(args[0]);
            this.fds.set(args[0], 'listener');
          }
        }
        break;
      case 'bind':
        if (r === 0 && this.fds.has(args[0]) && !this.listenPorts.has(args[0])) {
          const a = this.native.localAddress(args[0]);
          if (typeof a === 'object') {
            this.boundPorts.set(args[0], a.port);
            this.fds.set(args[0], 'bound');
          }
        }
        break;
      case 'connect':
        if (this.fds.has(args[0]) && this.boundPorts.has(args[0])) {
          // A bound socket that connects is no longer a refusing port.
          this.boundPorts.delete(args[0]);
          this.fds.set(args[0], 'conn');
        }
        break;
      case 'unixSocket':
        if (r >= 0) this.addFd(r, 'socket');
        break;
      case 'openFifo':
        if (r >= 0) this.addFd(r, 'pipe');
        break;
      case 'fsOpenNoWait':
        // A file the addon's fd table tracks: closed through native.close.
        if (r >= 0) this.addFd(r, 'nfile');
        break;
      case 'socketPair':
      case 'pipe': {
        const out = fn === 'pipe' ? args[0] : args[1];
        if (r === 0) {
          this.addFd(out[0], fn === 'pipe' ? 'pipe' : 'uconn');
          this.addFd(out[1], fn === 'pipe' ? 'pipe' : 'uconn');
          if (fn === 'socketPair') {
            this.peers.set(out[0], out[1]);
            this.peers.set(out[1], out[0]);
          }
        }
        break;
      }
      case 'recvWithFds':
        // Received descriptors are the caller's: close them (never leak).
        if (r >= 0) for (let k = 0; k < args[5][0]; k++) this.native.close(args[4][k]);
        break;
      case 'selectorOpen':
        if (r >= 0) {
          this.selectors.add(r);
          this.wakerFds.set(r, this.native.selectorWakerHandle(r));
        }
        break;
      case 'selectorClose':
        if (r === 0) this.forgetSelector(args[0]);
        break;
      default:
        break;
    }
  }

  // ----------------------------------------------------------- one call ----
  call(fn, args) {
    const n = this.native;
    // A select on a live selector must not block: wake it first.
    if (fn === 'selectorSelect' && this.selectors.has(args[0])) n.selectorWake(args[0]);
    let hook = null;
    if (fn === 'bridgeStart' && this.depth === 0 && this.rng.chance(0.3)) {
      let armed = true;
      const self = this;
      hook = asyncHooks
        .createHook({
          init(_id, type) {
            if (!armed || type !== 'edgeio:turn') return;
            armed = false;
            for (let i = 0; i < 4; i++) {
              self.hookOps++;
              self.randomOp();
            }
            // The case that once broke (test/native.bridge-start-reentrant):
            // grow, and so move, the selector table from inside the call.
            if (self.rng.chance(0.5)) {
              const opened = [];
              for (let i = 0; i < 40; i++) opened.push(self.native.selectorOpen());
              for (const h of opened) if (h >= 0) self.native.selectorClose(h);
            }
          },
        })
        .enable();
    }
    const stolenBefore = this.stolen.length;
    const coercedBefore = this.coerced;
    const t0 = Date.now();
    let r;
    let threw = false;
    let err;
    this.depth++;
    try {
      r = n[fn](...args);
    } catch (e) {
      threw = true;
      err = e;
    } finally {
      this.depth--;
      if (hook) hook.disable();
    }
    const ms = Date.now() - t0;
    if (ms > SLOW_CALL_MS) this.fail(`${fn}(${describeArgs(args)}) took ${ms} ms`);
    if (this.coerced !== coercedBefore) this.fail(`${fn}(${describeArgs(args)}) coerced an argument`);
    // Buffers transferred away by a getter during this call: untouched
    // (they were zero-filled, and a read must not land in them).
    for (const clone of this.stolen.splice(stolenBefore)) {
      if (!new Uint8Array(clone).every((b) => b === 0)) {
        this.fail(`${fn}(${describeArgs(args)}) wrote into a buffer a getter transferred away during the call`);
      }
    }
    if (threw) this.checkThrow(fn, args, err);
    else {
      this.checkResult(fn, args, r);
      this.track(fn, args, r);
    }
    return r;
  }

  randomOp() {
    const fn = this.rng.pick(ALL_FNS);
    if (this.depth > 1) return; // getters inside hooks inside ...: enough
    const args = this.makeArgs(fn);
    if (args === null) return;
    // Inside a hook or getter, growing the selector table is what matters.
    if (this.depth > 0 && this.rng.chance(0.3)) {
      this.openSelector();
      return;
    }
    this.call(fn, args);
  }

  // ------------------------------------------------------------- run ----
  async run(iterations, { yieldEvery = 256, progressEvery = 0 } = {}) {
    const t0 = Date.now();
    this.fdsBefore = fdCount();
    this.replenish();
    for (this.iteration = 0; this.iteration < iterations; this.iteration++) {
      if (this.iteration % 64 === 0) this.replenish();
      const fn = this.rng.pick(ALL_FNS);
      const args = this.makeArgs(fn);
      if (args !== null) this.call(fn, args);
      if (yieldEvery > 0 && this.iteration % yieldEvery === yieldEvery - 1) {
        // Let bridges fire (their callbacks run more random operations).
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (progressEvery > 0 && this.iteration > 0 && this.iteration % progressEvery === 0) {
        const s = (Date.now() - t0) / 1000;
        this.log(`  ${this.iteration} iterations, ${Math.round(this.iteration / s)}/s, ${this.errors.length} failures, ${this.fds.size} fds, ${this.selectors.size} selectors`);
      }
      if (this.errors.length >= 20) break;
    }
    this.finished = true;
    this.teardown();
    await new Promise((resolve) => setImmediate(resolve));
    const fdsAfter = fdCount();
    if (fdsAfter > this.fdsBefore) this.fail(`descriptors: ${this.fdsBefore} before, ${fdsAfter} after teardown`);
    await nativeEcho(this.native).catch((e) => this.fail(`echo after the run: ${e.message}`));
    return {
      seed: this.seed,
      iterations: this.iteration,
      ms: Date.now() - t0,
      failures: this.errors,
      stats: this.stats,
      reentrant: { hookOps: this.hookOps, getterOps: this.getterOps, callbackOps: this.callbackOps, turns: this.turns },
    };
  }

  teardown() {
    for (const h of [...this.selectors]) {
      this.native.selectorClose(h);
      this.forgetSelector(h);
    }
    for (const fd of [...this.fds.keys()]) this.closeFd(fd);
    try {
      fs.unlinkSync(this.tmpFile);
    } catch {
      // not created
    }
    fs.rmSync(this.udsDir, { recursive: true, force: true });
  }
}

function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

// ---------------------------------------------------------- description ----
function describe(v) {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (t === 'bigint') return `${v}n`;
  if (t === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...(${v.length})` : v);
  if (t === 'symbol' || t === 'undefined' || t === 'boolean') return String(v);
  if (t === 'function') return `function ${v.name || '(anonymous)'}`;
  if (ArrayBuffer.isView(v)) {
    let detached = false;
    try {
      detached = v.buffer.byteLength === 0 && v.byteLength === 0 && !(v.buffer instanceof SharedArrayBuffer);
    } catch {
      detached = true;
    }
    return `${v.constructor.name}(${v.byteLength === undefined ? '?' : v.length}${v.byteOffset ? ` @${v.byteOffset}` : ''}${detached ? ', empty/detached' : ''})`;
  }
  if (Array.isArray(v)) return `[${v.length > 4 ? `${v.length} items` : Array.prototype.map.call(v, describe).join(', ')}]`;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  return Object.prototype.toString.call(v);
}

function describeArgs(args) {
  return args.map(describe).join(', ');
}

// ------------------------------------------------- the addon still works ----
// A raw echo through the addon: selector, listener, connect, accept,
// register, write, select, read, over loopback.
async function nativeEcho(native) {
  const check = (cond, what) => {
    if (!cond) throw new Error(what);
  };
  const sel = native.selectorOpen();
  check(sel >= 0, `selectorOpen ${sel}`);
  const fds = [];
  try {
    const l = native.socket(4);
    fds.push(l);
    check(native.bind(l, '127.0.0.1', 0) === 0 && native.listen(l, 8) === 0, 'listen');
    const port = native.localAddress(l).port;
    const c = native.socket(4);
    fds.push(c);
    const rc = native.connect(c, '127.0.0.1', port);
    check(rc === 0 || rc === native.errno.EINPROGRESS, `connect ${rc}`);
    check(native.selectorRegister(sel, l, 1, native.interest.READ) === 0, 'register');
    const ev = new Int32Array(64);
    const out = new Int32Array(1);
    const deadline = Date.now() + 5000;
    let k = 0;
    while ((k = native.accept(l, out)) !== 1) {
      check(Date.now() < deadline, `accept ${k}`);
      native.selectorSelect(sel, ev, 50);
    }
    const s = out[0];
    fds.push(s);
    check(native.selectorRegister(sel, s, 2, native.interest.READ) === 0, 'register s');
    const msg = Buffer.from('edgeio fuzz echo');
    check(native.write(c, msg, 0, msg.length) === msg.length, 'write');
    const got = Buffer.alloc(64);
    let n = native.errno.EAGAIN;
    while (n === native.errno.EAGAIN) {
      check(Date.now() < deadline, 'read timed out');
      native.selectorSelect(sel, ev, 50);
      n = native.read(s, got, 0, got.length);
    }
    check(n === msg.length && got.subarray(0, n).equals(msg), `read ${n}`);
    check(native.writev(s, [got.subarray(0, 6), got.subarray(6, n)], 0, 0) === n, 'writev back');
    const back = Buffer.alloc(64);
    let m = native.errno.EAGAIN;
    while (m === native.errno.EAGAIN) {
      check(Date.now() < deadline, 'read back timed out');
      await new Promise((resolve) => setImmediate(resolve));
      m = native.read(c, back, 0, back.length);
    }
    check(m === n && back.subarray(0, m).equals(msg), `read back ${m}`);
  } finally {
    for (const fd of fds) native.close(fd);
    native.selectorClose(sel);
  }
}

// -------------------------------------------------------------- report ----
function statsTable(stats) {
  const rows = [...stats].sort(([a], [b]) => a.localeCompare(b));
  const lines = [`${'function'.padEnd(20)} ${'ok'.padStart(7)} ${'errno'.padStart(7)} ${'TypeErr'.padStart(7)} ${'RangeErr'.padStart(8)} ${'Error'.padStart(6)} ${'getter'.padStart(6)}`];
  for (const [fn, s] of rows) {
    lines.push(
      `${fn.padEnd(20)} ${String(s.ok).padStart(7)} ${String(s.errno).padStart(7)} ${String(s.TypeError).padStart(7)} ${String(s.RangeError).padStart(8)} ${String(s.Error).padStart(6)} ${String(s.getter).padStart(6)}`,
    );
  }
  return lines.join('\n');
}

async function runFuzz({ native, iterations, seed, log = () => undefined, yieldEvery, progressEvery }) {
  const f = new Fuzzer(native, seed, log);
  return f.run(iterations, { yieldEvery, progressEvery });
}

module.exports = { runFuzz, nativeEcho, statsTable, ALL_FNS, CHECKS_ONLY_FNS: POOL_FIRST };

// ---------------------------------------------------------------- CLI ----
if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const iterations = Number(opt('--iterations', process.env.FUZZ_ITERATIONS || 1000000));
  const seed = Number(opt('--seed', process.env.FUZZ_SEED || (Date.now() ^ (process.pid << 16)) >>> 0)) >>> 0;
  const quiet = argv.includes('--quiet');
  const root = path.resolve(__dirname, '..');
  const { native } = require(path.join(root, 'dist', 'sys', 'native'));
  console.log(`fuzz-native: ${iterations} iterations, seed ${seed} (replay: --seed ${seed})`);
  runFuzz({
    native,
    iterations,
    seed,
    log: (m) => console.log(m),
    progressEvery: quiet ? 0 : 100000,
  })
    .then(async (res) => {
      // The public API on top still works too.
      const { spawn, TcpListener, TcpStream, Runtime } = require(path.join(root, 'dist'));
      const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 });
      const server = spawn(async () => {
        for await (const s of listener) {
          const b = Buffer.alloc(64);
          const k = await s.read(b);
          await s.writeAll(b, 0, k);
          s.close();
          break;
        }
      });
      const c = await TcpStream.connect({ host: '127.0.0.1', port: listener.localAddr().port });
      await c.writeAll(Buffer.from('api'));
      const back = Buffer.alloc(3);
      await c.readExact(back);
      c.close();
      await server;
      listener.close();
      Runtime.default().shutdown();
      if (back.toString() !== 'api') res.failures.push('public-API echo after the run came back wrong');
      if (!quiet) console.log(statsTable(res.stats));
      console.log(
        `fuzz-native: ${res.iterations} iterations in ${(res.ms / 1000).toFixed(1)} s (${Math.round(res.iterations / (res.ms / 1000))}/s), seed ${res.seed}; ` +
          `re-entrant ops: ${res.reentrant.hookOps} in async hooks, ${res.reentrant.getterOps} getters, ${res.reentrant.callbackOps} in ${res.reentrant.turns} bridge turns; ` +
          `${res.failures.length} failures`,
      );
      if (res.failures.length > 0) {
        for (const f of res.failures) console.log(`  ${f}`);
        process.exitCode = 1;
      }
    })
    .catch((e) => {
      console.error(`fuzz-native: crashed at seed ${seed}:`, e);
      process.exitCode = 1;
    });
}
