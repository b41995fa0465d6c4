/**
 * Length-prefixed frames (tokio-util `LengthDelimitedCodec`): each frame is
 * a length field (big-endian u32 by default) followed by that many bytes.
 */
import type { AsyncRead, AsyncWrite } from '../io/traits';
import { DecodeBuffer, Decoder, Encoder, FramedRead, FramedWrite, frameTooLarge } from './framed';

/**
 * tokio-util's default maximum frame length: 8 MiB.
 *
 * @example
 * ```ts
 * new LengthDelimited({ maxFrameLength: 4 * DEFAULT_MAX_FRAME_LENGTH });
 * ```
 */
export const DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024;

/**
 * Options for {@link LengthDelimited}.
 *
 * @example
 * ```ts
 * const opts: LengthDelimitedOptions = { lengthFieldLength: 2, maxFrameLength: 65535 };
 * ```
 */
export interface LengthDelimitedOptions {
  /** Bytes in the length field, 1 to 6. Default 4. */
  lengthFieldLength?: number;
  /** Little-endian length field. Default false (big-endian, network order). */
  littleEndian?: boolean;
  /**
   * Largest payload accepted or sent, in bytes; a longer frame fails with
   * `ERR_FRAME_TOO_LARGE` when read (before anything is allocated for it)
   * and with a `RangeError` when sent. Default 8 MiB.
   */
  maxFrameLength?: number;
}

/**
 * The length-delimited codec: a {@link Decoder} of `Buffer` frames and an
 * {@link Encoder} of `Uint8Array` frames. Memory per connection is bounded
 * by `maxFrameLength`: a peer announcing a huge frame gets an error, not an
 * allocation.
 *
 * @example
 * ```ts
 * const [rd, wr] = stream.split();
 * const frames = LengthDelimited.reader(rd);
 * const out = LengthDelimited.writer(wr);
 * for await (const frame of frames) await out.send(frame); // echo frames
 * ```
 */
export class LengthDelimited implements Decoder<Buffer>, Encoder<Uint8Array> {
  /** Bytes in the length field. */
  readonly lengthFieldLength: number;
  /** Largest payload. */
  readonly maxFrameLength: number;
  /** Little-endian length field. */
  readonly littleEndian: boolean;

  /**
   * @example
   * ```ts
   * const codec = new LengthDelimited({ lengthFieldLength: 2, maxFrameLength: 1024 });
   * ```
   */
  constructor(options: LengthDelimitedOptions = {}) {
    const w = options.lengthFieldLength ?? 4;
    if (!Number.isInteger(w) || w < 1 || w > 6) throw new RangeError(`lengthFieldLength must be an integer in [1, 6], got ${w}`);
    const fieldMax = 2 ** (8 * w) - 1;
    const max = options.maxFrameLength ?? Math.min(DEFAULT_MAX_FRAME_LENGTH, fieldMax);
    if (!Number.isInteger(max) || max < 0 || max > 2 ** 31 - 1) {
      throw new RangeError(`maxFrameLength must be an integer in [0, 2^31-1], got ${max}`);
    }
    this.lengthFieldLength = w;
    this.maxFrameLength = Math.min(max, fieldMax);
    this.littleEndian = options.littleEndian === true;
  }

  /**
   * A {@link FramedRead} of frames from `source`.
   *
   * @example
   * ```ts
   * const frame = await LengthDelimited.reader(stream).readFrame();
   * ```
   */
  static reader(source: AsyncRead, options?: LengthDelimitedOptions): FramedRead<Buffer> {
    return new FramedRead(source, new LengthDelimited(options));
  }

  /**
   * A {@link FramedWrite} of frames to `sink`.
   *
   * @example
   * ```ts
   * await LengthDelimited.writer(stream).send(Buffer.from('hi'));
   * ```
   */
  static writer(sink: AsyncWrite, options?: LengthDelimitedOptions): FramedWrite<Uint8Array> {
    return new FramedWrite(sink, new LengthDelimited(options));
  }

  /**
   * One frame (a copy of its payload) or `undefined` if it is not all in.
   *
   * @example
   * ```ts
   * const frame = codec.decode(src);
   * ```
   */
  decode(src: DecodeBuffer): Buffer | undefined {
    const w = this.lengthFieldLength;
    if (src.end - src.start < w) return undefined;
    const len = this.littleEndian ? src.bytes.readUIntLE(src.start, w) : src.bytes.readUIntBE(src.start, w);
    if (len > this.maxFrameLength) throw frameTooLarge(len, this.maxFrameLength);
    if (src.end - src.start < w + len) {
      src.reserve(w + len);
      return undefined;
    }
    const frame = Buffer.allocUnsafe(len);
    src.bytes.copy(frame, 0, src.start + w, src.start + w + len);
    src.start += w + len;
    return frame;
  }

  /**
   * The length field and the payload (not copied).
   *
   * @example
   * ```ts
   * await stream.writevAll(codec.encode(payload));
   * ```
   */
  encode(frame: Uint8Array): Uint8Array[] {
    if (!(frame instanceof Uint8Array)) throw new TypeError('a frame must be a Uint8Array or Buffer');
    if (frame.length > this.maxFrameLength) {
      throw new RangeError(`frame of ${frame.length} bytes is larger than maxFrameLength (${this.maxFrameLength})`);
    }
    const header = Buffer.allocUnsafe(this.lengthFieldLength);
    if (this.littleEndian) header.writeUIntLE(frame.length, 0, this.lengthFieldLength);
    else header.writeUIntBE(frame.length, 0, this.lengthFieldLength);
    return [header, frame];
  }
}
