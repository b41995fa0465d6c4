/**
 * LinesCodec (tokio-util codecs tests, lines_decoder*): lines, max length
 * with discard-and-continue, the last line at end of stream, encoding.
 */
import { FramedRead, LinesCodec, TcpListener, TcpStream, spawn, timeout } from '../src';
import { expectThrow, rejection } from './util/expect';
import { RecordingWriter, ScriptedReader } from './util/mock-io';

async function lines(r: FramedRead<string>): Promise<string[]> {
  const out: string[] = [];
  for (let l; (l = await r.readFrame()) !== undefined; ) out.push(l);
  return out;
}

test('lines_decoder: lines split anywhere, \\r\\n stripped, last line at end of stream', async () => {
  const r = LinesCodec.reader(new ScriptedReader(['line 1\nline', ' 2\r', '\n\nline 3']));
  expect(await lines(r)).toEqual(['line 1', 'line 2', '', 'line 3']);
});

test('lines_decoder_max_length: one error for the long line, then decoding goes on', async () => {
  const r = new FramedRead(
    new ScriptedReader(['line 1 is too long\nline 2\n', 'line 3 is also', ' too long\nline 4\n']),
    new LinesCodec({ maxLength: 6 }),
    { capacity: 4 },
  );
  expect((await rejection(r.readFrame())).code).toBe('ERR_LINE_TOO_LONG');
  expect(await r.readFrame()).toBe('line 2');
  expect((await rejection(r.readFrame())).code).toBe('ERR_LINE_TOO_LONG');
  expect(await r.readFrame()).toBe('line 4');
  expect(await r.readFrame()).toBeUndefined();
});

test('a flood without newline keeps memory bounded', async () => {
  const chunks = Array.from({ length: 200 }, () => 'y'.repeat(1000));
  const r = new FramedRead(new ScriptedReader([...chunks, '\nafter\n']), new LinesCodec({ maxLength: 100 }), { capacity: 16 });
  expect((await rejection(r.readFrame())).code).toBe('ERR_LINE_TOO_LONG');
  expect(await r.readFrame()).toBe('after');
  expect((r as unknown as { src: { bytes: Buffer } }).src.bytes.length).toBeLessThan(4096);
});

test('encode: a newline is appended; a newline inside, or a line over the maximum, is a RangeError', async () => {
  const sink = new RecordingWriter();
  const w = LinesCodec.writer(sink, { maxLength: 5 });
  await w.send('hé');
  expect(sink.data.toString()).toBe('hé\n');
  expectThrow(() => w.send('a\nb'), 'RangeError');
  expectThrow(() => w.send('toolong'), 'RangeError');
  expectThrow(() => w.send(5 as never), 'TypeError');
  expectThrow(() => new LinesCodec({ maxLength: -1 }), 'RangeError');
});

test('a line protocol over TCP', async () => {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const server = spawn(async () => {
    const s = await listener.accept();
    const out = LinesCodec.writer(s);
    for await (const line of LinesCodec.reader(s)) await out.send(line.split('').reverse().join(''));
    s.close();
  });
  const c = await TcpStream.connect(listener.localAddr());
  try {
    const out = LinesCodec.writer(c);
    const input = LinesCodec.reader(c);
    for (const word of ['hello', 'wörld', '']) {
      await out.send(word);
      expect(await timeout(5000, input.readFrame())).toBe(word.split('').reverse().join(''));
    }
    await c.shutdown();
    expect(await timeout(5000, input.readFrame())).toBeUndefined();
    await timeout(5000, server);
  } finally {
    c.close();
    listener.close();
  }
});
