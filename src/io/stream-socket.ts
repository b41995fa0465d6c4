/**
 * The mark of a connected stream socket (a `TcpStream`): its
 * {@link Registration} under a symbol, so that code beside the net layer can
 * write to the socket directly without importing net (fs's `sendFile` needs
 * the socket's descriptor and its writability for sendfile(2)). net sets
 * the mark, fs reads it; the layers keep pointing one way
 * (docs/architecture.md, layers).
 *
 * Internal module: not exported from index.ts.
 */
import type { Registration } from './registration';
import type { AsyncWrite } from './traits';

/** The key a stream socket answers with its registration. */
export const STREAM_SOCKET: unique symbol = Symbol('edgeio.streamSocket');

/** A byte stream that is a connected stream socket. */
export interface StreamSocket extends AsyncWrite {
  readonly [STREAM_SOCKET]: Registration;
}

/**
 * The registration of `x` if it is a stream socket, else undefined.
 *
 * @example
 * ```ts
 * const reg = streamSocketRegistration(stream);
 * if (reg === undefined) throw new TypeError('sendFile needs a TcpStream');
 * ```
 */
export function streamSocketRegistration(x: unknown): Registration | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  return (x as Partial<StreamSocket>)[STREAM_SOCKET];
}
