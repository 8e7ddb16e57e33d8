/**
 * `smtpd-ts sendmail`: a sendmail for PHP's `mail()`, cron and scripts,
 * pointed at a running sink, as Mailpit's `mailpit sendmail` and MailHog's
 * `mhsendmail` are. It reads the message on stdin (sendmail-args.ts: the
 * flags; submission.ts: the message), submits it over SMTP with the relay's
 * client (nodemailer's SMTPConnection) and exits as sendmail does
 * (sysexits.h).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { UsageError } from '../../errors.js';
import { sendUpstream } from '../../relay/upstream.js';
import { parseSendmailArgs, SENDMAIL_HELP } from './sendmail-args.js';
import { buildSubmission } from './submission.js';

/** sysexits.h, as sendmail uses them. */
const SENDMAIL_EXIT = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  UNAVAILABLE: 69,
  IOERR: 74,
  TEMPFAIL: 75,
} as const;

/** The most a message on stdin may be: far above any sink's size limit, so a runaway pipe cannot fill memory. */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** How long each wait for the sink (connect, each reply) may take. */
const SINK_TIMEOUT_MS = 30_000;

export interface SendmailIO {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_INPUT_BYTES) throw new Error(`the message is over ${MAX_INPUT_BYTES / 1024 / 1024} MiB`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Runs `smtpd-ts sendmail ARGS`; resolves with the exit status. */
export async function runSendmail(argv: readonly string[], io: SendmailIO): Promise<number> {
  const say = (text: string) => io.stderr.write(`smtpd-ts sendmail: ${text}\n`);
  let args;
  try {
    args = parseSendmailArgs(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    say(err.message);
    return SENDMAIL_EXIT.USAGE;
  }
  if (args.help) {
    io.stdout.write(SENDMAIL_HELP);
    return SENDMAIL_EXIT.OK;
  }
  let input: Buffer;
  try {
    input = await readAll(io.stdin);
  } catch (err) {
    say(`cannot read the message on stdin: ${(err as Error).message}`);
    return SENDMAIL_EXIT.IOERR;
  }
  const hostname = os.hostname();
  const submission = buildSubmission(input, args, {
    user: io.env.USER || io.env.LOGNAME || os.userInfo().username,
    hostname,
    now: new Date(),
    unique: `${Date.now()}.${randomBytes(6).toString('hex')}`,
  });
  if (submission.rcptTos.length === 0) {
    say(`no recipient: give them as arguments${args.readRecipients ? ', or in To, Cc or Bcc' : ', or use -t'}`);
    return SENDMAIL_EXIT.USAGE;
  }
  if (input.length === 0) {
    say('the message on stdin is empty');
    return SENDMAIL_EXIT.DATAERR;
  }
  const sink = `${args.sink.host}:${args.sink.port}`;
  const result = await sendUpstream(
    { ...args.sink, requireTLS: false, timeoutMs: SINK_TIMEOUT_MS, name: hostname },
    { mailFrom: submission.mailFrom, rcptTos: submission.rcptTos, eightBit: submission.data.some((b) => b > 0x7f) },
    [submission.data],
  );
  if (result.refused.length === 0) return SENDMAIL_EXIT.OK;
  for (const r of result.refused) {
    const text = r.message.replace(/^upstream \S+: /, '');
    say(
      r.code === 451 && /^upstream /.test(r.message)
        ? `cannot submit to the sink at ${sink}: ${text}`
        : `${r.address}: ${r.code} ${text}`,
    );
  }
  return result.refused.some((r) => r.code >= 500) ? SENDMAIL_EXIT.UNAVAILABLE : SENDMAIL_EXIT.TEMPFAIL;
}
