/**
 * The SMTP verbs, each in one row of a table: what it does and its HELP text.
 * Every branch answers as Python 3.11 smtpd's `smtp_<VERB>` method does, in
 * the same order of checks, so the reply codes match for any command
 * sequence; where we differ, the comment says why.
 */
import { parseAddress } from './address/address.js';
import { AUTH_COMMAND, AUTH_KEYWORD, authOffered, type AuthStep } from './auth.js';
import { BDAT_COMMAND, type ChunkReader } from './bdat.js';
import { checkDsnMailParams, checkDsnRcptParams } from './dsn.js';
import type { MessageBody } from './message-body.js';
import { parseParams, splitOptions } from './params.js';
import { pyStrip } from './py-text.js';
import { R, type Reply } from './reply.js';
import { type ChannelConfig } from './config.js';
import { type TlsInfo } from './actions.js';
import { authRefusal, recipientRefusal, sizeRefusal } from './transaction-rules.js';

/** One transaction (smtpd's mailfrom/rcpttos/options); RSET and the end of DATA replace it. */
export interface Transaction {
  mailFrom: string | null;
  readonly rcptTos: string[];
  mailOptions: string[];
  rcptOptions: string[];
  /** MAIL carried SMTPUTF8 (smtpd's `require_SMTPUTF8`). */
  smtputf8: boolean;
  /** MAIL carried BODY=BINARYMIME (RFC 3030): only BDAT may follow. */
  binary: boolean;
  /** The message so far, once a BDAT chunk was taken; DATA is then refused. */
  chunks: MessageBody | null;
  /** Scripted rules (ChannelConfig.replyRule) that fired in this transaction, as written. */
  readonly rules: string[];
}

/** A transaction with nothing in it yet. */
export function emptyTransaction(): Transaction {
  return {
    mailFrom: null,
    rcptTos: [],
    mailOptions: [],
    rcptOptions: [],
    smtputf8: false,
    binary: false,
    chunks: null,
    rules: [],
  };
}

/** The session: what outlives transactions. */
export interface Session {
  /** The HELO/EHLO argument, '' before (smtpd's `seen_greeting`). */
  greeting: string;
  /** EHLO was used (smtpd's `extended_smtp`). */
  extended: boolean;
  /** The TLS session, null in the clear; STARTTLS starts a new Session (RFC 3207 section 4.2). */
  tls: TlsInfo | null;
  /** The user name AUTH succeeded with, null before (RFC 4954). */
  authUser: string | null;
}

/** A session with nothing in it yet. */
export function emptySession(tls: TlsInfo | null = null): Session {
  return { greeting: '', extended: false, tls, authUser: null };
}

/** What a command may do to the channel that runs it. */
export interface CommandContext {
  readonly config: ChannelConfig;
  readonly session: Session;
  readonly transaction: Transaction;
  /** Messages accepted so far on this connection. */
  readonly messagesAccepted: number;
  send(reply: Reply): void;
  /** Replaces the transaction with an empty one (smtpd's `_set_rset_state`). */
  resetTransaction(): void;
  /** Switches to the data phase after the 354. */
  startData(): void;
  /** Reads the next line as the answer to an AUTH challenge. */
  startAuth(step: AuthStep): void;
  /** Reads a BDAT chunk, then replies. */
  startChunk(reader: ChunkReader): void;
  /** Asks the I/O layer for a TLS handshake, after the 220 sent so far. */
  startTls(): void;
  /** Closes the connection after the replies sent so far. */
  close(): void;
}

export type Verb =
  | 'EHLO'
  | 'HELO'
  | 'MAIL'
  | 'RCPT'
  | 'DATA'
  | 'RSET'
  | 'NOOP'
  | 'QUIT'
  | 'VRFY'
  | 'HELP'
  | 'EXPN'
  | 'LHLO'
  | 'STARTTLS'
  | 'AUTH'
  | 'BDAT';

export interface CommandSpec {
  /**
   * Whether the verb exists under this configuration and session; absent:
   * always. Otherwise it is unrecognized (500), as smtpd had it.
   */
  readonly enabled?: (config: ChannelConfig, session: Session) => boolean;
  /** HELP's line for this verb; absent for verbs smtpd's HELP does not list. */
  readonly help?: (extended: boolean) => string;
  /** Runs the command; `arg` is null when the line had no space after the verb. */
  readonly run: (ctx: CommandContext, arg: string | null) => void;
}

const EXTENDED_SYNTAX = ' [SP <mail-parameters>]';

export const COMMANDS: Record<Verb, CommandSpec> = {
  // RFC 2033 section 4.1: an LMTP server answers HELO and EHLO as unknown.
  EHLO: { help: () => 'EHLO hostname', enabled: (c) => !c.lmtp, run: (ctx, arg) => greet(ctx, arg, true) },
  HELO: { help: () => 'HELO hostname', enabled: (c) => !c.lmtp, run: (ctx, arg) => greet(ctx, arg, false) },
  MAIL: {
    help: (ext) => `MAIL FROM: <address>${ext ? EXTENDED_SYNTAX : ''}`,
    run: mail,
  },
  RCPT: {
    help: (ext) => `RCPT TO: <address>${ext ? EXTENDED_SYNTAX : ''}`,
    run: rcpt,
  },
  DATA: {
    help: () => 'DATA',
    run(ctx, arg) {
      if (!ctx.session.greeting) return ctx.send(R.R503_NEED_HELO);
      if (ctx.transaction.rcptTos.length === 0) return ctx.send(R.R503_NEED_RCPT);
      if (arg) return ctx.send(R.R501_DATA_SYNTAX);
      if (ctx.transaction.binary) return ctx.send(R.R503_BINARYMIME_NEEDS_BDAT);
      if (ctx.transaction.chunks !== null) return ctx.send(R.R503_DATA_AFTER_BDAT);
      ctx.send(R.R354_START_DATA);
      ctx.startData();
    },
  },
  RSET: {
    help: () => 'RSET',
    run(ctx, arg) {
      if (arg) return ctx.send(R.R501_RSET_SYNTAX);
      ctx.resetTransaction();
      ctx.send(R.R250_OK);
    },
  },
  NOOP: {
    help: () => 'NOOP',
    run: (ctx, arg) => ctx.send(arg ? R.R501_NOOP_SYNTAX : R.R250_OK),
  },
  QUIT: {
    help: () => 'QUIT',
    run(ctx) {
      ctx.send(R.R221_BYE);
      ctx.close();
    },
  },
  VRFY: {
    help: () => 'VRFY <address>',
    run(ctx, arg) {
      if (!arg) return ctx.send(R.R501_VRFY_SYNTAX);
      const parsed = parseAddress(arg);
      ctx.send(parsed.ok && parsed.address ? R.R252_CANNOT_VRFY : R.R502_CANNOT_VRFY(arg));
    },
  },
  HELP: {
    run(ctx, arg) {
      if (!arg) return ctx.send({ code: 250, lines: [`Supported commands: ${listedVerbs()}`] });
      const spec = lookupVerb(arg.toUpperCase());
      if (spec?.help) return ctx.send({ code: 250, lines: [`Syntax: ${spec.help(ctx.session.extended)}`] });
      ctx.send(R.R501_HELP_UNKNOWN(listedVerbs()));
    },
  },
  EXPN: { run: (ctx) => ctx.send(R.R502_EXPN) },
  // The verbs smtpd did not have carry no HELP line, so HELP reads as smtpd's.
  // Extensions exist only after EHLO, which announces them (RFC 5321 2.2.1);
  // before it they are unknown, as they were to smtpd, whose codes we keep.
  LHLO: { enabled: (c) => c.lmtp, run: (ctx, arg) => greet(ctx, arg, true) },
  STARTTLS: {
    enabled: (c, s) => c.starttls && s.extended,
    run(ctx, arg) {
      if (arg) return ctx.send(R.R501_STARTTLS_SYNTAX);
      if (ctx.session.tls !== null) return ctx.send(R.R503_TLS_ACTIVE);
      ctx.send(R.R220_READY_TLS);
      ctx.startTls();
    },
  },
  AUTH: AUTH_COMMAND,
  BDAT: BDAT_COMMAND,
};

/** The verbs HELP lists, in smtpd's order. */
function listedVerbs(): string {
  return (Object.keys(COMMANDS) as Verb[]).filter((v) => COMMANDS[v].help).join(' ');
}

/** Looks a verb up case-insensitively; undefined for unknown verbs. */
export function lookupVerb(word: string): CommandSpec | undefined {
  return Object.hasOwn(COMMANDS, word) ? COMMANDS[word as Verb] : undefined;
}

function greet(ctx: CommandContext, arg: string | null, extended: boolean): void {
  if (!arg) return ctx.send(extended ? R.R501_EHLO_SYNTAX : R.R501_HELO_SYNTAX);
  // smtpd answers a second HELO/EHLO with 503 (bpo-21783), where RFC 5321
  // 4.1.4 would have it reset the session; kept for parity.
  if (ctx.session.greeting) return ctx.send(R.R503_DUPLICATE_HELO);
  ctx.resetTransaction();
  ctx.session.greeting = arg;
  if (!extended) return ctx.send(R.R250_HELO(ctx.config.hostname));
  ctx.session.extended = true;
  const config = ctx.config;
  const lines = [config.hostname];
  if (config.dataSizeLimit) lines.push(`SIZE ${config.dataSizeLimit}`);
  lines.push('8BITMIME');
  if (config.smtputf8) lines.push('SMTPUTF8');
  lines.push('PIPELINING');
  if (config.chunking) lines.push('CHUNKING');
  if (config.chunking && config.binaryMime) lines.push('BINARYMIME');
  if (config.enhancedStatusCodes) lines.push('ENHANCEDSTATUSCODES');
  if (config.dsn) lines.push('DSN');
  if (config.starttls && ctx.session.tls === null) lines.push('STARTTLS');
  if (authOffered(config, ctx.session)) lines.push(AUTH_KEYWORD);
  lines.push('HELP');
  ctx.send(R.R250_EHLO(lines));
}

/** smtpd's `_strip_command_keyword`: the text after `FROM:`/`TO:`, or '' when the keyword is missing. */
function stripKeyword(keyword: string, arg: string): string {
  return arg.slice(0, keyword.length).toUpperCase() === keyword ? pyStrip(arg.slice(keyword.length)) : '';
}

/** Parses `FROM:<addr> params` / `TO:<addr> params`; undefined means a 501 syntax error. */
function parsePath(
  ctx: CommandContext,
  keyword: string,
  arg: string,
): { address: string; options: string[] } | undefined {
  const parsed = parseAddress(stripKeyword(keyword, arg));
  // smtpd raised out of the address parser on some inputs and dropped the
  // connection; we answer them as the syntax errors they are.
  if (!parsed.ok || !parsed.address) return undefined;
  if (!ctx.session.extended && parsed.rest) return undefined;
  return { address: parsed.address, options: splitOptions(parsed.rest) };
}

function mail(ctx: CommandContext, arg: string | null): void {
  if (!ctx.session.greeting) return ctx.send(R.R503_NEED_HELO);
  const syntaxError = R.R501_MAIL_SYNTAX(ctx.session.extended);
  if (arg === null) return ctx.send(syntaxError);
  const path = parsePath(ctx, 'FROM:', arg);
  if (!path) return ctx.send(syntaxError);
  const tx = ctx.transaction;
  if (tx.mailFrom) return ctx.send(R.R503_NESTED_MAIL);
  // RFC 3207 section 4 and RFC 4954 section 6: a server may insist on either.
  if (ctx.config.requireTls && ctx.session.tls === null) return ctx.send(R.R530_NEED_TLS);
  const unauthenticated = authRefusal(ctx.config, ctx.session.authUser !== null);
  if (unauthenticated) return ctx.send(unauthenticated);
  const maxMessages = ctx.config.maxMessagesPerConnection;
  if (maxMessages > 0 && ctx.messagesAccepted >= maxMessages) {
    ctx.send(R.R421_TOO_MANY_MESSAGES(ctx.config.hostname));
    return ctx.close();
  }
  const params = parseParams(path.options);
  if (!params) return ctx.send(syntaxError);
  const body = params.get('BODY') ?? '7BIT';
  params.delete('BODY');
  const binary = body === 'BINARYMIME' && ctx.config.chunking && ctx.config.binaryMime;
  if (body !== '7BIT' && body !== '8BITMIME' && !binary) return ctx.send(R.R501_BAD_BODY);
  let smtputf8 = false;
  if (ctx.config.smtputf8 && params.has('SMTPUTF8')) {
    if (params.get('SMTPUTF8') !== true) return ctx.send(R.R501_SMTPUTF8_ARG);
    params.delete('SMTPUTF8');
    smtputf8 = true;
  }
  const size = params.get('SIZE');
  params.delete('SIZE');
  if (size !== undefined) {
    // smtpd crashed on a bare SIZE keyword (True.isdigit()); it is a syntax error.
    if (size === true || !/^[0-9]+$/.test(size)) return ctx.send(syntaxError);
    const tooLarge = sizeRefusal(ctx.config, Number(size));
    if (tooLarge) return ctx.send(tooLarge);
  }
  if (ctx.config.dsn) {
    const bad = checkDsnMailParams(params);
    if (bad) return ctx.send(R.R501_DSN_SYNTAX(bad));
  }
  if (params.size > 0) return ctx.send(R.R555_MAIL_PARAMS);
  tx.mailFrom = path.address;
  tx.mailOptions = path.options;
  tx.smtputf8 = smtputf8;
  tx.binary = binary;
  ctx.send(R.R250_MAIL_OK);
}

function rcpt(ctx: CommandContext, arg: string | null): void {
  if (!ctx.session.greeting) return ctx.send(R.R503_NEED_HELO);
  const tx = ctx.transaction;
  if (!tx.mailFrom) return ctx.send(R.R503_NEED_MAIL);
  const syntaxError = R.R501_RCPT_SYNTAX(ctx.session.extended);
  if (arg === null) return ctx.send(syntaxError);
  const path = parsePath(ctx, 'TO:', arg);
  if (!path) return ctx.send(syntaxError);
  const params = parseParams(path.options);
  if (!params) return ctx.send(syntaxError);
  if (ctx.config.dsn) {
    const bad = checkDsnRcptParams(params);
    if (bad) return ctx.send(R.R501_DSN_SYNTAX(bad));
  }
  // smtpd recognises no RCPT parameters (DSN's, with `dsn`, are taken out above).
  if (params.size > 0) return ctx.send(R.R555_RCPT_PARAMS);
  const refusal = recipientRefusal(ctx.config, path.address, tx.rcptTos.length);
  if (refusal) return ctx.send(refusal);
  tx.rcptTos.push(path.address);
  tx.rcptOptions = path.options;
  ctx.send(R.R250_RCPT_OK);
}
