// edgeio HTTP/1.1 plaintext server, async/await style: keep-alive, pipelining
// (all responses to one read in one write), Content-Length bodies skipped,
// 400 on malformed input.
//   node bench/servers/http.js PORT     (after npm run build)
'use strict';
const { TcpListener, spawn } = require(process.env.EDGEIO_BENCH_DIST || '../../dist');
require('./stats');

// Run as a script it serves PORT; required (bench/servers/scale-worker.js)
// it only exports `serve`.
const port = Number(process.argv[2]);
if (require.main === module && !Number.isInteger(port)) throw new Error('usage: http.js PORT');

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
);
// Responses to a batch of pipelined requests go out as one write from this
// prebuilt run of copies (what uWS calls corking), not as many small writes.
const BATCH = 64;
const RESPONSES = Buffer.concat(new Array(BATCH).fill(RESPONSE));
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
const MAX_HEAD = 8 * 1024;

const CR = 13;
const LF = 10;
const SP = 32;
const CONTENT_LENGTH = Buffer.from('content-length:');

/** Index of the "\r\n\r\n" ending the head that starts at `from`, or -1. */
function headEnd(buf, from, len) {
  // A byte loop: for heads of a few dozen bytes it beats Buffer#indexOf,
  // whose fixed cost (a C++ call with encoding checks) dominates here.
  for (let i = from + 3; i < len; i++) {
    if (buf[i] === LF && buf[i - 1] === CR && buf[i - 2] === LF && buf[i - 3] === CR) return i - 3;
  }
  return -1;
}

/** A plausible request line: METHOD SP target SP HTTP/1.x CRLF */
function validRequestLine(buf, start, end) {
  let i = start;
  while (i < end && buf[i] > SP && buf[i] < 127) i++; // method token
  if (i === start || buf[i] !== SP) return false;
  const target = ++i;
  while (i < end && buf[i] > SP) i++;
  if (i === target || buf[i] !== SP) return false;
  i++;
  // "HTTP/1." + digit, then CR
  return (
    end - i >= 8 &&
    buf[i] === 72 && buf[i + 1] === 84 && buf[i + 2] === 84 && buf[i + 3] === 80 &&
    buf[i + 4] === 47 && buf[i + 5] === 49 && buf[i + 6] === 46 && (buf[i + 7] === 48 || buf[i + 7] === 49) &&
    (i + 8 === end || buf[i + 8] === CR)
  );
}

/** Content-Length of the head [start, end), 0 if absent, -1 if malformed. */
function bodyLength(buf, start, end) {
  for (let i = start; i < end; i++) {
    if (buf[i] !== LF) continue;
    const c = buf[i + 1] | 0x20; // lower-case a letter
    if (c !== 99 /* c */ || end - (i + 1) < CONTENT_LENGTH.length) continue;
    let k = 0;
    while (k < CONTENT_LENGTH.length && (buf[i + 1 + k] | (k < 14 ? 0x20 : 0)) === CONTENT_LENGTH[k]) k++;
    if (k !== CONTENT_LENGTH.length) continue;
    let j = i + 1 + k;
    while (j < end && (buf[j] === SP || buf[j] === 9)) j++;
    let n = 0;
    let digits = 0;
    while (j < end && buf[j] >= 48 && buf[j] <= 57 && digits < 10) n = n * 10 + (buf[j++] - 48), digits++;
    while (j < end && (buf[j] === SP || buf[j] === 9)) j++;
    if (digits === 0 || (j < end && buf[j] !== CR)) return -1;
    return n;
  }
  return 0;
}

/**
 * Sends `count` responses: write what the socket takes now (tryWrite, no
 * promise), and await only for a remainder under backpressure.
 */
function respond(stream, count) {
  const want = count * RESPONSE.length;
  const w = stream.tryWrite(RESPONSES, 0, want) ?? 0;
  return w < want ? stream.writeAll(RESPONSES, w, want - w) : undefined;
}

async function serve(stream) {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let len = 0;
  try {
    for (;;) {
      const n = await stream.read(buf, len, buf.length - len);
      if (n === 0) return;
      len += n;
      let off = 0;
      let responses = 0;
      let bad = false;
      for (;;) {
        const end = headEnd(buf, off, len);
        if (end < 0) {
          if (len - off > MAX_HEAD) bad = true;
          break;
        }
        const body = validRequestLine(buf, off, end) ? bodyLength(buf, off, end) : -1;
        if (body < 0) {
          bad = true;
          break;
        }
        if (end + 4 + body > len) break;
        responses++;
        off = end + 4 + body;
        if (responses === BATCH) {
          await respond(stream, responses);
          responses = 0;
        }
      }
      if (responses > 0) await respond(stream, responses);
      if (bad) {
        await stream.writeAll(BAD_REQUEST);
        return;
      }
      if (off < len) buf.copy(buf, 0, off, len);
      len -= off;
      if (len === buf.length) {
        await stream.writeAll(BAD_REQUEST);
        return;
      }
    }
  } catch {
    // reset by peer
  } finally {
    stream.close();
  }
}

module.exports = { serve };

if (require.main === module) {
  (async () => {
    const listener = await TcpListener.bind({ host: '127.0.0.1', port, backlog: 1024 });
    for await (const stream of listener) spawn(serve(stream));
  })();
}
