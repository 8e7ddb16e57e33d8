/**
 * The upstream side of PureProxy: one SMTP session per message with
 * nodemailer's SMTPConnection (a proven client: STARTTLS, AUTH, PIPELINING,
 * SIZE, 8BITMIME and SMTPUTF8 negotiation, dot-stuffing), as smtpd's
 * PureProxy opened one smtplib.SMTP per message. Every outcome, network
 * failures included, comes back as accepted and refused recipients; this
 * module never throws for anything the upstream does.
 */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { slices } from '../slices.js';
import type { Delivered, Refusal } from './outcome.js';

/** Default `--relay-timeout`: each wait for the upstream, in seconds. */
export const DEFAULT_RELAY_TIMEOUT_S = 60;

export interface UpstreamOptions {
  readonly host: string;
  readonly port: number;
  /**
   * `--relay-tls`: STARTTLS is required and the certificate verified. Without
   * it, STARTTLS is used when offered, unverified, falling back to plain
   * text if the upgrade fails (RFC 7435 opportunistic security, Postfix's
   * `smtp_tls_security_level = may`).
   */
  readonly requireTLS: boolean;
  /** `--relay-user` and the password from `--relay-password-file`. */
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /** Each wait for the upstream (connect, greeting, every reply) at most, in milliseconds. */
  readonly timeoutMs: number;
  /** Our name in EHLO. */
  readonly name: string;
}

/** The envelope to send: smtpd's mailfrom and rcpttos. */
export interface UpstreamEnvelope {
  /** `<>` for the null sender, as the channel gives it. */
  readonly mailFrom: string;
  readonly rcptTos: readonly string[];
  /** Declare BODY=8BITMIME (when the upstream supports it): the client did, or the message has 8-bit bytes. */
  readonly eightBit: boolean;
}

/** Fields of nodemailer's errors that say where the upstream refused. */
interface UpstreamError extends Error {
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: UpstreamError[];
}

/** Commands whose reply speaks for the message; any other failure (network, TLS, AUTH) is ours to retry: 451. */
const ENVELOPE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);

/** The reply text without its code, as the client will hear it. */
function replyText(response: string): string {
  return response.replace(/^[0-9]{3}[ -]?/, '').replace(/\r?\n[0-9]{3}[ -]?/g, ' ');
}

function refusal(address: string, err: UpstreamError, upstream: string): Refusal {
  const code = err.responseCode ?? 0;
  // Over the upstream's SIZE (RFC 1870): not sent, and no retry will make it fit.
  if (err.code === 'EMESSAGE' && /size larger than allowed/i.test(err.message)) {
    return { address, code: 552, message: `upstream ${upstream}: ${err.message}` };
  }
  if (err.response && code >= 400 && code < 600 && ENVELOPE_COMMANDS.has(err.command ?? '')) {
    return { address, code, message: replyText(err.response) };
  }
  return { address, code: 451, message: `upstream ${upstream}: ${err.message}` };
}

/** Every recipient's outcome after the session failed with `err`. */
function failed(recipients: readonly string[], err: UpstreamError, upstream: string): Delivered {
  const byRecipient = new Map((err.rejectedErrors ?? []).map((e) => [e.recipient, e] as const));
  return { accepted: [], refused: recipients.map((r) => refusal(r, byRecipient.get(r) ?? err, upstream)) };
}

/** The size of the pieces the message is handed to the connection in: it dot-stuffs each on the main thread. */
const PIECE_BYTES = 64 * 1024;

/**
 * The message's bytes as a stream of small pieces (views, not copies), with
 * a turn of the event loop before each: a stream's pieces otherwise follow
 * each other in one turn while the socket takes them (loopback always
 * does), and the dot-stuffing of 30 MiB held every client for 100 ms.
 */
function inPieces(data: readonly Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      for (const piece of slices(data, PIECE_BYTES)) {
        await nextTurn();
        yield piece;
      }
    })(),
  );
}

/**
 * Relays one message, given as the parts to send in order; resolves with
 * what the upstream accepted and refused, never rejects.
 */
export async function sendUpstream(
  options: UpstreamOptions,
  envelope: UpstreamEnvelope,
  data: readonly Buffer[],
): Promise<Delivered> {
  const upstream = `${options.host}:${options.port}`;
  // Loaded with the first relayed message: about 50 ms that a sink which
  // never relays (and the library's importers) should not pay at start.
  const { default: SMTPConnection } = await import('nodemailer/lib/smtp-connection');
  const connection = new SMTPConnection({
    host: options.host,
    port: options.port,
    name: options.name,
    requireTLS: options.requireTLS,
    opportunisticTLS: !options.requireTLS,
    ...(options.requireTLS ? {} : { tls: { rejectUnauthorized: false } }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    // Once the session is over (after QUIT's reply, or a failure) the socket is destroyed, not ended: an
    // upstream that never closes its side would otherwise hold it, and the sink's exit, for 5 s.
    socketCloseTimeout: 0,
    logger: false,
  });
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: Delivered) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    const fail = (err: UpstreamError) => {
      if (done) return;
      finish(failed(envelope.rcptTos, err, upstream));
      // A refusal leaves the session open: it ends with QUIT, as after a delivery (RFC 5321 4.1.1.10).
      if (err.responseCode !== undefined) connection.quit();
      else connection.close();
    };
    connection.on('error', fail);
    connection.once('end', () => fail(new Error('the connection closed')));
    const send = () =>
      connection.send(
        {
          from: envelope.mailFrom === '<>' ? false : envelope.mailFrom,
          to: [...envelope.rcptTos],
          size: data.reduce((n, part) => n + part.length, 0),
          use8BitMime: envelope.eightBit,
        },
        inPieces(data),
        (err, info) => {
          if (err || !info) return fail(err ?? new Error('no result'));
          const refused = (info.rejectedErrors ?? []).map((e) =>
            refusal((e as UpstreamError).recipient ?? '', e, upstream),
          );
          finish({ accepted: info.accepted, refused });
          connection.quit();
        },
      );
    connection.connect((err) => {
      if (err) return fail(err);
      if (!options.auth) return send();
      connection.login({ user: options.auth.user, pass: options.auth.pass }, (e) => (e ? fail(e) : send()));
    });
  });
}
