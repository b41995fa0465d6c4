// edgeio HTTP/1.1 plaintext server, async/await style: keep-alive, pipelining
// (all responses to one read in one gather write), 400 on malformed input.
//   node bench/servers/http.js PORT     (after npm run build)
'use strict';
const { TcpListener, spawn } = require('../../dist');
require('./stats');

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) throw new Error('usage: http.js PORT');

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
);
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD = 8 * 1024;

/** Content-Length of a request head, 0 if absent, -1 if malformed. */
function bodyLength(buf, start, end) {
  // Fast path: most benchmark requests carry no body.
  const i = buf.indexOf('ontent-', start, 'latin1');
  if (i < 0 || i > end) return 0;
  const head = buf.toString('latin1', start, end).toLowerCase();
  const m = /\r\ncontent-length:[ \t]*(\d{1,9})[ \t]*(\r\n|$)/.exec(head);
  if (m !== null) return Number(m[1]);
  return /\r\ncontent-length:/.test(head) ? -1 : 0;
}

/** A plausible request line: METHOD SP target SP HTTP/1.x */
function validRequestLine(buf, start, end) {
  const eol = buf.indexOf(13, start); // '\r'
  const lineEnd = eol < 0 || eol > end ? end : eol;
  const sp1 = buf.indexOf(32, start);
  if (sp1 <= start || sp1 >= lineEnd) return false;
  const sp2 = buf.indexOf(32, sp1 + 1);
  if (sp2 <= sp1 + 1 || sp2 >= lineEnd) return false;
  return lineEnd - sp2 === 9 && buf.toString('latin1', sp2 + 1, sp2 + 8) === 'HTTP/1.';
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
        const end = buf.indexOf(CRLF2, off);
        if (end < 0 || end >= len) {
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
      }
      if (responses === 1) {
        await stream.writeAll(RESPONSE);
      } else if (responses > 1) {
        await stream.writevAll(new Array(responses).fill(RESPONSE));
      }
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

(async () => {
  const listener = await TcpListener.bind({ host: '127.0.0.1', port, backlog: 1024 });
  for await (const stream of listener) spawn(serve(stream));
})();
