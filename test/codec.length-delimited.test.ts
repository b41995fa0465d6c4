/**
 * LengthDelimited (tokio-util length_delimited tests): framing over any
 * chunking, bounded frames, truncated streams, options, over TCP.
 */
import fc from 'fast-check';
import { FramedRead, LengthDelimited, TcpListener, TcpStream, spawn, timeout } from '../src';
import { expectThrow, rejection } from './util/expect';
import { RecordingWriter, ScriptedReader } from './util/mock-io';

function frame(payload: Buffer, width = 4): Buffer {
  const h = Buffer.alloc(width);
  h.writeUIntBE(payload.length, 0, width);
  return Buffer.concat([h, payload]);
}

async function readAllFrames(r: FramedRead<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of r) out.push(f.toString());
  return out;
}

test('decodes big-endian u32-prefixed frames, including empty ones', async () => {
  const bytes = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.alloc(0)), frame(Buffer.from('hello'))]);
  expect(await readAllFrames(LengthDelimited.reader(new ScriptedReader([bytes])))).toEqual(['abc', '', 'hello']);
});

test('property: any chunking decodes the same frames', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
      async (payloads, cuts) => {
        const bytes = Buffer.concat(payloads.map((p) => frame(Buffer.from(p))));
        const chunks: Buffer[] = [];
        for (let i = 0, k = 0; i < bytes.length; k++) {
          chunks.push(bytes.subarray(i, i + cuts[k % cuts.length]));
          i += cuts[k % cuts.length];
        }
        const r = new FramedRead(new ScriptedReader(chunks), new LengthDelimited(), { capacity: 8 });
        const got: Buffer[] = [];
        for await (const f of r) got.push(f);
        expect(got.map((b) => b.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
      },
    ),
    { numRuns: 100 },
  );
});

test('an announced frame over maxFrameLength fails with ERR_FRAME_TOO_LARGE before anything is allocated for it', async () => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffffffff);
  const r = new FramedRead(new ScriptedReader([header, Buffer.alloc(100)]), new LengthDelimited(), { capacity: 64 });
  expect((await rejection(r.readFrame())).code).toBe('ERR_FRAME_TOO_LARGE');
  expect((r as unknown as { src: { bytes: Buffer } }).src.bytes.length).toBe(64);
  const small = new FramedRead(new ScriptedReader([frame(Buffer.alloc(11))]), new LengthDelimited({ maxFrameLength: 10 }));
  expect((await rejection(small.readFrame())).code).toBe('ERR_FRAME_TOO_LARGE');
});

test('a stream that ends inside a frame fails with ERR_UNEXPECTED_EOF; at a boundary it ends cleanly', async () => {
  const cut = frame(Buffer.from('abcdef')).subarray(0, 7);
  const r = LengthDelimited.reader(new ScriptedReader([frame(Buffer.from('ok')), cut]));
  expect((await r.readFrame())?.toString()).toBe('ok');
  expect((await rejection(r.readFrame())).code).toBe('ERR_UNEXPECTED_EOF');
  const clean = LengthDelimited.reader(new ScriptedReader([frame(Buffer.from('ok'))]));
  await clean.readFrame();
  expect(await clean.readFrame()).toBeUndefined();
});

test('options: 2-byte little-endian length field', async () => {
  const codec = new LengthDelimited({ lengthFieldLength: 2, littleEndian: true });
  const [h, p] = codec.encode(Buffer.from('xyz'));
  expect(Buffer.from(h)).toEqual(Buffer.from([3, 0]));
  const r = new FramedRead(new ScriptedReader([Buffer.concat([h, p])]), codec);
  expect((await r.readFrame())?.toString()).toBe('xyz');
  expect(codec.maxFrameLength).toBe(0xffff);
});

test('encode: frames over the maximum are a RangeError before any write; bad options are RangeErrors', async () => {
  const sink = new RecordingWriter();
  const w = LengthDelimited.writer(sink, { maxFrameLength: 4 });
  expectThrow(() => w.send(Buffer.alloc(5)), 'RangeError');
  expect(sink.writes).toHaveLength(0);
  await w.send(Buffer.from('abcd'));
  expect(sink.data).toEqual(frame(Buffer.from('abcd')));
  expectThrow(() => new LengthDelimited({ lengthFieldLength: 0 }), 'RangeError');
  expectThrow(() => new LengthDelimited({ lengthFieldLength: 7 }), 'RangeError');
  expectThrow(() => new LengthDelimited({ maxFrameLength: -1 }), 'RangeError');
  expectThrow(() => new LengthDelimited().encode('str' as never), 'TypeError');
});

test('echo of frames over TCP (split halves on the server)', async () => {
  const listener = await TcpListener.bind('127.0.0.1:0');
  const server = spawn(async () => {
    const s = await listener.accept();
    const [rd, wr] = s.split();
    const out = LengthDelimited.writer(wr);
    for await (const f of LengthDelimited.reader(rd)) await out.send(f);
    await wr.shutdown();
    rd.close();
    wr.close();
  });
  const c = await TcpStream.connect(listener.localAddr());
  try {
    const frames = [Buffer.from('a'), Buffer.alloc(200_000, 1), Buffer.alloc(0), Buffer.from('end')];
    const w = LengthDelimited.writer(c);
    const sender = spawn(async () => {
      for (const f of frames) await w.send(f);
      await c.shutdown();
    });
    const got: Buffer[] = [];
    for await (const f of LengthDelimited.reader(c)) got.push(f);
    await sender;
    expect(got.map((b) => b.length)).toEqual(frames.map((b) => b.length));
    expect(got[1].equals(frames[1])).toBe(true);
    await timeout(5000, server);
  } finally {
    c.close();
    listener.close();
  }
});
