/**
 * The flags of the SMTP extensions as data: TLS, AUTH, CHUNKING,
 * enhanced status codes, DSN, LMTP, PROXY. Pure, like the rest of
 * config.ts, which calls `toExtensionSettings`: contradictory flags throw
 * UsageError (exit 2). Certificates and user files are read at start
 * (extension-options.ts), not here.
 */
import { optionalPath } from './flag-values.js';
import { UsageError } from '../errors.js';

/** The flags as commander gives them. */
export interface ExtensionCliOptions {
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsImplicit?: boolean;
  requireTls?: boolean;
  /** False with `--no-auth`. */
  auth?: boolean;
  authFile?: string;
  requireAuth?: boolean;
  authInsecure?: boolean;
  /** False with `--no-chunking`. */
  chunking?: boolean;
  binarymime?: boolean;
  enhancedStatusCodes?: boolean;
  dsn?: boolean;
  lmtp?: boolean;
  proxyProtocol?: boolean;
}

export interface ExtensionSettings {
  /** `--tls-cert`/`--tls-key`, `--tls` (self-signed, generated at start), or null: no TLS. */
  readonly tls:
    { readonly kind: 'files'; readonly cert: string; readonly key: string } | { readonly kind: 'self-signed' } | null;
  /** `--tls-implicit`: TLS from the first byte (RFC 8314) instead of STARTTLS. */
  readonly tlsImplicit: boolean;
  readonly requireTls: boolean;
  /** null with `--no-auth`. */
  readonly auth: { readonly file: string | null; readonly required: boolean; readonly insecure: boolean } | null;
  readonly chunking: boolean;
  readonly binaryMime: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly dsn: boolean;
  readonly lmtp: boolean;
  readonly proxyProtocol: boolean;
}

/** Turns the extension flags into settings. Pure. */
export function toExtensionSettings(o: ExtensionCliOptions): ExtensionSettings {
  const cert = optionalPath(o.tlsCert, '--tls-cert');
  const key = optionalPath(o.tlsKey, '--tls-key');
  if ((cert === null) !== (key === null)) throw new UsageError('--tls-cert and --tls-key go together');
  if (o.tls && cert !== null)
    throw new UsageError('--tls generates a certificate; leave it out with --tls-cert and --tls-key');
  const tls =
    cert !== null && key !== null
      ? { kind: 'files' as const, cert, key }
      : o.tls
        ? { kind: 'self-signed' as const }
        : null;
  if (tls === null && o.tlsImplicit) throw new UsageError('--tls-implicit needs --tls or --tls-cert and --tls-key');
  if (tls === null && o.requireTls) throw new UsageError('--require-tls needs --tls or --tls-cert and --tls-key');
  const authOn = o.auth ?? true;
  const authFile = optionalPath(o.authFile, '--auth-file');
  if (!authOn && (authFile !== null || o.requireAuth || o.authInsecure)) {
    throw new UsageError('--no-auth contradicts --auth-file, --require-auth and --auth-insecure');
  }
  const chunking = o.chunking ?? true;
  if (!chunking && o.binarymime) throw new UsageError('--binarymime needs CHUNKING; leave out --no-chunking');
  return {
    tls,
    tlsImplicit: o.tlsImplicit ?? false,
    requireTls: o.requireTls ?? false,
    auth: authOn ? { file: authFile, required: o.requireAuth ?? false, insecure: o.authInsecure ?? false } : null,
    chunking,
    binaryMime: o.binarymime ?? false,
    enhancedStatusCodes: o.enhancedStatusCodes ?? false,
    dsn: o.dsn ?? false,
    lmtp: o.lmtp ?? false,
    proxyProtocol: o.proxyProtocol ?? false,
  };
}
