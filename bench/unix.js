#!/usr/bin/env node
// Unix domain sockets, pipes and descriptor passing: edgeio vs Node vs a C
// floor (see "Unix sockets and pipes" in bench/README.md).
//
//   node bench/unix.js [--parts echo64,stream,pipe,fds,splice,proxy] [--duration S] [--warmup S] [--repeats N]
//
// Needs dist/ and build/ (npm run build); builds bench/bin/{loadgen,echo-epoll}
// with bench/build-c.sh. Every server / reader / fd-passing parent is pinned
// to core 0 and its peer (load generator, writer, child) to core 1 with
// taskset, as bench/run.js does. Within a repeat the contenders run one after
// the other (interleaved), so machine noise hits them alike; ratios are taken
// per repeat, and every figure is the median with the [min–max] over repeats.
//
// Parts:
//   echo64  100 connections, 64 B messages, 1 in flight each, over a Unix
//           stream socket: edgeio UnixListener vs Node net.Server on a path
//           vs bench/servers/echo-epoll.c --unix; bench/loadgen.c --unix.
//   stream  4 connections streaming 64 KiB writes, echoed, 1 MiB window:
//           the same three servers.
//   pipe    a writer (dd, 64 KiB blocks from /dev/zero) into a FIFO; the
//           reader: edgeio PipeReader.open vs Node fs.createReadStream on the
//           FIFO vs Node process.stdin on a pipe (net.Socket); bytes/s and
//           reader CPU per MiB.
//   fds     descriptor passing round trips between two processes: the
//           parent sends 1 byte + a listening TCP socket's fd, the child
//           receives it, closes it and answers 1 byte. edgeio
//           sendWithFds/recvWithFds on a UnixStream vs Node child_process
//           send(msg, net.Server) on the IPC channel. 1 message in flight
//           (latency: two cross-core wake-ups per round trip) and 16.
//   splice  N MiB (default 2048, --splice-mib) through a process on core 0
//           that moves bytes between a TCP socket and a FIFO, both ways:
//           socket -> pipe (a Node sender on core 1 writes 1 MiB buffers to
//           the socket; dd on core 1 drains the FIFO) and pipe -> socket (dd
//           on core 1 fills the FIFO; a Node sink on core 1 reads the
//           socket). Contenders: edgeio copy() taking splice(2), edgeio
//           copy() with splice turned off (its read/write fallback), Node
//           socket.pipe(fs.createWriteStream(fifo)) /
//           fs.createReadStream(fifo).pipe(socket). MiB/s and the moving
//           process's CPU per GiB.
//   proxy   (not in the default parts) socket -> socket the same way: a
//           Node sender and a Node sink on core 1; edgeio splice() through
//           a pipe pair (HAProxy's forwarding) vs edgeio copy() vs Node
//           socket.pipe(socket). Whether copyBidirectional should splice.
//
// Prints markdown tables; writes bench/results/unix-<date>.json.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(__dirname, 'bin');
const DIST = path.join(ROOT, 'dist');
const NODE = process.execPath;
const HERE = __filename;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ===== roles run in child processes =====


/** edgeio echo server on a Unix path, async/await (bench/servers/echo.js over UnixListener). */
function serveEdgeio(p) {
  const { UnixListener, spawn: task } = require(DIST);
  (async () => {
    const listener = await UnixListener.bind(p, { backlog: 1024, unlinkStale: true });
    process.on('SIGTERM', () => {
      listener.close();
      process.exit(0);
    });
    for await (const stream of listener) {
      task(async () => {
        const buf = Buffer.allocUnsafe(64 * 1024);
        try {
          for (let n; (n = await stream.read(buf)) > 0; ) await stream.writeAll(buf, 0, n);
        } catch {
          // a peer that resets costs its own connection only
        } finally {
          stream.close();
        }
      });
    }
  })();
}

/** Node net echo server on a Unix path ('data' handler with backpressure, as bench/servers/node-net-echo.js). */
function serveNode(p) {
  try {
    fs.unlinkSync(p);
  } catch {
    // not there
  }
  const server = net
    .createServer((socket) => {
      socket.on('data', (chunk) => {
        if (!socket.write(chunk)) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      });
      socket.on('error', () => socket.destroy());
    })
    .listen({ path: p, backlog: 1024 });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** Reads a FIFO to EOF with edgeio; prints {bytes, seconds, cpu}. */
function readEdgeio(fifo) {
  const { PipeReader } = require(DIST);
  (async () => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const r = PipeReader.open(fifo);
    const buf = Buffer.allocUnsafe(64 * 1024);
    let bytes = 0;
    for (let n; (n = await r.read(buf)) > 0; ) bytes += n;
    r.close();
    report(bytes, t0, c0);
  })();
}

/** Reads a FIFO to EOF with fs.createReadStream (64 KiB highWaterMark). */
function readNodeFs(fifo) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let bytes = 0;
  fs.createReadStream(fifo, { highWaterMark: 64 * 1024 })
    .on('data', (d) => (bytes += d.length))
    .on('end', () => report(bytes, t0, c0));
}

/** Reads stdin (a pipe: a net.Socket in Node) to EOF. */
function readNodeStdin() {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let bytes = 0;
  process.stdin.on('data', (d) => (bytes += d.length)).on('end', () => report(bytes, t0, c0));
}

function report(bytes, t0, c0) {
  const c = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${JSON.stringify({ bytes, seconds, cpu: (c.user + c.system) / 1e6 })}\n`);
}

/** The fd-passing peer: receive 1 byte + fds, close them, answer 1 byte; until EOF. */
function fdsEdgeioChild(p) {
  const { UnixStream } = require(DIST);
  (async () => {
    const s = await UnixStream.connect(p);
    const buf = Buffer.alloc(1);
    const ack = Buffer.from('k');
    for (;;) {
      const { bytes, fds } = await s.recvWithFds(buf, { maxFds: 4 });
      if (bytes === 0) break;
      for (const fd of fds) fs.closeSync(fd);
      await s.writeAll(ack);
    }
    s.close();
  })();
}

/** Node's peer: each message carries a net.Server handle; close it, answer. */
function fdsNodeChild() {
  process.on('message', (msg, handle) => {
    if (msg === 'end') return process.disconnect();
    if (handle) handle.close();
    process.send('k');
  });
}

/** Opens a FIFO for writing with edgeio, waiting for the reader (ENXIO until it opens). */
async function openFifoWriter(fifo) {
  const { PipeWriter, sleep: esleep } = require(DIST);
  for (let i = 0; ; i++) {
    try {
      return PipeWriter.open(fifo);
    } catch (e) {
      if (e.code !== 'ENXIO' || i > 1000) throw e;
      await esleep(5);
    }
  }
}

/**
 * The process under test of the splice part (core 0): moves bytes between a
 * TCP socket and a FIFO. `dir` s2p (socket -> pipe: listens, prints its
 * port, copies the accepted connection into the FIFO) or p2s (pipe ->
 * socket: connects to the sink at `port`, copies the FIFO into it).
 * `how`: splice (edgeio copy, which splices), copy (edgeio copy with splice
 * off: read/write), node (stream .pipe()). Prints {bytes, seconds, cpu}.
 */
function spliceServer(dir, how, fifo, port) {
  if (how === 'node') return spliceServerNode(dir, fifo, port);
  const { TcpListener, TcpStream, PipeReader, copy, pipe, splice, spawn: task } = require(DIST);
  if (how === 'copy') require(path.join(DIST, 'net', 'splice.js')).setSpliceAvailable(false);
  (async () => {
    if (dir === 's2s') {
      // socket -> socket: copy() (read/write) or two splices through a pipe
      // of our own (HAProxy's forwarding), the sink at `port`.
      const up = await TcpStream.connect(`127.0.0.1:${port}`);
      const l = await TcpListener.bind('127.0.0.1:0');
      process.stdout.write(`${JSON.stringify({ port: l.localAddr().port })}\n`);
      const s = await l.accept();
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      let bytes;
      if (how === 'copy') {
        bytes = await copy(s, up);
      } else {
        const [r, w] = pipe();
        const into = task(async () => {
          const n = await splice(s, w);
          w.close();
          return n;
        });
        bytes = await splice(r, up);
        await into;
        r.close();
      }
      await up.shutdown();
      up.close();
      s.close();
      l.close();
      report(bytes, t0, c0);
    } else if (dir === 's2p') {
      const l = await TcpListener.bind('127.0.0.1:0');
      const w = await openFifoWriter(fifo);
      process.stdout.write(`${JSON.stringify({ port: l.localAddr().port })}\n`);
      const s = await l.accept();
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const bytes = await copy(s, w);
      w.close();
      s.close();
      l.close();
      report(bytes, t0, c0);
    } else {
      const s = await TcpStream.connect(`127.0.0.1:${port}`);
      const r = PipeReader.open(fifo);
      process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const bytes = await copy(r, s);
      await s.shutdown();
      r.close();
      s.close();
      report(bytes, t0, c0);
    }
  })();
}

function spliceServerNode(dir, fifo, port) {
  if (dir === 's2s') {
    const up = net.connect(Number(port), '127.0.0.1', () => {
      const server = net.createServer((sock) => {
        server.close();
        const t0 = process.hrtime.bigint();
        const c0 = process.cpuUsage();
        sock.pipe(up).on('finish', () => {
          report(sock.bytesRead, t0, c0);
          up.destroy();
        });
      });
      server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
    });
  } else if (dir === 's2p') {
    const server = net.createServer((sock) => {
      server.close();
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const ws = fs.createWriteStream(fifo);
      sock.pipe(ws).on('finish', () => report(sock.bytesRead, t0, c0));
    });
    server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
  } else {
    const sock = net.connect(Number(port), '127.0.0.1', () => {
      process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const rs = fs.createReadStream(fifo, { highWaterMark: 64 * 1024 });
      rs.pipe(sock).on('finish', () => {
        report(rs.bytesRead, t0, c0);
        sock.destroy();
      });
    });
  }
}

/** The splice part's socket peer that sends (core 1): `mib` MiB of 1 MiB buffers, then FIN. */
function spliceSender(port, mib) {
  const buf = Buffer.alloc(1 << 20, 0x5a);
  const sock = net.connect(Number(port), '127.0.0.1', () => {
    let left = Number(mib);
    const more = () => {
      while (left > 0) {
        left--;
        if (!sock.write(buf)) return void sock.once('drain', more);
      }
      sock.end();
    };
    more();
  });
  sock.on('close', () => process.exit(0));
}

/** The splice part's socket peer that receives (core 1): prints its port, then the bytes at EOF. */
function spliceSink() {
  const server = net.createServer((sock) => {
    server.close();
    let bytes = 0;
    sock.on('data', (d) => (bytes += d.length)).on('end', () => {
      process.stdout.write(`${JSON.stringify({ bytes })}\n`);
      sock.destroy();
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
}

// ===== the parent =====

function parseArgs(argv) {
  const o = { parts: ['echo64', 'stream', 'pipe', 'fds', 'splice'], duration: 1.5, warmup: 0.4, repeats: 3, pipeMiB: 2048, spliceMiB: 2048 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--parts') o.parts = v().split(',');
    else if (a === '--duration') o.duration = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--repeats') o.repeats = Number(v());
    else if (a === '--pipe-mib') o.pipeMiB = Number(v());
    else if (a === '--splice-mib') o.spliceMiB = Number(v());
    else {
      console.error('usage: node bench/unix.js [--parts echo64,stream,pipe,fds,splice,proxy] [--duration S] [--warmup S] [--repeats N] [--pipe-mib N] [--splice-mib N]');
      process.exit(2);
    }
  }
  return o;
}

/** CPU seconds of every thread of `pid` (schedstat, ns precision), as bench/run.js. */
function cpuSeconds(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread ended meanwhile
    }
  }
  return ns / 1e9;
}

function canConnect(p) {
  return new Promise((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts `cmd` pinned to `core` with a raised fd limit. */
function pinned(core, cmd, opts = {}) {
  return spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" && exec taskset -c ${core} "$@"`, 'bash', ...cmd], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
    ...opts,
  });
}

async function startServer(cmd, sock) {
  const child = pinned(0, cmd);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 300; i++) {
    if (exited) throw new Error(`server exited at start: ${cmd.join(' ')}\n${stderr.slice(-2000)}`);
    if (await canConnect(sock)) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not listen within 6 s: ${cmd.join(' ')}`);
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await done;
  clearTimeout(t);
}

function collect(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`exited ${code}: ${err.trim().slice(-500)}`));
      }
    });
  });
}

const loadgen = (args) => collect(pinned(1, [path.join(BIN, 'loadgen'), ...args]));

const SOCK_SERVERS = {
  edgeio: { label: 'edgeio UnixListener (async/await)', cmd: (p) => [NODE, HERE, '--serve-edgeio', p] },
  node: { label: 'Node net.Server on a path', cmd: (p) => [NODE, HERE, '--serve-node', p] },
  c: { label: 'C epoll --unix (floor)', cmd: (p) => [path.join(BIN, 'echo-epoll'), '--unix', p] },
};

async function sockCell(dir, scenario, server, o) {
  const sock = path.join(dir, `${server}.sock`);
  const srv = await startServer(SOCK_SERVERS[server].cmd(sock), sock);
  try {
    const common = ['--unix', sock, '--scenario', scenario, '--warmup', '0'];
    if (o.warmup > 0) await loadgen([...common, '--duration', String(o.warmup)]);
    const cpu0 = cpuSeconds(srv.pid);
    const r = await loadgen([...common, '--duration', String(o.duration)]);
    const cpu = cpuSeconds(srv.pid) - cpu0;
    return { rate: r.rate, mbps: r.mbps, p50_us: r.p50_us, p99_us: r.p99_us, errors: r.errors, us_per_op: (cpu / r.ops) * 1e6, cpu_share: cpu / r.seconds };
  } finally {
    await stop(srv);
  }
}

const PIPE_READERS = {
  edgeio: { label: 'edgeio PipeReader.open(fifo)', fifo: true, cmd: (f) => [NODE, HERE, '--read-edgeio', f] },
  'node-fs': { label: 'Node fs.createReadStream(fifo)', fifo: true, cmd: (f) => [NODE, HERE, '--read-node-fs', f] },
  'node-stdin': { label: 'Node process.stdin (pipe)', fifo: false, cmd: () => [NODE, HERE, '--read-node-stdin'] },
};

async function pipeCell(dir, reader, o) {
  const spec = PIPE_READERS[reader];
  const blocks = String(Math.round(o.pipeMiB * 16)); // 64 KiB blocks
  const dd = ['dd', 'if=/dev/zero', 'bs=64k', `count=${blocks}`, 'status=none'];
  let r;
  if (spec.fifo) {
    const fifo = path.join(dir, `${reader}.fifo`);
    spawnSync('mkfifo', [fifo]);
    const child = pinned(0, spec.cmd(fifo));
    const result = collect(child);
    // The reader opens nonblocking (edgeio) or in the thread pool (Node); the
    // writer's open blocks until a reader is there (fifo(7)).
    const writer = pinned(1, [...dd, `of=${fifo}`]);
    r = await result;
    await new Promise((res) => (writer.exitCode !== null ? res() : writer.once('exit', res)));
    fs.unlinkSync(fifo);
  } else {
    // dd | reader: the reader's stdin is a pipe.
    const child = spawn('bash', ['-c', `taskset -c 1 ${dd.join(' ')} | exec taskset -c 0 "$@"`, 'bash', ...spec.cmd()], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: ROOT,
    });
    r = await collect(child);
  }
  if (r.bytes !== o.pipeMiB * 2 ** 20) throw new Error(`${reader}: read ${r.bytes} bytes, expected ${o.pipeMiB * 2 ** 20}`);
  return { rate: r.bytes / r.seconds / 2 ** 20, us_per_op: (r.cpu / (r.bytes / 2 ** 20)) * 1e6, cpu_share: r.cpu / r.seconds };
}

/**
 * Watches a child's stdout: `first` resolves with the first JSON line it
 * prints (a port, or "ready"), `last` with the last one at exit (its report).
 */
function watch(child) {
  let out = '';
  let err = '';
  let onFirst;
  let onFail;
  const first = new Promise((res, rej) => {
    onFirst = res;
    onFail = rej;
  });
  child.stdout.on('data', (d) => {
    out += d;
    const nl = out.indexOf('\n');
    if (nl >= 0 && onFirst) {
      const f = onFirst;
      onFirst = null;
      try {
        f(JSON.parse(out.slice(0, nl)));
      } catch (e) {
        onFail(e);
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const last = new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      if (onFirst) onFail(new Error(`exited ${code} before its first line: ${err.trim().slice(-500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`exited ${code}: ${err.trim().slice(-500)}`));
      }
    }),
  );
  return { first, last };
}

const SPLICE_MOVERS = {
  splice: 'edgeio copy() (splice(2))',
  copy: 'edgeio copy() with splice off (read/write)',
  node: 'Node stream .pipe() (fs stream on the FIFO)',
};
// socket -> socket (the `proxy` part): what copyBidirectional would gain
// from forwarding through a pipe pair.
const PROXY_MOVERS = {
  splice: 'edgeio splice() through a pipe pair',
  copy: 'edgeio copy() (read/write)',
  node: 'Node socket.pipe(socket)',
};

/** One splice/proxy-part run: `dirn` s2p, p2s or s2s, mover `how`; {rate MiB/s, us_per_op (ms CPU per GiB), cpu_share}. */
async function spliceCell(dir, dirn, how, o) {
  const fifo = path.join(dir, `${dirn}-${how}.fifo`);
  spawnSync('mkfifo', [fifo]);
  const mib = o.spliceMiB;
  const dd = ['dd', 'bs=1M', 'status=none'];
  let r;
  let sent = mib * 2 ** 20;
  try {
    if (dirn === 's2s') {
      const sink = watch(pinned(1, [NODE, HERE, '--splice-sink']));
      const { port: sinkPort } = await sink.first;
      const server = watch(pinned(0, [NODE, HERE, '--splice-server', 's2s', how, '-', String(sinkPort)]));
      const { port } = await server.first;
      pinned(1, [NODE, HERE, '--splice-sender', String(port), String(mib)]);
      r = await server.last;
      sent = (await sink.last).bytes;
    } else if (dirn === 's2p') {
      const drain = pinned(1, [...dd, `if=${fifo}`, 'of=/dev/null']);
      const server = watch(pinned(0, [NODE, HERE, '--splice-server', 's2p', how, fifo]));
      const { port } = await server.first;
      const sender = pinned(1, [NODE, HERE, '--splice-sender', String(port), String(mib)]);
      r = await server.last;
      await Promise.all([drain, sender].map((c) => new Promise((res) => (c.exitCode !== null ? res() : c.once('exit', res)))));
    } else {
      const sink = watch(pinned(1, [NODE, HERE, '--splice-sink']));
      const { port } = await sink.first;
      const server = watch(pinned(0, [NODE, HERE, '--splice-server', 'p2s', how, fifo, String(port)]));
      await server.first;
      pinned(1, [...dd, 'if=/dev/zero', `of=${fifo}`, `count=${mib}`]);
      r = await server.last;
      sent = (await sink.last).bytes;
    }
  } finally {
    fs.rmSync(fifo, { force: true });
  }
  if (r.bytes !== mib * 2 ** 20 || sent !== r.bytes) throw new Error(`splice ${dirn} ${how}: moved ${r.bytes}, peer saw ${sent}, expected ${mib * 2 ** 20}`);
  // us_per_op holds ms of CPU per GiB here (the table's column says so).
  return { rate: r.bytes / r.seconds / 2 ** 20, us_per_op: (r.cpu / (r.bytes / 2 ** 30)) * 1e3, cpu_share: r.cpu / r.seconds };
}

/** Round trips of "1 byte + a listening socket's fd" → "1 byte" for `seconds`. */
async function fdsCell(dir, kind, o, depth) {
  const tcp = net.createServer();
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  try {
    if (kind === 'edgeio') return await fdsEdgeio(dir, o, depth);
    return await fdsNode(tcp, o, depth);
  } finally {
    tcp.close();
  }
}

async function fdsEdgeio(dir, o, depth) {
  const { UnixListener, TcpListener } = require(DIST);
  const sock = path.join(dir, 'fds.sock');
  const listener = await UnixListener.bind(sock, { unlinkStale: true });
  const child = pinned(1, [NODE, HERE, '--fds-edgeio-child', sock]);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.once('exit', r));
  const s = await listener.accept();
  const tcp = await TcpListener.bind('127.0.0.1:0');
  const one = Buffer.from('x');
  const acks = Buffer.alloc(depth);
  const fds = [tcp.fd];
  // `depth` messages in flight: each answer read lets one more go.
  const run = async (secs) => {
    const end = process.hrtime.bigint() + BigInt(Math.round(secs * 1e9));
    let n = 0;
    let inFlight = 0;
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (; inFlight < depth; inFlight++) await s.sendWithFds(one, fds);
    while (inFlight > 0) {
      const got = await s.read(acks, 0, inFlight);
      inFlight -= got;
      n += got;
      if (process.hrtime.bigint() < end) for (let k = 0; k < got; k++, inFlight++) await s.sendWithFds(one, fds);
    }
    const c = process.cpuUsage(c0);
    return { n, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
  };
  try {
    if (o.warmup > 0) await run(o.warmup);
    const r = await run(o.duration);
    return { rate: r.n / r.seconds, us_per_op: (r.cpu / r.n) * 1e6, cpu_share: r.cpu / r.seconds };
  } finally {
    s.close();
    tcp.close();
    listener.close();
    if ((await exited) !== 0) throw new Error(`edgeio fd child failed: ${err.slice(-500)}`);
  }
}

async function fdsNode(server, o, depth) {
  const child = spawn('taskset', ['-c', '1', NODE, HERE, '--fds-node-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('spawn', r));
  const exited = new Promise((r) => child.once('exit', r));
  // `depth` messages in flight: each answer lets one more go.
  const run = async (secs) => {
    const end = process.hrtime.bigint() + BigInt(Math.round(secs * 1e9));
    let n = 0;
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await new Promise((resolve, reject) => {
      let inFlight = 0;
      const send = () => {
        inFlight++;
        child.send('x', server, (e) => e && reject(e));
      };
      const onMessage = () => {
        inFlight--;
        n++;
        if (process.hrtime.bigint() < end) send();
        else if (inFlight === 0) {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      for (let k = 0; k < depth; k++) send();
    });
    const c = process.cpuUsage(c0);
    return { n, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
  };
  try {
    if (o.warmup > 0) await run(o.warmup);
    const r = await run(o.duration);
    return { rate: r.n / r.seconds, us_per_op: (r.cpu / r.n) * 1e6, cpu_share: r.cpu / r.seconds };
  } finally {
    child.send('end');
    await exited;
  }
}

// ===== report =====

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const spread = (xs, d = 0) => `${fmt(median(xs), d)} [${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}]`;

function table(title, unit, opUnit, labels, runs, base, ref) {
  // runs[name] = [{rate, us_per_op, ...} per repeat]
  const lines = [`### ${title}`, '', `| contender | ${unit} [min–max] | vs ${base} [min–max] | ${ref ? `vs ${ref} [min–max] | ` : ''}CPU ${opUnit} | CPU ${opUnit} vs ${ref ?? base} | CPU share |`, `|---|---:|---:|${ref ? '---:|' : ''}---:|---:|---:|`];
  const rep = Object.values(runs)[0].length;
  for (const [name, rs] of Object.entries(runs)) {
    const ratio = (other) => rs.map((r, i) => r.rate / runs[other][i].rate);
    const cpuRatio = (other) => rs.map((r, i) => r.us_per_op / runs[other][i].us_per_op);
    const cells = [
      labels[name],
      spread(rs.map((r) => r.rate)),
      `${spread(ratio(base), 2)}×`,
      ...(ref ? [`${spread(ratio(ref), 2)}×`] : []),
      fmt(median(rs.map((r) => r.us_per_op)), 2),
      `${fmt(median(cpuRatio(ref ?? base)), 2)}×`,
      `${fmt(median(rs.map((r) => r.cpu_share)) * 100)} %`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', `(${rep} repeat(s); ratios are taken within each repeat, then the median and min–max of those.)`, '');
  return lines.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  // The fd-passing parent runs in this process: pin it to core 0 like the servers.
  if (!process.env.EDGEIO_UNIX_BENCH_PINNED) {
    const r = spawnSync('taskset', ['-c', '0', NODE, HERE, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, EDGEIO_UNIX_BENCH_PINNED: '1' } });
    process.exit(r.status ?? 1);
  }
  const b = spawnSync('bash', [path.join(__dirname, 'build-c.sh')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bench/build-c.sh failed:\n${b.stdout}${b.stderr}`);
  if (!fs.existsSync(path.join(DIST, 'index.js'))) throw new Error('dist/ missing: npm run build first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-unix-bench-'));
  const results = { date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, kernel: os.release(), load: os.loadavg(), options: o, parts: {} };
  const out = [];
  try {
    for (const part of o.parts) {
      const runs = {};
      if (part === 'echo64' || part === 'stream') {
        for (const s of Object.keys(SOCK_SERVERS)) runs[s] = [];
        for (let i = 0; i < o.repeats; i++) for (const s of Object.keys(SOCK_SERVERS)) runs[s].push(await sockCell(dir, part, s, o));
        const labels = Object.fromEntries(Object.entries(SOCK_SERVERS).map(([k, v]) => [k, v.label]));
        out.push(table(part === 'echo64' ? 'echo64 over a Unix socket: 100 conns, 64 B, 1 in flight' : 'stream over a Unix socket: 4 conns, 64 KiB writes echoed, 1 MiB window', part === 'echo64' ? 'round trips/s' : '64 KiB chunks/s', 'µs/op', labels, runs, 'node', 'c'));
      } else if (part === 'pipe') {
        for (const s of Object.keys(PIPE_READERS)) runs[s] = [];
        for (let i = 0; i < o.repeats; i++) for (const s of Object.keys(PIPE_READERS)) runs[s].push(await pipeCell(dir, s, o));
        const labels = Object.fromEntries(Object.entries(PIPE_READERS).map(([k, v]) => [k, v.label]));
        out.push(table(`pipe: dd writes ${o.pipeMiB} MiB in 64 KiB blocks, the reader reads to EOF`, 'MiB/s', 'µs/MiB', labels, runs, 'node-fs', null));
      } else if (part === 'fds') {
        for (const depth of [1, 16]) {
          const r = { edgeio: [], node: [] };
          for (let i = 0; i < o.repeats; i++) for (const s of ['edgeio', 'node']) r[s].push(await fdsCell(dir, s, o, depth));
          runs[`depth${depth}`] = r;
          out.push(table(`fd passing: 1 byte + a listening TCP socket's fd, answered with 1 byte, ${depth} in flight`, 'round trips/s', 'µs/round trip (parent)', { edgeio: 'edgeio sendWithFds / recvWithFds', node: 'Node child.send(msg, server)' }, r, 'node', null));
          if (depth === 1) console.log(out[out.length - 1]);
        }
      } else if (part === 'splice') {
        for (const dirn of ['s2p', 'p2s']) {
          const r = {};
          for (const how of Object.keys(SPLICE_MOVERS)) r[how] = [];
          for (let i = 0; i < o.repeats; i++) for (const how of Object.keys(SPLICE_MOVERS)) r[how].push(await spliceCell(dir, dirn, how, o));
          runs[dirn] = r;
          const what = dirn === 's2p' ? 'TCP socket -> FIFO (Node sender, dd drains)' : 'FIFO -> TCP socket (dd fills, Node sink)';
          out.push(table(`splice: ${o.spliceMiB} MiB ${what}; the mover on core 0, its peers on core 1`, 'MiB/s', 'ms/GiB', SPLICE_MOVERS, r, 'node', null));
          if (dirn === 's2p') console.log(out[out.length - 1]);
        }
      } else if (part === 'proxy') {
        const r = {};
        for (const how of Object.keys(PROXY_MOVERS)) r[how] = [];
        for (let i = 0; i < o.repeats; i++) for (const how of Object.keys(PROXY_MOVERS)) r[how].push(await spliceCell(dir, 's2s', how, o));
        runs.s2s = r;
        out.push(table(`proxy: ${o.spliceMiB} MiB TCP socket -> TCP socket (Node sender, Node sink); the mover on core 0, its peers on core 1`, 'MiB/s', 'ms/GiB', PROXY_MOVERS, r, 'node', null));
      } else {
        throw new Error(`unknown part ${part}`);
      }
      results.parts[part] = runs;
      console.log(out[out.length - 1]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  results.loadAfter = os.loadavg();
  const resDir = path.join(__dirname, 'results');
  fs.mkdirSync(resDir, { recursive: true });
  const stamp = results.date.replace(/[:.]/g, '-').slice(0, 19);
  fs.writeFileSync(path.join(resDir, `unix-${stamp}.json`), JSON.stringify(results, null, 1));
  fs.writeFileSync(path.join(resDir, `unix-${stamp}.md`), `Machine: ${results.cpu}, ${results.cores} cores, Node ${results.node}, load ${results.load.map((x) => x.toFixed(1)).join(' ')}\n\n${out.join('\n')}`);
  console.log(`load average before ${results.load.map((x) => x.toFixed(1)).join(' ')}, after ${results.loadAfter.map((x) => x.toFixed(1)).join(' ')}`);
}

// ===== entry: a role (child process) or the parent =====

const role = process.argv[2];
if (role === '--serve-edgeio') serveEdgeio(process.argv[3]);
else if (role === '--serve-node') serveNode(process.argv[3]);
else if (role === '--read-edgeio') readEdgeio(process.argv[3]);
else if (role === '--read-node-fs') readNodeFs(process.argv[3]);
else if (role === '--read-node-stdin') readNodeStdin();
else if (role === '--fds-edgeio-child') fdsEdgeioChild(process.argv[3]);
else if (role === '--fds-node-child') fdsNodeChild();
else if (role === '--splice-server') spliceServer(process.argv[3], process.argv[4], process.argv[5], process.argv[6]);
else if (role === '--splice-sender') spliceSender(process.argv[3], process.argv[4]);
else if (role === '--splice-sink') spliceSink();
else main().catch((e) => {
  console.error(e);
  process.exit(1);
});
