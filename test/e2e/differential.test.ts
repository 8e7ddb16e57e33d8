/**
 * Differential test against the reference: every dialogue below is played
 * against Python 3.11's `python3 -m smtpd -n -c DebuggingServer -s 33554432`
 * and against our CLI, one connection per dialogue, and every reply must
 * have the same code and, host names aside, the same text.
 *
 * The tables read as a spec of smtpd's command phase. A step is a command
 * line (CRLF added) that draws one reply, or raw bytes that draw a given
 * number of replies (pipelined commands, message data).
 *
 * Intended differences stay out of the tables and have their own tests at
 * the end, on our side only: EHLO also lists PIPELINING, CHUNKING and AUTH
 * (they are dropped before comparing), the greeting text, a bare LF ending a
 * command line, an empty message (smtpd hangs), the state after a 552
 * too-much-data (smtpd stays in DATA), non-UTF-8 command lines and a bare
 * SIZE parameter (smtpd crashes). Inputs that crash smtpd's address parser
 * (`VRFY @`, `MAIL FROM:(c)<a@b>`, ...) are left out: it drops the
 * connection, there is nothing to compare.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { startPythonSmtpd, smtpdUnavailable, type RunningSmtpd } from '../helpers/python-smtpd.js';
import { SmtpClient } from '../helpers/smtp-client.js';

/** A command line (one reply), or raw bytes and the number of replies they draw. */
type Step = string | { readonly raw: string | Buffer; readonly replies: number };

interface Dialogue {
  readonly name: string;
  readonly lines: readonly Step[];
  /** Why only the codes are compared: the texts differ on purpose. */
  readonly textsDiffer?: string;
}

/** Bytes written as they are, drawing `replies` replies. */
const raw = (bytes: string | Buffer, replies: number): Step => ({ raw: bytes, replies });

/** Message data after a 354: the lines, CRLF-ended, then the `.` line; draws the 250. */
const data = (...lines: string[]): Step => raw(`${lines.map((l) => `${l}\r\n`).join('')}.\r\n`, 1);

/** A command line of exactly `length` bytes: `head`, spaces, `tail` (smtpd strips the spaces around the argument). */
function sized(length: number, head: string, tail = ''): string {
  const line = `${head}${' '.repeat(length - head.length - tail.length)}${tail}`;
  assert.equal(Buffer.byteLength(line), length);
  return line;
}

/** reply.ts printable(): a control character echoed in a reply could forge reply lines; smtpd echoed it raw. */
const ECHO_ESCAPED = 'we echo control characters of the verb as \\xHH escapes; smtpd echoed them raw';

const TX = ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>'];

/** The dialogues run with `-s 33554432` on both sides. */
const DIALOGUES: readonly Dialogue[] = [
  // Greeting commands
  { name: 'HELO with an argument', lines: ['HELO client.test'] },
  {
    name: 'HELO without an argument, or only blanks, is a syntax error',
    lines: ['HELO', 'HELO   ', 'HELO client.test'],
  },
  { name: 'EHLO with an argument lists the extensions', lines: ['EHLO client.test'] },
  { name: 'EHLO without an argument is a syntax error', lines: ['EHLO', 'EHLO client.test'] },
  { name: 'a second HELO or EHLO is refused', lines: ['HELO a.test', 'HELO b.test', 'EHLO c.test', 'NOOP'] },
  { name: 'a second EHLO is refused', lines: ['EHLO a.test', 'EHLO a.test', 'HELO b.test'] },
  // Session commands
  { name: 'NOOP without and with an argument', lines: ['NOOP', 'NOOP x', 'NOOP   '] },
  { name: 'RSET without and with an argument', lines: ['RSET', 'RSET x', 'HELO x', 'RSET', 'RSET now'] },
  { name: 'QUIT ends the session', lines: ['QUIT'] },
  { name: 'QUIT ignores its argument', lines: ['HELO x', 'QUIT now please'] },
  { name: 'HELP without an argument lists the commands', lines: ['HELP', 'HELP   '] },
  {
    name: 'HELP for each verb',
    lines: [
      'HELP EHLO',
      'HELP HELO',
      'HELP MAIL',
      'HELP RCPT',
      'HELP DATA',
      'HELP RSET',
      'HELP NOOP',
      'HELP QUIT',
      'HELP VRFY',
    ],
  },
  { name: 'HELP for an unknown or unlisted verb', lines: ['HELP FOO', 'HELP EXPN', 'HELP HELP', 'HELP MAIL FROM'] },
  { name: 'HELP in lower case', lines: ['help', 'help mail', 'Help Rcpt'] },
  {
    name: 'HELP after EHLO shows the parameter syntax of MAIL and RCPT',
    lines: ['EHLO x', 'HELP MAIL', 'HELP RCPT', 'HELP DATA'],
  },
  { name: 'HELP after HELO shows no parameter syntax', lines: ['HELO x', 'HELP MAIL', 'HELP RCPT'] },
  { name: 'VRFY an address', lines: ['VRFY <a@example.test>', 'VRFY a@example.test', 'VRFY postmaster', 'VRFY <>'] },
  { name: 'VRFY garbage', lines: ['VRFY ""', 'VRFY !!!', 'VRFY x y z', 'VRFY "x', 'VRFY <a@b', 'VRFY \\'] },
  { name: 'VRFY without an argument', lines: ['VRFY', 'VRFY   '] },
  { name: 'EXPN is not implemented', lines: ['EXPN', 'EXPN list', 'HELO x', 'EXPN list'] },
  { name: 'unknown commands', lines: ['FOO', 'foo bar', 'STARTTLS', 'AUTH PLAIN AGF1dGg=', 'BDAT 10 LAST', 'ETRN x'] },
  {
    name: 'only a space separates the verb',
    lines: ['NOOP\tx', 'HELO\tx', 'MAIL:FROM:<a@b>', 'NOOP\0'],
    textsDiffer: ECHO_ESCAPED,
  },
  {
    name: 'verbs in lower and mixed case',
    lines: ['helo x', 'NoOp', 'mail from:<a@example.test>', 'RcPt To:<b@example.test>', 'rset', 'quit'],
  },
  { name: 'an empty line is bad syntax', lines: ['', 'HELO x', '', 'NOOP'] },
  // Order of commands
  {
    name: 'MAIL, RCPT and DATA before HELO',
    lines: ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA', 'MAIL'],
  },
  { name: 'RCPT before MAIL', lines: ['HELO x', 'RCPT TO:<b@example.test>', 'RCPT'] },
  { name: 'nested MAIL', lines: ['HELO x', 'MAIL FROM:<a@example.test>', 'MAIL FROM:<c@example.test>', 'MAIL FROM:'] },
  { name: 'DATA without RCPT', lines: ['HELO x', 'DATA', 'MAIL FROM:<a@example.test>', 'DATA'] },
  { name: 'DATA with an argument', lines: ['HELO x', ...TX, 'DATA now', 'RSET'] },
  {
    name: 'RSET in the middle of a transaction',
    lines: ['HELO x', ...TX, 'RSET', 'DATA', 'RCPT TO:<b@example.test>', ...TX, 'DATA', data('x'), 'QUIT'],
  },
  // MAIL and RCPT syntax
  {
    name: 'MAIL FROM:<> (the null sender)',
    lines: ['HELO x', 'MAIL FROM:<>', 'RCPT TO:<>', 'RCPT TO:<b@example.test>'],
  },
  {
    name: 'MAIL FROM without a colon',
    lines: ['HELO x', 'MAIL FROM <a@example.test>', 'MAIL <a@example.test>', 'MAIL TO:<a@example.test>'],
  },
  {
    name: 'MAIL and RCPT with a missing address',
    lines: ['HELO x', 'MAIL', 'MAIL FROM:', 'MAIL FROM:   ', 'MAIL FROM:<a@b>', 'RCPT', 'RCPT TO:', 'RCPT TO <b@c>'],
  },
  {
    name: 'addresses without angle brackets or with odd content',
    lines: [
      'HELO x',
      'MAIL FROM:a@example.test',
      'RCPT TO:b@example.test',
      'RCPT TO:<"a b"@c>',
      'RCPT TO:<@x,@y:a@b>',
      'RCPT TO:<a@[127.0.0.1]>',
      'RCPT TO:postmaster',
      'RCPT TO:c@d (comment)',
    ],
  },
  {
    name: 'blanks around the address',
    lines: ['HELO x', 'MAIL FROM:   <a@example.test>   ', 'RCPT TO:  b@example.test'],
  },
  {
    name: 'two addresses or a display name are syntax errors',
    lines: ['HELO x', 'MAIL FROM:<a@b> <c@d>', 'MAIL FROM:Name <a@b>', 'MAIL FROM:<a@b>,'],
  },
  {
    name: 'a non-ASCII address',
    lines: ['HELO x', 'MAIL FROM:<jörg@example.test>', 'RCPT TO:<日本@example.test>', 'VRFY ü'],
  },
  {
    name: 'parameters after HELO are a syntax error',
    lines: [
      'HELO x',
      'MAIL FROM:<a@b> SIZE=100',
      'MAIL FROM:<a@b> BODY=7BIT',
      'MAIL FROM:<a@b>',
      'RCPT TO:<c@d> NOTIFY=NEVER',
    ],
  },
  {
    name: 'parameters after EHLO are accepted',
    lines: ['EHLO x', 'MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME', 'RCPT TO:<c@d>'],
  },
  { name: 'parameters in lower case', lines: ['EHLO x', 'MAIL FROM:<a@b> size=100 body=8bitmime'] },
  {
    name: 'SIZE under, at and over the limit',
    lines: [
      'EHLO x',
      'MAIL FROM:<a@b> SIZE=0',
      'RSET',
      'MAIL FROM:<a@b> SIZE=33554432',
      'RSET',
      'MAIL FROM:<a@b> SIZE=033554432',
      'RSET',
      'MAIL FROM:<a@b> SIZE=33554433',
      'MAIL FROM:<a@b> SIZE=99999999999999999999999',
    ],
  },
  {
    name: 'SIZE that is not a number',
    lines: [
      'EHLO x',
      'MAIL FROM:<a@b> SIZE=abc',
      'MAIL FROM:<a@b> SIZE=-1',
      'MAIL FROM:<a@b> SIZE=1.5',
      'MAIL FROM:<a@b> SIZE=100 SIZE=abc',
    ],
  },
  {
    name: 'BODY=7BIT and BODY=8BITMIME are accepted',
    lines: ['EHLO x', 'MAIL FROM:<a@b> BODY=7BIT', 'RSET', 'MAIL FROM:<a@b> BODY=8BITMIME'],
  },
  {
    name: 'other BODY values are refused',
    lines: ['EHLO x', 'MAIL FROM:<a@b> BODY=BINARYMIME', 'MAIL FROM:<a@b> BODY=binary', 'MAIL FROM:<a@b> BODY'],
  },
  {
    name: 'unknown MAIL parameters are not implemented',
    lines: [
      'EHLO x',
      'MAIL FROM:<a@b> FOO=bar',
      'MAIL FROM:<a@b> FOO',
      'MAIL FROM:<a@b> SMTPUTF8',
      'MAIL FROM:<a@b> AUTH=<>',
      'MAIL FROM:<a@b>x',
      'MAIL FROM:<a@b> 8=8',
    ],
  },
  {
    name: 'RCPT parameters are not implemented',
    lines: ['EHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d> NOTIFY=NEVER', 'RCPT TO:<c@d> FOO', 'RCPT TO:<c@d>'],
  },
  {
    name: 'malformed parameters are syntax errors',
    lines: [
      'EHLO x',
      'MAIL FROM:<a@b> FOO=',
      'MAIL FROM:<a@b> SIZE=',
      'MAIL FROM:<a@b> =1',
      'MAIL FROM:<a@b> SIZE==1',
      'MAIL FROM:<a@b> A-B=1',
      'MAIL FROM:<a@b>',
      'RCPT TO:<c@d> FOO=',
      'RCPT TO:<c@d> X_Y',
    ],
  },
  { name: 'parameters separated by tabs', lines: ['EHLO x', 'MAIL FROM:<a@b> SIZE=1\tBODY=7BIT'] },
  {
    name: 'a later duplicate parameter wins',
    lines: ['EHLO x', 'MAIL FROM:<a@b> BODY=FOO BODY=7BIT', 'RSET', 'MAIL FROM:<a@b> BODY=7BIT BODY=FOO'],
  },
  // Line lengths
  {
    name: 'a 512-byte command line is accepted, 513 bytes is too long',
    lines: [sized(512, 'NOOP'), sized(513, 'NOOP'), sized(600, 'NOOP'), sized(513, 'FOO'), 'NOOP'],
  },
  {
    name: 'a long line is too long before anything else is checked',
    lines: [sized(513, 'MAIL FROM:<a@b>'), sized(513, 'HELO', 'x'), 'HELO x', sized(512, 'HELO', 'x')],
  },
  {
    name: 'MAIL after HELO gets no extra room',
    lines: ['HELO x', sized(512, 'MAIL FROM:<a@b>'), 'RSET', sized(513, 'MAIL FROM:<a@b>')],
  },
  {
    name: 'MAIL after EHLO may be 538 bytes (SIZE room), other commands 512',
    lines: [
      'EHLO x',
      sized(538, 'MAIL FROM:<a@b>', 'BODY=7BIT'),
      'RSET',
      sized(539, 'MAIL FROM:<a@b>', 'BODY=7BIT'),
      sized(513, 'NOOP'),
      sized(513, 'RCPT TO:<c@d>'),
    ],
  },
  // Transactions
  {
    name: 'a whole transaction with dot-stuffing',
    lines: [
      'EHLO client.test',
      'MAIL FROM:<a@example.test> BODY=8BITMIME',
      'RCPT TO:<b@example.test>',
      'RCPT TO:<c@example.test>',
      'DATA',
      data('Subject: dots', '', '..leading dot', '...', '. .', 'end'),
      'QUIT',
    ],
  },
  {
    name: 'two messages in one session',
    lines: [
      'HELO client.test',
      ...TX,
      'DATA',
      data('Subject: one', '', 'first'),
      'NOOP',
      ...TX,
      'DATA',
      data('Subject: two', '', 'second'),
      'DATA',
      'QUIT',
    ],
  },
  {
    name: 'the transaction is over after the message',
    lines: ['HELO x', ...TX, 'DATA', data('x'), 'RCPT TO:<b@example.test>', 'DATA', 'MAIL FROM:<a@b>'],
  },
  {
    name: 'a line with only a dot inside the data is stuffed',
    lines: ['HELO x', ...TX, 'DATA', raw('..\r\n..\r\nx\r\n.\r\n', 1), 'NOOP'],
  },
  {
    name: 'commands inside the data are data',
    lines: ['HELO x', ...TX, 'DATA', data('QUIT', 'RSET', 'MAIL FROM:<x@y>'), 'NOOP', 'QUIT'],
  },
  // Pipelining (smtpd reads a buffer of lines like one line at a time, as long as DATA is not among them)
  {
    name: 'pipelined commands in one write',
    lines: [
      raw('HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nNOOP\r\n', 5),
      'DATA',
      data('x'),
      'QUIT',
    ],
  },
  {
    name: 'pipelined errors in one write',
    lines: [raw('MAIL FROM:<a@b>\r\nHELO x\r\nRCPT TO:<c@d>\r\nFOO\r\n\r\nMAIL FROM:<a@b> SIZE=1\r\nRSET x\r\n', 7)],
  },
  {
    name: 'pipelined EHLO and a transaction',
    lines: [raw('EHLO x\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nHELP MAIL\r\n', 4), 'QUIT'],
  },
  { name: 'a command split across writes', lines: [raw('HE', 0), raw('LO x\r', 0), raw('\nNO', 0), raw('OP\r\n', 2)] },
  { name: 'pipelined commands after QUIT are ignored', lines: [raw('QUIT\r\nNOOP\r\n', 1)] },
];

/** The dialogues run with `-s 33554432 -u` (SMTPUTF8) on both sides. */
const SMTPUTF8_DIALOGUES: readonly Dialogue[] = [
  { name: 'EHLO lists SMTPUTF8', lines: ['EHLO client.test'] },
  { name: 'MAIL with SMTPUTF8', lines: ['EHLO x', 'MAIL FROM:<a@b> SMTPUTF8', 'RCPT TO:<c@d>'] },
  {
    name: 'MAIL with SMTPUTF8 and other parameters',
    lines: ['EHLO x', 'MAIL FROM:<a@b> smtputf8 BODY=8BITMIME SIZE=100'],
  },
  {
    name: 'SMTPUTF8 takes no value',
    lines: ['EHLO x', 'MAIL FROM:<a@b> SMTPUTF8=x', 'MAIL FROM:<a@b> SMTPUTF8=', 'MAIL FROM:<a@b> SMTPUTF8'],
  },
  { name: 'SMTPUTF8 after HELO is a syntax error', lines: ['HELO x', 'MAIL FROM:<a@b> SMTPUTF8'] },
  {
    name: 'a UTF-8 address with SMTPUTF8',
    lines: [
      'EHLO x',
      'MAIL FROM:<jörg@例え.test> SMTPUTF8',
      'RCPT TO:<日本@example.test>',
      'DATA',
      data('Subject: grüße', '', 'body'),
      'QUIT',
    ],
  },
  { name: 'RCPT does not take SMTPUTF8', lines: ['EHLO x', 'MAIL FROM:<a@b> SMTPUTF8', 'RCPT TO:<c@d> SMTPUTF8'] },
  {
    name: 'MAIL after EHLO may be 548 bytes (SIZE and SMTPUTF8 room)',
    lines: [
      'EHLO x',
      sized(548, 'MAIL FROM:<a@b>', 'SMTPUTF8'),
      'RSET',
      sized(549, 'MAIL FROM:<a@b>', 'SMTPUTF8'),
      sized(513, 'NOOP'),
    ],
  },
  { name: 'HELP is unchanged', lines: ['EHLO x', 'HELP', 'HELP MAIL'] },
];

// ---------------------------------------------------------------------------
// Running a dialogue and comparing

/** One reply as seen by the client, or how the wait for it ended. */
type Seen = { readonly code: number; readonly lines: readonly string[] } | 'connection closed' | 'no reply';

interface Entry {
  /** What was written before this reply (empty for later replies of the same write). */
  readonly sent: string;
  readonly seen: Seen;
}

const READ_TIMEOUT_MS = 3000;

/** Plays `steps` on a new connection; the greeting is the first entry. */
async function play(port: number, steps: readonly Step[]): Promise<Entry[]> {
  const c = await SmtpClient.connect(port);
  const entries: Entry[] = [];
  const read = async (sent: string): Promise<boolean> => {
    try {
      entries.push({ sent, seen: await c.read(READ_TIMEOUT_MS) });
      return true;
    } catch (e) {
      entries.push({
        sent,
        seen: (e as Error).message.startsWith('connection closed') ? 'connection closed' : 'no reply',
      });
      return false;
    }
  };
  try {
    if (!(await read('(connect)'))) return entries;
    for (const step of steps) {
      const bytes = typeof step === 'string' ? `${step}\r\n` : step.raw;
      const replies = typeof step === 'string' ? 1 : step.replies;
      c.write(bytes);
      for (let i = 0; i < replies; i++) if (!(await read(i === 0 ? show(bytes) : ''))) return entries;
    }
    // After 221 the server must close, with nothing more to say.
    const last = entries[entries.length - 1]?.seen;
    if (typeof last === 'object' && last.code === 221) await read('');
    return entries;
  } finally {
    c.close();
  }
}

function show(bytes: string | Buffer): string {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  const json = JSON.stringify(text.length > 70 ? `${text.slice(0, 40)}...${text.slice(-20)}` : text);
  return text.length > 70 ? `${json} (${Buffer.byteLength(text)} bytes)` : json;
}

/**
 * A reply as a comparable string. The greeting's text and the host name that
 * starts the HELO/EHLO reply are the server's own and are not compared;
 * The keywords only we advertise (PIPELINING, and CHUNKING and AUTH, on by
 * default) are dropped from the EHLO reply.
 */
const ONLY_OURS = /^(?:PIPELINING|CHUNKING|AUTH [A-Z0-9 -]+)$/;

function normalize(entries: readonly Entry[]): string[] {
  const greeting = entries[0]?.seen;
  const host = typeof greeting === 'object' ? (greeting.lines[0] ?? '').split(' ')[0] : undefined;
  return entries.map((e, i) => {
    const seen = e.seen;
    if (typeof seen === 'string') return `(${seen})`;
    if (i === 0) return `${seen.code} <greeting>`;
    let lines = [...seen.lines];
    if (host !== undefined && lines[0] === host) {
      lines[0] = '<host>';
      lines = lines.filter((l) => !ONLY_OURS.test(l));
    }
    return lines.map((l, j) => `${seen.code}${j < lines.length - 1 ? '-' : ' '}${l}`).join('\n');
  });
}

function codeOf(reply: string): string {
  return reply.startsWith('(') ? reply : reply.slice(0, 3);
}

/** Both transcripts side by side, for failure messages. */
function sideBySide(steps: readonly Entry[], ours: readonly string[], theirs: readonly string[]): string {
  const rows: string[] = [];
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    const sent = steps[i]?.sent;
    if (sent) rows.push(`C: ${sent}`);
    const a = ours[i] ?? '(nothing)';
    const b = theirs[i] ?? '(nothing)';
    rows.push(
      a === b
        ? `   both:   ${a.replaceAll('\n', ' | ')}`
        : ` * ours:   ${a.replaceAll('\n', ' | ')}\n * smtpd:  ${b.replaceAll('\n', ' | ')}`,
    );
  }
  return rows.join('\n');
}

async function compare(dialogue: Dialogue, ourPort: number, pyPort: number): Promise<void> {
  const [ours, theirs] = await Promise.all([play(ourPort, dialogue.lines), play(pyPort, dialogue.lines)]);
  const a = normalize(ours);
  const b = normalize(theirs);
  const table = sideBySide(ours.length >= theirs.length ? ours : theirs, a, b);
  assert.deepEqual(a.map(codeOf), b.map(codeOf), `reply codes differ from smtpd:\n${table}`);
  if (!dialogue.textsDiffer) assert.deepEqual(a, b, `reply texts differ from smtpd:\n${table}`);
}

// ---------------------------------------------------------------------------

const unavailable = smtpdUnavailable();
const SIZE = ['-s', '33554432'];

describe('replies match python smtpd, dialogue by dialogue', { skip: unavailable ?? false }, () => {
  let ours: RunningCli | undefined;
  let py: RunningSmtpd | undefined;
  let ours8: RunningCli | undefined;
  let py8: RunningSmtpd | undefined;

  before(async () => {
    // All four start at once; each is stopped in after() even if another failed.
    const started = await Promise.allSettled([
      startCli([...SIZE, '127.0.0.1:0']),
      startPythonSmtpd(SIZE),
      startCli([...SIZE, '-u', '127.0.0.1:0']),
      startPythonSmtpd([...SIZE, '-u']),
    ] as const);
    const [a, b, c, d] = started;
    ours = a.status === 'fulfilled' ? a.value : undefined;
    py = b.status === 'fulfilled' ? b.value : undefined;
    ours8 = c.status === 'fulfilled' ? c.value : undefined;
    py8 = d.status === 'fulfilled' ? d.value : undefined;
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });

  after(async () => {
    await Promise.all([ours?.stop(), py?.stop(), ours8?.stop(), py8?.stop()]);
  });

  it('has at least 40 dialogues', () => {
    assert.ok(DIALOGUES.length + SMTPUTF8_DIALOGUES.length >= 40);
    const names = [...DIALOGUES, ...SMTPUTF8_DIALOGUES].map((d) => d.name);
    assert.equal(new Set(names).size, names.length, 'dialogue names are unique');
  });

  describe('with -s 33554432', () => {
    for (const d of DIALOGUES) {
      it(d.name, () => compare(d, ours!.port, py!.port));
    }
  });

  describe('with -s 33554432 -u (SMTPUTF8)', () => {
    for (const d of SMTPUTF8_DIALOGUES) {
      it(d.name, () => compare(d, ours8!.port, py8!.port));
    }
  });
});

describe('intended differences from smtpd, on our side', () => {
  let ours: RunningCli | undefined;

  before(async () => {
    ours = await startCli([...SIZE, '127.0.0.1:0']);
  });

  after(async () => {
    await ours?.stop();
  });

  /** Connects, reads the greeting, and returns the client. */
  async function session(port = ours!.port): Promise<SmtpClient> {
    const c = await SmtpClient.connect(port);
    assert.equal((await c.read()).code, 220);
    return c;
  }

  it('greets with its own name and version instead of "Python SMTP proxy version 0.3"', async () => {
    const c = await SmtpClient.connect(ours!.port);
    try {
      const greeting = await c.read();
      assert.equal(greeting.code, 220);
      assert.match(greeting.lines[0]!, /^\S+ smtpd-ts \d+\.\d+\.\d+/);
    } finally {
      c.close();
    }
  });

  it('advertises PIPELINING, CHUNKING and (on loopback) AUTH after EHLO', async () => {
    const c = await session();
    try {
      const ehlo = await c.command('EHLO x');
      assert.deepEqual(ehlo.lines.slice(1), [
        'SIZE 33554432',
        '8BITMIME',
        'PIPELINING',
        'CHUNKING',
        'AUTH PLAIN LOGIN CRAM-MD5',
        'HELP',
      ]);
    } finally {
      c.close();
    }
  });

  it('ends a command line at a bare LF, where smtpd waits for CRLF', async () => {
    const c = await session();
    try {
      c.write('NOOP\nHELO x\n');
      assert.equal((await c.read()).code, 250);
      assert.equal((await c.read()).code, 250);
    } finally {
      c.close();
    }
  });

  it('accepts an empty message, where smtpd waits forever for CRLF.CRLF', async () => {
    const c = await session();
    try {
      for (const line of ['HELO x', ...TX]) assert.equal((await c.command(line)).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      assert.deepEqual(await c.command('.'), { code: 250, lines: ['OK'] });
      assert.equal((await c.command('NOOP')).code, 250);
    } finally {
      c.close();
    }
  });

  it('answers a non-UTF-8 command line with 500 and goes on, where smtpd dropped the connection', async () => {
    const c = await session();
    try {
      c.write(Buffer.from('HELO \xff\xfe\r\n', 'latin1'));
      assert.equal((await c.read()).code, 500);
      assert.equal((await c.command('HELO x')).code, 250);
    } finally {
      c.close();
    }
  });

  it('echoes control characters of an unknown verb escaped, where smtpd echoed them raw', async () => {
    const c = await session();
    try {
      assert.deepEqual(await c.command('NOOP\tx'), {
        code: 500,
        lines: ['Error: command "NOOP\\x09X" not recognized'],
      });
    } finally {
      c.close();
    }
  });

  it('answers a bare SIZE parameter with 501, where smtpd crashed', async () => {
    const c = await session();
    try {
      assert.equal((await c.command('EHLO x')).code, 250);
      assert.equal((await c.command('MAIL FROM:<a@b> SIZE')).code, 501);
      assert.equal((await c.command('MAIL FROM:<a@b> SIZE=1')).code, 250);
    } finally {
      c.close();
    }
  });

  it('takes SIZE in ASCII digits only (RFC 1870), where smtpd took any Unicode decimal digit', async () => {
    const c = await session();
    try {
      assert.equal((await c.command('EHLO x')).code, 250);
      assert.equal((await c.command('MAIL FROM:<a@b> SIZE=\u0663')).code, 501);
      assert.equal((await c.command('MAIL FROM:<a@b> SIZE=\uff11\uff12')).code, 501);
    } finally {
      c.close();
    }
  });

  it('ends the transaction after 552 too much data, where smtpd stayed in DATA', async () => {
    const small = await startCli(['-s', '100', '127.0.0.1:0']);
    const c = await session(small.port);
    try {
      for (const line of ['HELO x', ...TX]) assert.equal((await c.command(line)).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      c.write(`${'x'.repeat(200)}\r\n.\r\n`);
      assert.equal((await c.read()).code, 552);
      assert.equal((await c.command('NOOP')).code, 250);
      assert.equal((await c.command('RCPT TO:<b@example.test>')).code, 503, 'the transaction is over');
    } finally {
      c.close();
      await small.stop();
    }
  });
});
