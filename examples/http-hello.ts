/**
 * A minimal HTTP/1.1 server: keep-alive, pipelined requests answered in order
 * (all responses to one read go out in one gather write), Content-Length
 * request bodies, `Connection: close`, HTTP/1.0, and `400 Bad Request` for
 * malformed input. Every response says "Hello, World!" and names the request
 * target in an `X-Path` header.
 *
 *   node build/ts/examples/http-hello.js 8080   (then: curl http://127.0.0.1:8080/)
 */
import { spawn, TcpListener, TcpStream } from '../src';

/** Largest request head accepted (request line + headers). */
const MAX_HEAD = 8 * 1024;
/** Largest request body accepted. */
const MAX_BODY = 1024 * 1024;

const BODY = Buffer.from('Hello, World!');
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.([01])$/;
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

interface Request {
  method: string;
  target: string;
  keepAlive: boolean;
  bodyLength: number;
}

/** Parses a request head (without the final CRLFCRLF); null when malformed. */
export function parseHead(head: string): Request | null {
  const lines = head.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (m === null) return null;
  const http11 = m[3] === '1';
  let keepAlive = http11;
  let bodyLength = 0;
  for (let i = 1; i < lines.length; i++) {
    const h = HEADER.exec(lines[i]);
    if (h === null) return null;
    const name = h[1].toLowerCase();
    const value = h[2];
    if (name === 'content-length') {
      if (!/^\d{1,9}$/.test(value)) return null;
      bodyLength = Number(value);
      if (bodyLength > MAX_BODY) return null;
    } else if (name === 'transfer-encoding') {
      return null; // chunked bodies are out of scope for this example
    } else if (name === 'connection') {
      const v = value.toLowerCase();
      if (v === 'close') keepAlive = false;
      else if (v === 'keep-alive') keepAlive = true;
    }
  }
  return { method: m[1], target: m[2], keepAlive, bodyLength };
}

function response(req: Request): Buffer {
  const head =
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n` +
    `X-Path: ${req.target}\r\n${req.keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
  return req.method === 'HEAD' ? Buffer.from(head) : Buffer.concat([Buffer.from(head), BODY]);
}

/** Serves one connection until it closes or asks to. */
export async function serveConnection(stream: TcpStream): Promise<void> {
  let buf = Buffer.allocUnsafe(16 * 1024);
  let len = 0;
  try {
    for (;;) {
      if (len === buf.length) {
        // Grow only while a body is still arriving; heads are capped.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = await stream.read(buf, len, buf.length - len);
      if (n === 0) return;
      len += n;
      const out: Buffer[] = [];
      let off = 0;
      let close = false;
      while (!close) {
        const end = buf.indexOf(CRLF2, off);
        if (end < 0 || end >= len) {
          if (len - off > MAX_HEAD) {
            out.push(BAD_REQUEST);
            close = true;
          }
          break;
        }
        const req = parseHead(buf.toString('latin1', off, end));
        if (req === null) {
          out.push(BAD_REQUEST);
          close = true;
          break;
        }
        const next = end + 4 + req.bodyLength;
        if (next > len) break; // body not complete yet
        out.push(response(req));
        off = next;
        if (!req.keepAlive) close = true;
      }
      // Responses to everything parsed from this read: one gather write.
      if (out.length > 0) await stream.writevAll(out);
      if (close) return;
      buf.copy(buf, 0, off, len);
      len -= off;
    }
  } finally {
    stream.close();
  }
}

export async function startHttpServer(port = 0, host = '127.0.0.1'): Promise<TcpListener> {
  const listener = await TcpListener.bind({ host, port, backlog: 1024 });
  spawn(async () => {
    for await (const stream of listener) {
      spawn(serveConnection(stream).catch(() => undefined));
    }
  });
  return listener;
}

if (require.main === module) {
  void startHttpServer(Number(process.argv[2] ?? 8080)).then((l) => console.log('http on', l.localAddr()));
}
