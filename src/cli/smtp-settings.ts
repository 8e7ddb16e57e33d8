/**
 * The SMTP flags as data: the size and limits, the timeouts, TLS, AUTH,
 * CHUNKING, enhanced status codes, DSN, LMTP, PROXY. Pure, like the rest of
 * config.ts, which calls `toSmtpSettings`: a bad value or contradictory
 * flags throw UsageError (exit 2). A flag that is not given is left out, so
 * that its default is applied once, by the server or the channel
 * (SMTP_DEFAULTS). Certificates and user files are read at start
 * (smtp-options.ts), not here.
 */
import type { ServerOptions } from '../server/server.js';
import { optionalPath, parseSize, seconds, wholeNumber } from './flag-values.js';
import { UsageError } from '../errors.js';
import { parseCidr } from '../loopback.js';

/** The flags as commander gives them. */
export interface SmtpCliOptions {
  size?: string;
  smtputf8?: boolean;
  maxConnections?: string;
  memoryBudget?: string;
  maxRecipients?: string;
  maxMessagesPerConnection?: string;
  commandTimeout?: string;
  dataTimeout?: string;
  transactionTimeout?: string;
  bareLf?: string;
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
  proxyProtocolFrom?: string[];
}

/** The server options a flag sets directly, under the server's names; only those given. */
export type SmtpFlags = Pick<
  ServerOptions,
  | 'dataSizeLimit'
  | 'smtputf8'
  | 'maxConnections'
  | 'bodyBudget'
  | 'maxRecipients'
  | 'maxMessagesPerConnection'
  | 'bareLf'
  | 'timeouts'
  | 'requireTls'
  | 'tlsImplicit'
  | 'chunking'
  | 'binaryMime'
  | 'enhancedStatusCodes'
  | 'dsn'
  | 'lmtp'
  | 'proxyProtocol'
  | 'proxyFrom'
>;

/** Where the certificate comes from: `--tls-cert`/`--tls-key`, or `--tls` (self-signed, generated at start). */
export type TlsSource =
  { readonly kind: 'files'; readonly cert: string; readonly key: string } | { readonly kind: 'self-signed' };

export interface SmtpSettingsFromFlags {
  readonly smtp: SmtpFlags;
  /** null: no TLS. */
  readonly tls: TlsSource | null;
  /** null with `--no-auth`; `file` is read at start. */
  readonly auth: { readonly file: string | null; readonly required: boolean; readonly insecure: boolean } | null;
}

/** `o` without its undefined fields. */
function given<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A whole number from a flag, or undefined when it is absent. */
function count(value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : wholeNumber(value, flag, 0);
}

/** Seconds from a flag, as milliseconds, or undefined when it is absent. */
function ms(value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : seconds(value, flag, 0);
}

function bareLf(value: string | undefined): 'accept' | 'reject' | undefined {
  if (value === undefined || value === 'accept' || value === 'reject') return value;
  throw new UsageError(`--bare-lf takes accept or reject, not '${value}'`);
}

function size(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseSize(value, '-s/--size');
}

/** `--proxy-protocol-from`: CIDRs, each checked; only with `--proxy-protocol`. */
function proxyFrom(o: SmtpCliOptions): string[] | undefined {
  const cidrs = o.proxyProtocolFrom;
  if (cidrs === undefined) return undefined;
  if (!o.proxyProtocol) throw new UsageError('--proxy-protocol-from goes with --proxy-protocol');
  for (const cidr of cidrs)
    if (!parseCidr(cidr)) throw new UsageError(`--proxy-protocol-from: '${cidr}' is not an address or CIDR`);
  return cidrs;
}

/** Turns the SMTP flags into settings. Pure. */
export function toSmtpSettings(o: SmtpCliOptions): SmtpSettingsFromFlags {
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
  if (o.chunking === false && o.binarymime)
    throw new UsageError('--binarymime needs CHUNKING; leave out --no-chunking');
  return {
    smtp: given({
      dataSizeLimit: size(o.size),
      smtputf8: o.smtputf8,
      maxConnections: count(o.maxConnections, '--max-connections'),
      bodyBudget: o.memoryBudget === undefined ? undefined : parseSize(o.memoryBudget, '--memory-budget'),
      maxRecipients: count(o.maxRecipients, '--max-recipients'),
      maxMessagesPerConnection: count(o.maxMessagesPerConnection, '--max-messages-per-connection'),
      bareLf: bareLf(o.bareLf),
      timeouts: given({
        command: ms(o.commandTimeout, '--command-timeout'),
        data: ms(o.dataTimeout, '--data-timeout'),
        transaction: ms(o.transactionTimeout, '--transaction-timeout'),
      }),
      requireTls: o.requireTls,
      tlsImplicit: o.tlsImplicit,
      chunking: o.chunking,
      binaryMime: o.binarymime,
      enhancedStatusCodes: o.enhancedStatusCodes,
      dsn: o.dsn,
      lmtp: o.lmtp,
      proxyProtocol: o.proxyProtocol,
      proxyFrom: proxyFrom(o),
    }),
    tls,
    auth: authOn ? { file: authFile, required: o.requireAuth ?? false, insecure: o.authInsecure ?? false } : null,
  };
}
