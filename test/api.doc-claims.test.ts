/**
 * Regressions found by a review of the docs against the code (2026-11-24):
 * - the README's `timeout(...).catch(...)` threw: futures had no catch/finally;
 * - bad arguments to some public entry points resolved or failed later
 *   instead of throwing at the call (README: "Bad arguments throw at the call");
 * - pollRead with bad arguments parked and only threw once data arrived;
 * - TcpStream.fromFd left Nagle on while every other stream turns it off;
 * - an unawaited failed bind() was an unhandled rejection (crash by default).
 */
import {
  Context,
  fromPromise,
  joinAll,
  map,
  andThen,
  noopWaker,
  ready,
  sleep,
  Sleep,
  timeout,
  Timeout,
  TcpListener,
  TcpStream,
  PENDING,
} from '../src';
import { native } from '../src/sys/native';
import { expectThrow } from './util/expect';
import { socketPair } from './util/native';
import { DIST, nodeChild } from './util/proc';

describe('what the docs promise', () => {
  test('futures have catch and finally, as the README uses them', async () => {
    expect(await timeout(5, sleep(1000)).catch((e) => (e as { code?: string }).code)).toBe('ETIMEDOUT');
    let ran = false;
    expect(await sleep(1).finally(() => (ran = true))).toBeUndefined();
    expect(ran).toBe(true);
    expect(await ready(7).catch(() => 0)).toBe(7);
  });

  test('bad arguments throw at the call', () => {
    expectThrow(() => new Sleep(NaN), 'TypeError');
    expectThrow(() => new Sleep('x' as unknown as number), 'TypeError');
    expectThrow(() => new Timeout(ready(1), NaN), 'RangeError');
    expectThrow(() => new Timeout(5 as never, 10), 'TypeError');
    expectThrow(() => sleep(1).reset(NaN), 'TypeError');
    expectThrow(() => timeout(10, 123 as never), 'TypeError');
    expectThrow(() => timeout(10, null as never), 'TypeError');
    expectThrow(() => fromPromise(5 as never), 'TypeError');
    expectThrow(() => joinAll(5 as never), 'TypeError');
    expectThrow(() => map(ready(1), 'notfn' as never), 'TypeError');
    expectThrow(() => andThen(ready(1), null as never), 'TypeError');
    expectThrow(() => TcpListener.bind('127.0.0.1:0', null as never), 'TypeError');
  });

  test('pollRead with bad arguments throws at the call even when it would park', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const [client, server] = await Promise.all([TcpStream.connect(`127.0.0.1:${listener.localAddr().port}`), listener.accept()]);
    try {
      const cx = new Context(noopWaker);
      const buf = Buffer.alloc(8);
      expect(server.pollRead(cx, buf)).toBe(PENDING); // nothing sent: it parks
      expectThrow(() => server.pollRead(cx, buf, -5), 'RangeError');
      expectThrow(() => server.pollRead(cx, buf, 0, 1e6), 'RangeError');
      expectThrow(() => server.pollRead(cx, 'str' as never), 'TypeError');
    } finally {
      client.close();
      server.close();
      listener.close();
    }
  });

  test('TcpStream.fromFd turns Nagle off like every other stream', () => {
    const pair = socketPair();
    const s = TcpStream.fromFd(pair.client);
    try {
      const out = new Int32Array(1);
      expect(native.getOption(pair.client, native.options.NO_DELAY, out)).toBe(0);
      expect(out[0]).toBe(1);
    } finally {
      s.close(); // owns pair.client now
      native.close(pair.server);
    }
  });

  test('a failed bind nobody awaits is not an unhandled rejection', async () => {
    const child = nodeChild(
      `
      const { TcpListener } = require(${JSON.stringify(DIST)});
      let unhandled = 0;
      process.on('unhandledRejection', () => unhandled++);
      (async () => {
        const l = await TcpListener.bind('127.0.0.1:0');
        const port = l.localAddr().port;
        TcpListener.bind('127.0.0.1:' + port); // EADDRINUSE, never awaited
        let code = null;
        try { await TcpListener.bind('127.0.0.1:' + port); } catch (e) { code = e.code; }
        setTimeout(() => { console.log('RESULT ' + JSON.stringify({ code, unhandled })); l.close(); }, 50);
      })();
      `,
      1024,
    );
    try {
      const line = await child.waitFor(/^RESULT /, 15000);
      expect(JSON.parse(line.slice('RESULT '.length))).toEqual({ code: 'EADDRINUSE', unhandled: 0 });
      expect(await child.exit(10000)).toBe(0);
    } finally {
      await child.stop();
    }
  });
});
