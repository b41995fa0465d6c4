/**
 * edgeio: an async I/O runtime for Node.js, with tokio's architecture over a
 * native epoll/kqueue/IOCP selector.
 *
 * This module is the whole public API.
 */
export type { SystemError, CodedError } from './sys/errors';
export type { AddressInfo } from './sys/native';
