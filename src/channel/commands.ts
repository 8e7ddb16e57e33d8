/**
 * The SMTP verbs, each in one row of a table: what it does and its HELP text.
 * Every branch answers as Python 3.11 smtpd's `smtp_<VERB>` method does, in
 * the same order of checks, so the reply codes match for any command
 * sequence; where we differ, the comment says why.
 */
import { parseAddress } from './address.js';
import { parseParams, splitOptions } from './params.js';
import { pyStrip } from './py-text.js';
import { R, type Reply } from './reply.js';
import { type ChannelConfig } from './types.js';

/** One transaction (smtpd's mailfrom/rcpttos/options); RSET and the end of DATA replace it. */
export interface Transaction {
  mailFrom: string | null;
  readonly rcptTos: string[];
  mailOptions: string[];
  rcptOptions: string[];
  /** MAIL carried SMTPUTF8 (smtpd's `require_SMTPUTF8`). */
  smtputf8: boolean;
}

/** A transaction with nothing in it yet. */
export function emptyTransaction(): Transaction {
  return { mailFrom: null, rcptTos: [], mailOptions: [], rcptOptions: [], smtputf8: false };
}

/** The session: what outlives transactions. */
export interface Session {
  /** The HELO/EHLO argument, '' before (smtpd's `seen_greeting`). */
  greeting: string;
  /** EHLO was used (smtpd's `extended_smtp`). */
  extended: boolean;
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
  /** Closes the connection after the replies sent so far. */
  close(): void;
}

export type Verb = 'EHLO' | 'HELO' | 'MAIL' | 'RCPT' | 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'VRFY' | 'HELP' | 'EXPN';

export interface CommandSpec {
  /** HELP's line for this verb; absent for verbs smtpd's HELP does not list. */
  readonly help?: (extended: boolean) => string;
  /** Runs the command; `arg` is null when the line had no space after the verb. */
  readonly run: (ctx: CommandContext, arg: string | null) => void;
}

const EXTENDED_SYNTAX = ' [SP <mail-parameters>]';

export const COMMANDS: Record<Verb, CommandSpec> = {
  EHLO: { help: () => 'EHLO hostname', run: (ctx, arg) => greet(ctx, arg, true) },
  HELO: { help: () => 'HELO hostname', run: (ctx, arg) => greet(ctx, arg, false) },
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
  if (!extended) return ctx.send({ code: 250, lines: [ctx.config.hostname] });
  ctx.session.extended = true;
  const lines = [ctx.config.hostname];
  if (ctx.config.dataSizeLimit) lines.push(`SIZE ${ctx.config.dataSizeLimit}`);
  lines.push('8BITMIME');
  if (ctx.config.enableSMTPUTF8) lines.push('SMTPUTF8');
  lines.push('PIPELINING', 'HELP');
  ctx.send({ code: 250, lines });
}

/** smtpd's `_strip_command_keyword`: the text after `FROM:`/`TO:`, or '' when the keyword is missing. */
function stripKeyword(keyword: string, arg: string): string {
  return arg.slice(0, keyword.length).toUpperCase() === keyword ? pyStrip(arg.slice(keyword.length)) : '';
}

/** Parses `FROM:<addr> params` / `TO:<addr> params`; undefined means a 501 syntax error. */
function parsePath(ctx: CommandContext, keyword: string, arg: string): { address: string; options: string[] } | undefined {
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
  const maxMessages = ctx.config.maxMessages ?? 0;
  if (maxMessages > 0 && ctx.messagesAccepted >= maxMessages) {
    ctx.send(R.R421_TOO_MANY_MESSAGES(ctx.config.hostname));
    return ctx.close();
  }
  const params = parseParams(path.options);
  if (!params) return ctx.send(syntaxError);
  const body = params.get('BODY') ?? '7BIT';
  params.delete('BODY');
  if (body !== '7BIT' && body !== '8BITMIME') return ctx.send(R.R501_BAD_BODY);
  let smtputf8 = false;
  if (ctx.config.enableSMTPUTF8 && params.has('SMTPUTF8')) {
    if (params.get('SMTPUTF8') !== true) return ctx.send(R.R501_SMTPUTF8_ARG);
    params.delete('SMTPUTF8');
    smtputf8 = true;
  }
  const size = params.get('SIZE');
  params.delete('SIZE');
  if (size !== undefined) {
    // smtpd crashed on a bare SIZE keyword (True.isdigit()); it is a syntax error.
    if (size === true || !/^[0-9]+$/.test(size)) return ctx.send(syntaxError);
    if (ctx.config.dataSizeLimit && Number(size) > ctx.config.dataSizeLimit) return ctx.send(R.R552_SIZE_EXCEEDED);
  }
  if (params.size > 0) return ctx.send(R.R555_MAIL_PARAMS);
  tx.mailFrom = path.address;
  tx.mailOptions = path.options;
  tx.smtputf8 = smtputf8;
  ctx.send(R.R250_OK);
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
  // smtpd recognises no RCPT parameters.
  if (params.size > 0) return ctx.send(R.R555_RCPT_PARAMS);
  const maxRecipients = ctx.config.maxRecipients ?? 0;
  if (maxRecipients > 0 && tx.rcptTos.length >= maxRecipients) return ctx.send(R.R452_TOO_MANY_RECIPIENTS);
  tx.rcptTos.push(path.address);
  tx.rcptOptions = path.options;
  ctx.send(R.R250_OK);
}
