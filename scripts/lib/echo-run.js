#!/usr/bin/env node
// A short, deterministic workout of the whole addon in one process, used by
// scripts/check-valgrind.sh (and runnable on its own):
//
//   1. selectors: open / register / select / wake / wakeHandle / deregister /
//      bridge start-ref-unref-stop / close, a few times over;
//   2. an edgeio echo server and CONNS clients doing ROUNDS round trips each
//      (default 20 x 10 = 200), through the public API (TcpListener,
//      TcpStream, spawn, split, writev), so the bridge, accept, read, write,
//      writev, shutdown, options and addresses all run;
//   3. bad-argument calls on every exported function (wrong types, detached
//      buffers, out-of-range numbers) and syscall-error calls (fds that are
//      closed or far above any descriptor limit, non-socket fds, a closed
//      selector), which exercise the error paths a clean run never takes.
//
// Loads dist/ (build it first: npx tsc -p tsconfig.build.json); honours
// EDGEIO_PREBUILD like every other load of the addon (node-gyp-build).
// Prints one summary line and exits 0, or throws.
'use strict';
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..', '..');
const { native } = require(path.join(root, 'dist', 'sys', 'native'));
const { spawn, joinAll, TcpListener, TcpStream, Runtime } = require(path.join(root, 'dist'));

const CONNS = Number(process.env.ECHO_CONNS || 20);
const ROUNDS = Number(process.env.ECHO_ROUNDS || 10);

function check(cond, what) {
  if (!cond) throw new Error(`echo-run: ${what}`);
}

// A value no descriptor can have: far above RLIMIT_NOFILE and fs.nr_open.
const INVALID_FD = 2 ** 30;

function selectors() {
  for (let round = 0; round < 3; round++) {
    const h = native.selectorOpen();
    check(h >= 0, `selectorOpen ${h}`);
    const ev = new Int32Array(64);
    // A listener and a connected pair registered under distinct tokens.
    const l = native.socket(4);
    check(native.bind(l, '127.0.0.1', 0) === 0 && native.listen(l, 8) === 0, 'listen');
    const port = native.localAddress(l).port;
    const c = native.socket(4);
    const r = native.connect(c, '127.0.0.1', port);
    check(r === 0 || r === native.errno.EINPROGRESS, `connect ${r}`);
    check(native.selectorRegister(h, l, 7, native.interest.READ) === 0, 'register l');
    check(native.selectorRegister(h, c, 8, native.interest.READ | native.interest.WRITE) === 0, 'register c');
    const out = new Int32Array(4);
    let n = -1;
    for (let i = 0; i < 1000 && n <= 0; i++) {
      native.selectorSelect(h, ev, 10);
      n = native.accept(l, out);
    }
    check(n === 1, `accept ${n}`);
    const s = out[0];
    check(native.write(c, Buffer.from('ping'), 0, 4) === 4, 'write');
    const got = Buffer.alloc(8);
    let k = -1;
    for (let i = 0; i < 1000 && k < 0; i++) {
      native.selectorSelect(h, ev, 10);
      k = native.read(s, got, 0, 8);
    }
    check(k === 4 && got.subarray(0, 4).toString() === 'ping', `read ${k}`);
    // Waker: directly and through its handle.
    check(native.selectorWake(h) === 0, 'wake');
    check(native.wakeHandle(native.selectorWakerHandle(h)) === 0, 'wakeHandle');
    const m = native.selectorSelect(h, ev, 0);
    check(m >= 1, `select after wake ${m}`);
    // Bridge lifecycle without letting it fire.
    check(native.bridgeStart(h, ev, () => undefined, {}) === 0, 'bridgeStart');
    check(native.bridgeStart(h, ev, () => undefined, {}) === native.errno.EBUSY, 'bridgeStart twice');
    native.bridgeRef(h);
    native.bridgeUnref(h);
    check(native.bridgeStop(h) === 0, 'bridgeStop');
    check(native.selectorDeregister(h, c) === 0 && native.selectorDeregister(h, l) === 0, 'deregister');
    for (const fd of [s, c, l]) native.close(fd);
    check(native.selectorClose(h) === 0, 'selectorClose');
  }
}

async function echo() {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port: 0 });
  const port = listener.localAddr().port;
  const server = spawn(async () => {
    let served = 0;
    for await (const stream of listener) {
      served++;
      spawn(async () => {
        const buf = Buffer.allocUnsafe(4096);
        try {
          for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
        } finally {
          stream.close();
        }
      });
      if (served === CONNS) break;
    }
  });
  let trips = 0;
  await joinAll(
    Array.from({ length: CONNS }, (_, i) =>
      spawn(async () => {
        const s = await TcpStream.connect({ host: '127.0.0.1', port });
        s.setNoDelay(true).setKeepAlive(true, 30000);
        check(s.peerAddr().port === port, 'peerAddr');
        const [rd, wr] = s.split();
        for (let r = 0; r < ROUNDS; r++) {
          const head = Buffer.alloc(1 + ((i * 7 + r * 13) % 200), i);
          const tail = Buffer.alloc(1 + (r % 17), r);
          // Alternate a gather write and a plain one.
          if (r % 2 === 0) await wr.writevAll([head, tail]);
          else await wr.writeAll(Buffer.concat([head, tail]));
          const back = Buffer.alloc(head.length + tail.length);
          await rd.readExact(back);
          check(back.equals(Buffer.concat([head, tail])), `echo ${i}/${r} differs`);
          trips++;
        }
        await wr.shutdown();
        const rest = Buffer.alloc(16);
        check((await rd.read(rest)) === 0, 'EOF after shutdown');
        s.close();
      }),
    ),
  );
  await server;
  listener.close();
  check(trips === CONNS * ROUNDS, `round trips ${trips}`);
  return trips;
}

function badCalls() {
  let thrown = 0;
  let codes = 0;
  const detached = new Uint8Array(new ArrayBuffer(16));
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  const u8 = Buffer.alloc(16);
  const i32 = new Int32Array(4);
  const closedSel = native.selectorOpen();
  native.selectorClose(closedSel);
  // Open the non-socket first, so closedFd's number cannot be handed to it.
  // Nothing below opens a descriptor, so closedFd stays closed throughout.
  const devnull = fs.openSync('/dev/null', 'r');
  const closedFd = native.socket(4);
  native.close(closedFd);
  const badArgs = [undefined, null, -1, 1.5, NaN, 'x', {}, [], detached, Symbol('s'), 10n, 2 ** 53];
  const fns = Object.keys(native).filter((k) => typeof native[k] === 'function');
  const throws = (f) => {
    try {
      f();
      return false;
    } catch (e) {
      check(typeof e.code === 'string', `error without code: ${e}`);
      return true;
    }
  };
  for (const name of fns) {
    if (name === 'selectorOpen' || name === 'reserveFd' || name === 'trackedFds') continue; // no arguments to get wrong
    for (const bad of badArgs) {
      for (let pos = 0; pos < 4; pos++) {
        // INVALID_FD: a bad argument elsewhere must not let close() or
        // shutdown() reach a real descriptor.
        const args = [INVALID_FD, u8, 0, 1];
        if (name.startsWith('selector') || name.startsWith('bridge')) args[0] = closedSel;
        args[pos] = bad;
        if (throws(() => native[name](...args))) thrown++;
      }
    }
  }
  // Syscall-level errors: arguments are fine, the descriptor is not.
  for (const fd of [closedFd, INVALID_FD, devnull]) {
    const results = [
      native.bind(fd, '127.0.0.1', 0),
      native.bind(fd, 'fe80::1%1', 0),
      native.connect(fd, '::1', 1),
      native.listen(fd, 1),
      native.accept(fd, i32),
      native.read(fd, u8, 0, 16),
      native.write(fd, u8, 0, 16),
      native.readv(fd, [u8, u8]),
      native.writev(fd, [u8, u8], 0, 3),
      native.shutdown(fd, 2),
      native.adoptFd(fd === devnull ? INVALID_FD : fd),
      native.detachFd(fd),
      native.localAddress(fd),
      native.peerAddress(fd),
      native.wakeHandle(fd),
    ];
    for (let opt = native.options.NO_DELAY; opt <= native.options.V6_ONLY; opt++) {
      // LINGER takes only -1 or 0 (a linger time would block close()).
      results.push(native.setOption(fd, opt, opt === native.options.LINGER ? 0 : 1), native.getOption(fd, opt, i32));
    }
    results.push(native.getOption(fd, native.options.ERROR, i32));
    for (const r of results) {
      if (typeof r === 'number' && r < 0) codes++;
    }
  }
  fs.closeSync(devnull);
  check(throws(() => native.selectorWake(closedSel)), 'closed selector');
  return { thrown, codes };
}

async function main() {
  const t0 = Date.now();
  selectors();
  const bad1 = badCalls();
  const trips = await echo();
  const bad2 = badCalls();
  selectors();
  Runtime.default().shutdown();
  console.log(
    `echo-run: ${trips} round trips over ${CONNS} connections, ${bad1.thrown + bad2.thrown} bad-argument throws, ` +
      `${bad1.codes + bad2.codes} syscall error codes, ${Date.now() - t0} ms`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
