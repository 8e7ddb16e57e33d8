/**
 * Certificates for STARTTLS and implicit TLS: loaded from `--tls-cert` and
 * `--tls-key`, or, with `--tls` alone, a self-signed one generated in memory
 * at start-up by the `selfsigned` package (no hand-rolled ASN.1). Its
 * SHA-256 fingerprint is printed so that a client can pin it. And the
 * server side of a TLS connection over an accepted socket.
 */
import { describeIoError } from '../outputs/output.js';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** A certificate and key, PEM-encoded, with what a person needs to trust them. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the certificate, colon-separated hex as OpenSSL prints it. */
  readonly fingerprint256: string;
  readonly selfSigned: boolean;
}

/** Days a generated certificate is valid for. */
const SELF_SIGNED_DAYS = 365;

/** Reads a PEM certificate (chain) and key; throws an Error worded for stderr. */
export async function loadCredentials(
  certFile: string,
  keyFile: string,
  flags = { cert: '--tls-cert', key: '--tls-key' },
): Promise<TlsCredentials> {
  const [cert, key] = await Promise.all([
    readFile(certFile, 'utf8').catch((e: Error) =>
      Promise.reject(new Error(`cannot read ${flags.cert} ${certFile}: ${describeIoError(e)}`)),
    ),
    readFile(keyFile, 'utf8').catch((e: Error) =>
      Promise.reject(new Error(`cannot read ${flags.key} ${keyFile}: ${describeIoError(e)}`)),
    ),
  ]);
  return check({ cert, key, fingerprint256: '', selfSigned: false });
}

/** Checks a PEM certificate (chain) and key given as text; throws when they do not go together. */
export function loadCredentialsFromPem(cert: string, key: string): TlsCredentials {
  return check({ cert, key, fingerprint256: '', selfSigned: false });
}

/** Generates a self-signed certificate for `hostname` (and localhost, 127.0.0.1, ::1). */
export async function selfSignedCredentials(hostname: string): Promise<TlsCredentials> {
  // Loaded only when a certificate is generated (`--tls`), not with the library.
  const { generate } = await import('selfsigned');
  const notAfterDate = new Date(Date.now() + SELF_SIGNED_DAYS * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return check({ cert: pems.cert, key: pems.private, fingerprint256: '', selfSigned: true });
}

function check(c: TlsCredentials): TlsCredentials {
  let fingerprint256: string;
  try {
    fingerprint256 = new X509Certificate(c.cert).fingerprint256;
    tls.createSecureContext({ cert: c.cert, key: c.key });
  } catch (e) {
    throw new Error(`bad TLS certificate or key: ${(e as Error).message}`, { cause: e });
  }
  return { ...c, fingerprint256 };
}

/**
 * Wraps an accepted socket in a server-side TLS socket. `initial` are bytes
 * already read from it that belong to the handshake (after a PROXY header);
 * after STARTTLS there are none: what came in the clear is never carried over.
 */
export function serverTlsSocket(raw: net.Socket, secureContext: tls.SecureContext, initial: Buffer): tls.TLSSocket {
  const transport = initial.length > 0 ? prepend(raw, initial) : raw;
  return new tls.TLSSocket(transport as net.Socket, { isServer: true, secureContext });
}

/** A stream that yields `head`, then what `socket` receives, and writes to `socket`. */
function prepend(socket: net.Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
    final: (callback) => void socket.end(callback),
    destroy: (err, callback) => {
      socket.destroy();
      callback(err);
    },
  });
  stream.push(head);
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  return stream;
}
