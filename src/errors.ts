/**
 * Every error smtpd-ts throws on purpose, in one module (as undici's
 * `lib/core/errors.js`): one base class, each error with its `name` and a
 * stable `code` (`ERR_SMTPD_*`) that callers can test instead of messages.
 *
 * Errors about the peer never throw: the channel answers them with replies.
 * These are for the operator (a bad flag, a file that cannot be read), the
 * handlers (a reply to send instead of 250) and misuse of the API.
 */
import { R, type Reply } from './channel/reply.js';
import type { Finding } from './finding.js';

/** The base: `name` is the class's, `code` a stable `ERR_SMTPD_*`. */
export class SmtpdError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad flag or argument: one line on stderr and exit 2. */
export class UsageError extends SmtpdError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SMTPD_USAGE', message, options);
  }
}

/** The sink could not start (an address in use, a file it cannot write): one line on stderr and exit 1. */
export class StartError extends SmtpdError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_SMTPD_START', message, options);
  }
}

/** A `--reply` rule that does not parse; `message` names the rule and the bad part. */
export class RuleSyntaxError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_RULE_SYNTAX', message);
  }
}

/** A bad `--expect` expression; the CLI turns it into a usage error (exit 2). */
export class ExpectSyntaxError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_EXPECT_SYNTAX', message);
  }
}

/** The channel's API used out of order: a bug in the caller, not the peer. */
export class ChannelUsageError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_CHANNEL_USAGE', message);
  }
}

/**
 * Thrown by a handler to answer `reply` for an expected failure (an output
 * that cannot be written gets 451): logged as one line, without a stack.
 */
export class ReplyError extends SmtpdError {
  constructor(
    readonly reply: Reply,
    message: string,
    options?: ErrorOptions,
    code = 'ERR_SMTPD_REPLY',
  ) {
    super(code, message, options);
  }
}

/**
 * An output or the Maildir could not be opened or written: the client gets
 * 451 (try again later) and stderr one line, with no stack trace.
 */
export class OutputError extends ReplyError {
  constructor(message: string, options?: ErrorOptions) {
    super(R.R451_HANDLER_FAILED, message, options, 'ERR_SMTPD_OUTPUT');
  }
}

/** `--strict` refuses a message for `finding` with `reply` (550). */
export class StrictRejection extends ReplyError {
  constructor(
    reply: Reply,
    readonly finding: Finding,
  ) {
    super(reply, `rejected by --strict: ${finding.code}: ${finding.message}`, undefined, 'ERR_SMTPD_STRICT');
  }
}

/** The message could not be parsed; it is still accepted and shown raw. */
export class MessageParseError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_PARSE', message);
  }
}

/** A wait of the library's sink ran out of time; `received` lists what did arrive. */
export class SinkTimeoutError<M = unknown> extends SmtpdError {
  constructor(
    message: string,
    readonly received: readonly M[],
  ) {
    super('ERR_SMTPD_SINK_TIMEOUT', message);
  }
}

/**
 * A job of a worker thread failed: its time budget ran out (`timeout`),
 * another job's did and the worker was `replaced` under it, the worker
 * `failed` or died, or the sink `closed`.
 */
export class WorkerJobError extends SmtpdError {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'replaced' | 'failed' | 'closed',
  ) {
    super('ERR_SMTPD_WORKER_JOB', message);
  }
}

/** A request the inbox answers with `status` and one line of text (400, 401, 403, 404, 413, 503). */
export class HttpError extends SmtpdError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('ERR_SMTPD_HTTP', message);
  }
}

/** A search of the inbox ran past its deadline (the HTTP API answers 503: narrow it). */
export class SearchTimeoutError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_SEARCH_TIMEOUT', message);
  }
}

/**
 * A message the HTTP API was asked to send or release is refused: not one
 * Mailpit would send, or refused as SMTP would refuse it (a 400 with the reason).
 */
export class SendError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_SEND', message);
  }
}

/**
 * A webhook post that was not made: its URL's name resolves only to
 * internal addresses, which `--webhook-allow-internal` did not allow.
 */
export class WebhookRefusedError extends SmtpdError {
  constructor(message: string) {
    super('ERR_SMTPD_WEBHOOK_REFUSED', message);
  }
}
