/**
 * BufReader and BufWriter: lines, delimiters, fillBuf/consume, bounded
 * lines, cancel safety, and the same over TcpStream and split halves.
 */
import fc from 'fast-check';
import { BufReader, BufWriter, TcpListener, TcpStream, select, sleep, spawn, timeout } from '../src';
import { expectThrow, rejection } from './util/expect';
import { mock, PENDING } from './util/mock-task';
import { RecordingWriter, ScriptedReader } from './util/mock-io';

async function allLines(r: BufReader): Promise<string[]> {
  const out: string[] = [];
  for await (const l of r.lines()) out.push(l);
  return out;
}

describe('BufReader', () => {
  test('lines(): \\n and \\r\\n stripped, empty lines kept, a last line without newline returned', async () => {
    const r = new BufReader(new ScriptedReader(['one\r\ntw', 'o\n\nthree']));
    expect(await allLines(r)).toEqual(['one', 'two', '', 'three']);
    expect(await r.readLine()).toBeUndefined();
  });

  test('property: any chunking of any text gives the same lines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '€', '\n', '\r\n', ' ') }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 16 }),
        async (parts, cuts, capacity) => {
          const bytes = Buffer.from(parts.join(''));
          const chunks: Buffer[] = [];
          for (let i = 0, k = 0; i < bytes.length; k++) {
            const n = cuts[k % cuts.length];
            chunks.push(bytes.subarray(i, i + n));
            i += n;
          }
          const expected = bytes.toString().split('\n').map((l) => l.replace(/\r$/, ''));
          if (expected[expected.length - 1] === '') expected.pop();
          const got = await allLines(new BufReader(new ScriptedReader(chunks), { capacity }));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('readUntil: includes the delimiter; the rest at end of stream; empty after', async () => {
    const r = new BufReader(new ScriptedReader(['a\0bb\0', 'ccc']), { capacity: 2 });
    expect((await r.readUntil(0)).toString()).toBe('a\0');
    expect((await r.readUntil(0)).toString()).toBe('bb\0');
    expect((await r.readUntil(0)).toString()).toBe('ccc');
    expect((await r.readUntil(0)).length).toBe(0);
    expectThrow(() => r.readUntil(256), 'RangeError');
  });

  test('a line over maxLineLength fails with ERR_LINE_TOO_LONG, memory stays bounded, the next line is read', async () => {
    const src = new ScriptedReader([], false);
    const r = new BufReader(src, { capacity: 16, maxLineLength: 100 });
    src.push('ok\n');
    for (let i = 0; i < 100; i++) src.push('x'.repeat(50)); // 5,000 bytes, no newline
    src.push('tail\nnext\n');
    src.end();
    expect(await r.readLine()).toBe('ok');
    expect((await rejection(r.readLine())).code).toBe('ERR_LINE_TOO_LONG');
    // The buffer grew to the limit (plus the delimiter), not to 5,000 bytes.
    expect((r as unknown as { buf: Buffer }).buf.length).toBeLessThanOrEqual(101);
    expect(await r.readLine()).toBe('next'); // the rest of the long line was skipped
    expect(await r.readLine()).toBeUndefined();
  });

  test('readLine is cancel-safe: a dropped one leaves the partial line for the next', async () => {
    const src = new ScriptedReader(['hel'], false);
    const r = new BufReader(src, { capacity: 4 });
    const first = mock(r.readLine());
    expect(first.poll()).toBe(PENDING);
    src.push('lo wor');
    expect(first.isWoken()).toBe(true);
    expect(first.poll()).toBe(PENDING);
    first.drop();
    src.push('ld\n');
    expect(await r.readLine()).toBe('hello world');
    // And through a select that loses.
    const lost = await select(r.readLine(), sleep(2));
    expect(lost.index).toBe(1);
    src.push('again\n');
    expect(await r.readLine()).toBe('again');
  });

  test('fillBuf / consume', async () => {
    const r = new BufReader(new ScriptedReader(['abcdef']), { capacity: 4 });
    const b = await r.fillBuf();
    expect(Buffer.from(b).toString()).toBe('abcd');
    r.consume(1);
    expect(Buffer.from(await r.fillBuf()).toString()).toBe('bcd'); // no read: still buffered
    expectThrow(() => r.consume(4), 'RangeError');
    r.consume(3);
    expect(Buffer.from(await r.fillBuf()).toString()).toBe('ef');
    r.consume(2);
    expect((await r.fillBuf()).length).toBe(0); // end of stream
  });

  test('read: small reads from the buffer, large reads straight from the source', async () => {
    const src = new ScriptedReader(['0123456789', 'abcdefghijklmnopqrstuvwxyz']);
    const r = new BufReader(src, { capacity: 8 });
    const small = Buffer.alloc(3);
    expect(await r.read(small)).toBe(3);
    expect(small.toString()).toBe('012');
    expect(src.reads).toBe(1);
    expect(await r.read(small)).toBe(3);
    expect(src.reads).toBe(1);
    const rest = Buffer.alloc(2);
    await r.readExact(rest);
    expect(rest.toString()).toBe('67');
    const big = Buffer.alloc(64);
    expect(await r.read(big)).toBe(2); // '89' from the source's first chunk
    expect(await r.read(big)).toBe(26); // bypass: straight into big
    expect(big.subarray(0, 26).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(await r.read(big)).toBe(0);
  });

  test('bad arguments', () => {
    expectThrow(() => new BufReader({} as never), 'TypeError');
    expectThrow(() => new BufReader(new ScriptedReader(), { capacity: 0 }), 'RangeError');
    expectThrow(() => new BufReader(new ScriptedReader(), { maxLineLength: -1 }), 'RangeError');
  });

  test('over a TcpStream and over split halves', async () => {
    const listener = await TcpListener.bind('127.0.0.1:0');
    const server = spawn(async () => {
      const s = await listener.accept();
      const [rd, wr] = s.split();
      const out = new BufWriter(wr);
      for await (const line of new BufReader(rd).lines()) await out.writeAll(Buffer.from(`${line.length}:${line}\n`));
      await out.shutdown();
      rd.close();
      wr.close();
    });
    const c = await TcpStream.connect(listener.localAddr());
    try {
      const lines = Array.from({ length: 200 }, (_, i) => 'x'.repeat(i * 97));
      const writer = spawn(async () => {
        for (const l of lines) await c.writeAll(Buffer.from(l + '\r\n'));
        await c.shutdown();
      });
      const got = await timeout(10_000, allLines(new BufReader(c)));
      await writer;
      expect(got).toEqual(lines.map((l) => `${l.length}:${l}`));
      await timeout(5000, server);
    } finally {
      c.close();
      listener.close();
    }
  });
});

describe('BufWriter', () => {
  test('small writes are buffered until flush; shutdown flushes first', async () => {
    const sink = new RecordingWriter();
    const w = new BufWriter(sink, { capacity: 16 });
    await w.writeAll(Buffer.from('abc'));
    await w.write(Buffer.from('def'));
    expect(sink.writes).toHaveLength(0);
    expect(w.bufferedLength).toBe(6);
    await w.flush();
    expect(sink.data.toString()).toBe('abcdef');
    await w.writeAll(Buffer.from('gh'));
    await w.shutdown();
    expect(sink.data.toString()).toBe('abcdefgh');
    expect(sink.shutdowns).toBe(1);
  });

  test('a write that would overflow flushes first; a large one bypasses the buffer', async () => {
    const sink = new RecordingWriter();
    const w = new BufWriter(sink, { capacity: 8 });
    await w.writeAll(Buffer.from('12345'));
    await w.writeAll(Buffer.from('6789'));
    expect(sink.writes.map(String)).toEqual(['12345']);
    await w.writeAll(Buffer.alloc(20, 'z'));
    expect(sink.writes.map(String)).toEqual(['12345', '6789', 'z'.repeat(20)]);
    await w.writevAll([Buffer.from('a'), Buffer.from('b')]);
    await w.flush();
    expect(sink.data.toString().endsWith('ab')).toBe(true);
  });

  test('partial writes of the writer: flush keeps going until all is out', async () => {
    const sink = new RecordingWriter(3);
    const w = new BufWriter(sink, { capacity: 64 });
    await w.writeAll(Buffer.from('abcdefghij'));
    await w.flush();
    expect(sink.data.toString()).toBe('abcdefghij');
    expect(sink.writes.length).toBe(4);
  });
});

test('BufWriter: `await using` flushes at the end of the scope', async () => {
  const sink = new RecordingWriter();
  {
    await using out = new BufWriter(sink);
    await out.writeAll(Buffer.from('kept'));
    expect(sink.writes).toHaveLength(0);
  }
  expect(sink.data.toString()).toBe('kept');
});
