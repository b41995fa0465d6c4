/**
 * Newline-delimited text frames (tokio-util `LinesCodec`).
 */
import { codedError } from '../sys/errors';
import type { AsyncRead, AsyncWrite } from '../io/traits';
import { DEFAULT_MAX_LINE_LENGTH } from '../io/buf-reader';
import { DecodeBuffer, Decoder, Encoder, FramedRead, FramedWrite } from './framed';


/**
 * Options for {@link LinesCodec}.
 *
 * @example
 * ```ts
 * const opts: LinesCodecOptions = { maxLength: 1024 };
 * ```
 */
export interface LinesCodecOptions {
  /**
   * Longest line accepted, in bytes, newline excluded. Default
   * `DEFAULT_MAX_LINE_LENGTH` (64 KiB; tokio-util's `new()` is unbounded, a
   * bound keeps a flood from growing memory); `Infinity` for none.
   */
  maxLength?: number;
}

/**
 * Decodes UTF-8 lines (without `\n` / `\r\n`) and encodes strings as
 * lines. A line longer than `maxLength` fails with `ERR_LINE_TOO_LONG`
 * once; the codec then skips to the next newline and goes on (tokio-util's
 * behaviour), so memory stays bounded and one bad line does not end the
 * stream. At end of stream a last line without newline is returned.
 *
 * @example
 * ```ts
 * const lines = LinesCodec.reader(rd, { maxLength: 1024 });
 * const out = LinesCodec.writer(wr);
 * for await (const line of lines) await out.send(`echo: ${line}`);
 * ```
 */
export class LinesCodec implements Decoder<string>, Encoder<string> {
  /** Longest line accepted. */
  readonly maxLength: number;
  /** Bytes from `start` already searched for a newline. */
  private nextIndex = 0;
  private discarding = false;

  /**
   * @example
   * ```ts
   * const codec = new LinesCodec({ maxLength: 8192 });
   * ```
   */
  constructor(options: LinesCodecOptions = {}) {
    const max = options.maxLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new RangeError(`maxLength must be a number >= 0, got ${max}`);
    this.maxLength = max;
  }

  /**
   * A {@link FramedRead} of lines from `source`.
   *
   * @example
   * ```ts
   * for await (const line of LinesCodec.reader(stream)) console.log(line);
   * ```
   */
  static reader(source: AsyncRead, options?: LinesCodecOptions): FramedRead<string> {
    return new FramedRead(source, new LinesCodec(options));
  }

  /**
   * A {@link FramedWrite} of lines to `sink`.
   *
   * @example
   * ```ts
   * await LinesCodec.writer(stream).send('hello');
   * ```
   */
  static writer(sink: AsyncWrite, options?: LinesCodecOptions): FramedWrite<string> {
    return new FramedWrite(sink, new LinesCodec(options));
  }

  /**
   * The next line, or `undefined` if no newline is buffered yet.
   *
   * @example
   * ```ts
   * const line = codec.decode(src);
   * ```
   */
  decode(src: DecodeBuffer): string | undefined {
    for (;;) {
      if (this.discarding) {
        // After an over-long line: drop bytes up to and including the next newline.
        const nl = src.start < src.end ? src.bytes.indexOf(10, src.start) : -1;
        if (nl < 0 || nl >= src.end) {
          src.start = src.end;
          return undefined;
        }
        src.start = nl + 1;
        this.discarding = false;
        this.nextIndex = 0;
        continue;
      }
      const len = src.end - src.start;
      const searchFrom = src.start + this.nextIndex;
      // Search no further than one byte past the limit.
      const searchEnd = src.start + Math.min(len, this.maxLength + 1);
      const idx = searchFrom < searchEnd ? src.bytes.indexOf(10, searchFrom) : -1;
      const found = idx >= 0 && idx < searchEnd ? idx : -1;
      if (found >= 0) {
        let end = found;
        if (end > src.start && src.bytes[end - 1] === 13) end--;
        const line = src.bytes.toString('utf8', src.start, end);
        src.start = found + 1;
        this.nextIndex = 0;
        return line;
      }
      if (len > this.maxLength) {
        this.discarding = true;
        this.nextIndex = 0;
        throw codedError('ERR_LINE_TOO_LONG', `line longer than ${this.maxLength} bytes`);
      }
      this.nextIndex = len;
      return undefined;
    }
  }

  /**
   * At end of stream: the last line if it had no newline.
   *
   * @example
   * ```ts
   * const last = codec.decodeEof(src);
   * ```
   */
  decodeEof(src: DecodeBuffer): string | undefined {
    const line = this.decode(src);
    if (line !== undefined) return line;
    if (this.discarding || src.start === src.end) {
      src.start = src.end;
      return undefined;
    }
    let end = src.end;
    if (src.bytes[end - 1] === 13) end--;
    const last = src.bytes.toString('utf8', src.start, end);
    src.start = src.end;
    this.nextIndex = 0;
    return last;
  }

  /**
   * `line` plus `\n`, as UTF-8. Throws a `RangeError` for a line longer than
   * `maxLength` or containing a newline.
   *
   * @example
   * ```ts
   * await stream.writevAll(codec.encode('hello'));
   * ```
   */
  encode(line: string): Uint8Array[] {
    if (typeof line !== 'string') throw new TypeError('a line must be a string');
    if (line.includes('\n')) throw new RangeError('a line must not contain a newline');
    const buf = Buffer.from(line + '\n', 'utf8');
    if (buf.length - 1 > this.maxLength) throw new RangeError(`line of ${buf.length - 1} bytes is longer than maxLength (${this.maxLength})`);
    return [buf];
  }
}
