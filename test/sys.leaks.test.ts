/**
 * No descriptor leaks: opening and closing 1,000 sockets (and connected
 * pairs through a selector) leaves the fd count where it started.
 */
import { native, ok, fdCount, listenLoopback, connectLoopback, acceptOne } from './util/native';

describe('descriptor leaks', () => {
  test('1,000 sockets opened and closed', () => {
    const before = fdCount();
    const fds: number[] = [];
    for (let i = 0; i < 1000; i++) fds.push(ok(native.socket(i % 2 === 0 ? 4 : 6)));
    expect(fdCount()).toBe(before + 1000);
    for (const fd of fds) ok(native.close(fd));
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
  });

  test('1,000 connections accepted, registered, deregistered and closed', () => {
    const sel = ok(native.selectorOpen());
    const before = fdCount();
    const l = listenLoopback(1024);
    for (let i = 0; i < 500; i++) {
      const c = connectLoopback(l.port);
      const s = acceptOne(l.fd);
      ok(native.selectorRegister(sel, c, 1 + i * 2, 3));
      ok(native.selectorRegister(sel, s, 2 + i * 2, 3));
      ok(native.selectorDeregister(sel, c));
      ok(native.selectorDeregister(sel, s));
      ok(native.close(c));
      ok(native.close(s));
    }
    ok(native.close(l.fd));
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
    ok(native.selectorClose(sel));
  });

  test('selectors opened and closed release their epoll and waker fds', () => {
    const before = fdCount();
    for (let i = 0; i < 200; i++) ok(native.selectorClose(ok(native.selectorOpen())));
    expect(fdCount()).toBeLessThanOrEqual(before); // no leak (another file's late close may dip it)
  });
});
