/**
 * Helpers for the Node-bridge tests: bridged socket pairs over loopback, a
 * self-signed certificate, event recording.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EventEmitter } from 'events';
import { EdgeioSocket, toNodeSocket } from '../../src';
import type { NodeSocketOptions } from '../../src';
import { connectedPair } from './tcp';

/** Two bridged sockets connected to each other over loopback (Node's duplexPair, over edgeio). */
export async function bridgedPair(options: NodeSocketOptions = {}): Promise<{ clientSide: EdgeioSocket; serverSide: EdgeioSocket }> {
  const { client, server, listener } = await connectedPair();
  listener.close();
  return { clientSide: toNodeSocket(client, options), serverSide: toNodeSocket(server, options) };
}

let cert: { key: string; cert: string } | null = null;

/**
 * A self-signed certificate for `localhost` / 127.0.0.1 / ::1 (P-256),
 * made with the OpenSSL CLI once per test file.
 */
export function selfSigned(): { key: string; cert: string } {
  if (cert !== null) return cert;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeio-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ],
      { stdio: 'pipe' },
    );
    cert = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
    return cert;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Records the order of `names` events on `em`. */
export function recordEvents(em: EventEmitter, names: string[]): string[] {
  const seen: string[] = [];
  for (const n of names) em.on(n, () => seen.push(n));
  return seen;
}

/** Resolves on `event` (with its first argument), rejects after `ms`. */
export function once<T = unknown>(em: EventEmitter, event: string, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), ms);
    em.once(event, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

/** Waits until `cond()` holds, polling every 10 ms, failing after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Number of open descriptors of this process (Linux: /proc/self/fd). */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}
