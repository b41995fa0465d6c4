/**
 * Syscall failures come back as negative codes and become Node-shaped errors.
 */
import * as net from 'net';
import * as path from 'path';
import { native, ok, listenLoopback, sleepSync } from './util/native';
import { IoDriver } from '../src/io/driver';
import { systemError } from '../src/sys/errors';
import { selectorCalls, SELECTOR_CALLS } from '../src/sys/selector-calls';
import { DIST, nodeChild } from './util/proc';
import { ERRNO_NAMES, errnoTableMismatch } from '../src/sys/native';

describe('syscall errors', () => {
  test('connect to a closed port: ECONNREFUSED, Node-shaped', () => {
    // Find a port nobody listens on: bind, read the port, close.
    const l = listenLoopback();
    const port = l.port;
    native.close(l.fd);
    const fd = ok(native.socket(4));
    try {
      let r = native.connect(fd, '127.0.0.1', port);
      if (r === native.errno.EINPROGRESS) {
        // The refusal arrives asynchronously; SO_ERROR carries it.
        const out = new Int32Array(1);
        const deadline = Date.now() + 2000;
        do {
          sleepSync(2);
          ok(native.getOption(fd, native.options.ERROR, out));
        } while (out[0] === 0 && Date.now() < deadline);
        r = out[0];
      }
      expect(r).toBe(native.errno.ECONNREFUSED);
      const err = systemError(r, 'connect', { address: '127.0.0.1', port });
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ECONNREFUSED');
      expect(err.errno).toBe(native.errno.ECONNREFUSED);
      expect(err.syscall).toBe('connect');
      expect(err.address).toBe('127.0.0.1');
      expect(err.port).toBe(port);
      expect(err.message).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    } finally {
      native.close(fd);
    }
  });

  test('our error matches the one Node\'s net raises for the same failure', async () => {
    const l = listenLoopback();
    const port = l.port;
    native.close(l.fd);
    const nodeErr = await new Promise<NodeJS.ErrnoException>((resolve) => {
      net.connect(port, '127.0.0.1').on('error', resolve);
    });
    const ours = systemError(native.errno.ECONNREFUSED, 'connect', { address: '127.0.0.1', port });
    expect({ code: ours.code, errno: ours.errno, syscall: ours.syscall, message: ours.message }).toEqual({
      code: nodeErr.code,
      errno: nodeErr.errno,
      syscall: nodeErr.syscall,
      message: nodeErr.message,
    });
  });

  test('operations on a closed fd: EBADF', () => {
    const fd = ok(native.socket(4));
    ok(native.close(fd));
    const r = native.read(fd, Buffer.alloc(4), 0, 4);
    expect(r).toBe(native.errno.EBADF);
    expect(native.close(fd)).toBe(native.errno.EBADF);
    const err = systemError(r, 'read');
    expect(err.code).toBe('EBADF');
    expect(err.syscall).toBe('read');
    expect(err.message).toBe('read EBADF');
  });

  test('double bind: EADDRINUSE', () => {
    const a = listenLoopback();
    const b = ok(native.socket(4));
    try {
      const r = native.bind(b, '127.0.0.1', a.port);
      expect(r).toBe(native.errno.EADDRINUSE);
      const err = systemError(r, 'bind', { address: '127.0.0.1', port: a.port });
      expect(err.code).toBe('EADDRINUSE');
      expect(err.message).toBe(`bind EADDRINUSE 127.0.0.1:${a.port}`);
    } finally {
      native.close(a.fd);
      native.close(b);
    }
  });

  test('an address that is not a numeric IP: EINVAL, no throw', () => {
    const fd = ok(native.socket(4));
    try {
      expect(native.bind(fd, 'localhost', 0)).toBe(native.errno.EINVAL);
      expect(native.connect(fd, '999.1.1.1', 80)).toBe(native.errno.EINVAL);
    } finally {
      native.close(fd);
    }
  });

  test('IPv6 loopback sockets work and report their address', () => {
    const fd = native.socket(6);
    if (fd < 0) throw new Error(`socket(6) failed with ${fd}`);
    try {
      const r = native.bind(fd, '::1', 0);
      // A machine without ::1 reports EADDRNOTAVAIL; this one has it (see README).
      expect(r).toBe(0);
      const addr = native.localAddress(fd);
      expect(addr).toEqual({ address: '::1', family: 'IPv6', port: expect.any(Number) });
    } finally {
      native.close(fd);
    }
  });

  // Issue 11: selector failures said `epoll_*` on every OS.
  test('selector errors name the call of this OS, not epoll everywhere', () => {
    expect(selectorCalls).toBe(SELECTOR_CALLS[native.backend]);
    const names = (b: keyof typeof SELECTOR_CALLS) => Object.values(SELECTOR_CALLS[b]).join(' ');
    expect(names('kqueue')).not.toMatch(/epoll/);
    expect(names('iocp')).not.toMatch(/epoll/);
    expect(SELECTOR_CALLS.kqueue).toMatchObject({ open: 'kqueue', register: 'kevent', select: 'kevent' });
    // The calls selector_win.cc makes: a completion port, IOCTL_AFD_POLL, its dequeue.
    expect(SELECTOR_CALLS.iocp).toMatchObject({
      open: 'CreateIoCompletionPort',
      register: 'NtDeviceIoControlFile',
      select: 'GetQueuedCompletionStatusEx',
    });
  });

  test('a failed select reaching the turn is a Node-shaped error naming the wait call', () => {
    const drv = new IoDriver(null);
    try {
      expect(() => drv.dispatch(native.errno.EBADF)).toThrow(
        expect.objectContaining({ code: 'EBADF', syscall: selectorCalls.select, message: `${selectorCalls.select} EBADF` }),
      );
    } finally {
      drv.shutdown();
    }
  });

  test('a selector that cannot be opened (EMFILE) reports the open call of this OS', async () => {
    const child = nodeChild(
      `
      const fs = require('fs');
      const { IoDriver } = require(${JSON.stringify(path.join(DIST, 'io/driver'))});
      const held = [];
      try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch {}
      try { new IoDriver(null); console.log('RESULT opened'); }
      catch (e) { console.log('RESULT ' + e.code + ' ' + e.syscall + ' ' + e.message); }
      for (const fd of held) fs.closeSync(fd);
      `,
      64,
    );
    try {
      const line = await child.waitFor(/^RESULT /, 10000);
      expect(line).toBe(`RESULT EMFILE ${selectorCalls.open} ${selectorCalls.open} EMFILE`);
    } finally {
      await child.stop();
    }
  });

  test('the errno table is checked at load against Node\'s numbering on this OS', () => {
    // The loaded table passed (or loading would have thrown); check it again
    // and show that each kind of disagreement is caught.
    expect(errnoTableMismatch(native.errno)).toBeNull();
    expect(Object.keys(native.errno).sort()).toEqual([...ERRNO_NAMES].sort());
    const swapped = { ...native.errno, EAGAIN: native.errno.EINTR };
    expect(errnoTableMismatch(swapped)).toMatch(/^EAGAIN = .*Node names EINTR/);
    const positive = { ...native.errno, EPIPE: -native.errno.EPIPE };
    expect(errnoTableMismatch(positive)).toMatch(/^EPIPE = /);
    const { EBUSY: _dropped, ...missing } = native.errno;
    expect(errnoTableMismatch(missing)).toMatch(/^names /);
    expect(errnoTableMismatch({ ...native.errno, EXTRA: -1 })).toMatch(/^names /);
    const inProgress = { ...native.errno, EINPROGRESS: native.errno.EAGAIN };
    expect(errnoTableMismatch(inProgress)).toMatch(/^EINPROGRESS = /);
  });
});
