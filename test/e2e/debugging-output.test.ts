/**
 * End to end against the reference: the same messages go to our CLI and to
 * Python 3.11's `python3 -m smtpd -n -c DebuggingServer -s 33554432`, sent
 * (a) by our own socket client and (b) by Python's smtplib, and what the two
 * print must be the same, block by block and line by line.
 *
 * smtpd printed each message line as a Python bytes repr (`b'Subject: hi'`,
 * and `b'X-Peer: 127.0.0.1'`); we print the decoded text. `fromPyRepr`
 * turns smtpd's lines back into text (UTF-8, invalid bytes as U+FFFD) before
 * comparing. Messages carry no control characters but tab: we show those as
 * `\xHH` on purpose (src/printers/terminal-safe.ts), smtpd wrote them raw.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { exitStatus } from '../helpers/process.js';
import { PYTHON, smtpdUnavailable, startPythonSmtpd, type RunningSmtpd } from '../helpers/python-smtpd.js';
import { SmtpClient } from '../helpers/smtp-client.js';

const MESSAGE_FOLLOWS = '---------- MESSAGE FOLLOWS ----------';
const END_MESSAGE = '------------ END MESSAGE ------------';

// ---------------------------------------------------------------------------
// smtpd's bytes reprs

const SIMPLE_ESCAPES: Record<string, number> = { '\\': 0x5c, "'": 0x27, '"': 0x22, t: 0x09, r: 0x0d, n: 0x0a };

/**
 * The bytes behind a Python bytes repr such as `b'caf\xc3\xa9'` or
 * `b"it's"`, or undefined when `line` is not one.
 */
function pyBytes(line: string): Buffer | undefined {
  const m = /^b(['"])(.*)\1$/s.exec(line);
  if (!m) return undefined;
  const body = m[2]!;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = c.charCodeAt(0);
      if (code > 0x7e || code < 0x20) throw new Error(`not a bytes repr (raw ${JSON.stringify(c)}): ${line}`);
      bytes.push(code);
      continue;
    }
    const e = body[++i];
    if (e === 'x' && /^[0-9a-f]{2}$/.test(body.slice(i + 1, i + 3))) {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e !== undefined && e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]!);
    } else {
      throw new Error(`unknown escape \\${e ?? ''} in bytes repr: ${line}`);
    }
  }
  return Buffer.from(bytes);
}

/** One line of smtpd's output as we print it: a bytes repr becomes its UTF-8 text; other lines stay. */
function fromPyRepr(line: string): string {
  return pyBytes(line)?.toString('utf8') ?? line;
}

/** The DebuggingServer blocks in `stdout`, each from MESSAGE FOLLOWS to END MESSAGE. */
function blocks(stdout: string): string[][] {
  const found: string[][] = [];
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line === MESSAGE_FOLLOWS) current = [line];
    else if (current) {
      current.push(line);
      if (line === END_MESSAGE) {
        found.push(current);
        current = undefined;
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// The messages

interface Mail {
  readonly name: string;
  readonly from: string;
  readonly to: readonly string[];
  /** MAIL parameters, e.g. `['BODY=8BITMIME', 'SIZE=100']`. */
  readonly options?: readonly string[];
  /** Greet with HELO instead of EHLO. */
  readonly helo?: boolean;
  /** The message as the recipient gets it: not dot-stuffed, CRLF line ends. */
  readonly data: Buffer;
}

/** Lines joined with CRLF, each ended by one; strings are UTF-8, Buffers are taken as they are. */
function lines(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => [typeof p === 'string' ? Buffer.from(p, 'utf8') : p, Buffer.from('\r\n')]));
}

const HEADERS = [
  'From: Alice <a@example.test>',
  'To: Bob <b@example.test>',
  'Subject: test message',
  'Date: Mon, 1 Jan 2024 12:00:00 +0000',
  'Message-ID: <1@example.test>',
];
const FROM = 'a@example.test';
const TO = ['b@example.test'];

const MAILS: readonly Mail[] = [
  {
    name: 'a plain message with headers and body',
    from: FROM,
    to: TO,
    data: lines(...HEADERS, '', 'Hello Bob,', '', 'a body with an empty line.'),
  },
  { name: 'a message sent after HELO', from: FROM, to: TO, helo: true, data: lines('Subject: helo', '', 'body') },
  {
    name: 'a message with mail options',
    from: FROM,
    to: TO,
    options: ['BODY=8BITMIME', 'SIZE=100'],
    data: lines('Subject: options', '', 'body'),
  },
  {
    name: 'dot-stuffed body lines',
    from: FROM,
    to: TO,
    data: lines('Subject: dots', '', '.hidden', '..two dots', '.', '. space', 'end.'),
  },
  {
    name: 'UTF-8 (8-bit) text',
    from: FROM,
    to: TO,
    options: ['BODY=8BITMIME'],
    data: lines('Subject: Grüße aus Köln', '', 'Grüße — 日本語のテキスト ✓ 🎉', 'naïve café'),
  },
  {
    name: 'bytes that are not UTF-8',
    from: FROM,
    to: TO,
    data: lines('Subject: latin-1', '', Buffer.from('caf\xe9 \xff\xfe', 'latin1'), Buffer.from([0xe6, 0x97])),
  },
  { name: 'headers only, no blank line', from: FROM, to: TO, data: lines('Subject: no body', 'X-Test: yes') },
  {
    name: 'several recipients',
    from: FROM,
    to: ['b@example.test', 'c@example.test', 'd@example.test'],
    data: lines(...HEADERS, '', 'to three'),
  },
  {
    name: 'quotes, backslashes and tabs',
    from: FROM,
    to: TO,
    data: lines(
      "Subject: it's a \\ test",
      'X-Quote: say "hi"',
      `X-Both: it's "both"`,
      'X-Folded: first',
      '\tsecond',
      '',
      'C:\\path\\file\tend',
      "'",
      '"',
    ),
  },
  {
    name: 'bare CR and bare LF inside lines',
    from: FROM,
    to: TO,
    data: lines('Subject: eol', '', 'one\rtwo', 'three\nfour'),
  },
  // bytes.splitlines() gives no empty piece after the last line break.
  {
    name: 'an empty body after the blank line',
    from: FROM,
    to: TO,
    data: lines('Subject: empty body', ''),
  },
  {
    name: 'a body that ends with an empty line',
    from: FROM,
    to: TO,
    data: lines('Subject: trailing', '', 'text', ''),
  },
];

/**
 * An intended difference: smtpd stored rcpt_options before refusing a RCPT
 * with 555, so the refused recipient's options were printed with the message.
 */
const REFUSED_RCPT_OPTIONS = "rcpt options: ['NOTIFY=NEVER']";

// ---------------------------------------------------------------------------
// Sending

/** Dot-stuffs `data` (RFC 5321 4.5.2, as smtplib does: a dot after LF or at the start) and appends the end of data. */
function stuffed(data: Buffer): Buffer {
  const text = data.toString('latin1').replace(/(^|\n)\./g, '$1..');
  return Buffer.from(`${text}${text.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1');
}

/** Sends one mail with our socket client; returns the reply codes, greeting to QUIT. */
async function sendWithSocket(port: number, mail: Mail): Promise<number[]> {
  const c = await SmtpClient.connect(port);
  try {
    const codes = [(await c.read()).code];
    codes.push((await c.command(`${mail.helo ? 'HELO' : 'EHLO'} client.test`)).code);
    codes.push((await c.command(`MAIL FROM:<${mail.from}>${mail.options ? ` ${mail.options.join(' ')}` : ''}`)).code);
    for (const to of mail.to) codes.push((await c.command(`RCPT TO:<${to}>`)).code);
    codes.push((await c.command('DATA')).code);
    c.write(stuffed(mail.data));
    codes.push((await c.read()).code);
    codes.push((await c.command('QUIT')).code);
    return codes;
  } finally {
    c.close();
  }
}

function expectedCodes(mail: Mail): number[] {
  return [220, 250, 250, ...mail.to.map(() => 250), 354, 250, 221];
}

/** Sends each mail in its own smtplib session to each port; prints nothing on success. */
const SMTPLIB_SCRIPT = `
import base64, json, smtplib, sys
job = json.loads(sys.stdin.read())
for port in job['ports']:
    for m in job['mails']:
        with smtplib.SMTP('127.0.0.1', port, timeout=10) as s:
            if m['helo']:
                s.helo('client.test')
            refused = s.sendmail(m['from'], m['to'], base64.b64decode(m['data']), mail_options=m['options'])
            assert not refused, refused
`;

/** Runs smtplib in a python3 child (bounded, killed by PID on timeout). */
async function sendWithSmtplib(ports: readonly number[], mails: readonly Mail[], timeoutMs = 15_000): Promise<void> {
  const job = {
    ports,
    mails: mails.map((m) => ({
      from: m.from,
      to: m.to,
      options: m.options ?? [],
      helo: m.helo ?? false,
      data: m.data.toString('base64'),
    })),
  };
  const child = spawn(PYTHON, ['-c', SMTPLIB_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stdin.end(JSON.stringify(job));
  const { code, signal } = await exitStatus(child, timeoutMs);
  assert.equal(code, 0, `smtplib failed (exit ${code ?? signal}):\n${output}`);
}

// ---------------------------------------------------------------------------

describe('the pyBytes/fromPyRepr converter', () => {
  it("reads python's bytes reprs in both quote styles with every escape it writes", () => {
    assert.deepEqual(pyBytes(String.raw`b'a\tb\\c\x1b\xff\r\n\''`), Buffer.from("a\tb\\c\x1b\xff\r\n'", 'latin1'));
    assert.deepEqual(pyBytes(`b"it's"`), Buffer.from("it's"));
    assert.equal(fromPyRepr(String.raw`b'Gr\xc3\xbc\xc3\x9fe'`), 'Grüße');
    assert.equal(fromPyRepr(String.raw`b'caf\xe9'`), 'caf\ufffd');
    assert.equal(fromPyRepr("b''"), '');
    assert.equal(fromPyRepr("mail options: ['SIZE=100']"), "mail options: ['SIZE=100']");
    assert.throws(() => pyBytes(String.raw`b'\q'`), /unknown escape/);
  });
});

const unavailable = smtpdUnavailable();

describe('DebuggingServer output matches python smtpd', { skip: unavailable ?? false }, () => {
  let ours: RunningCli | undefined;
  let py: RunningSmtpd | undefined;

  before(async () => {
    // Our CLI's default size limit is smtpd's DATA_SIZE_DEFAULT; smtpd's CLI
    // sets none unless told, and smtplib sends SIZE= only when it is listed.
    const [a, b] = await Promise.allSettled([startCli(['127.0.0.1:0']), startPythonSmtpd(['-s', '33554432'])]);
    ours = a.status === 'fulfilled' ? a.value : undefined;
    py = b.status === 'fulfilled' ? b.value : undefined;
    if (a.status === 'rejected') throw a.reason;
    if (b.status === 'rejected') throw b.reason;
  });

  after(async () => {
    await Promise.all([ours?.stop(), py?.stop()]);
  });

  /** Waits until both servers have printed `count` blocks and returns block `index` of each, ours first. */
  async function printed(count: number, index: number): Promise<[string[], string[]]> {
    const what = `${count} DebuggingServer blocks`;
    const enough = (out: string) => blocks(out).length >= count;
    await Promise.all([ours!.waitForStdout(enough), py!.waitForStdout(enough, `smtpd to print ${what}`)]);
    return [blocks(ours!.stdout())[index]!, blocks(py!.stdout())[index]!.map(fromPyRepr)];
  }

  /** Asserts that the message printed as block `index` reads the same on both sides. */
  async function assertSame(mail: Mail, index: number): Promise<void> {
    const [a, b] = await printed(index + 1, index);
    assert.deepEqual(a, b, `"${mail.name}" prints differently (actual: ours, expected: smtpd, decoded)`);
  }

  describe('(a) sent by our socket client', () => {
    for (const mail of MAILS) {
      it(mail.name, async () => {
        const index = Math.max(blocks(ours!.stdout()).length, blocks(py!.stdout()).length);
        assert.equal(
          blocks(ours!.stdout()).length,
          blocks(py!.stdout()).length,
          'both have printed the same number of messages',
        );
        const [a, b] = await Promise.all([sendWithSocket(ours!.port, mail), sendWithSocket(py!.port, mail)]);
        assert.deepEqual(a, expectedCodes(mail), 'our replies');
        assert.deepEqual(b, expectedCodes(mail), "smtpd's replies");
        await assertSame(mail, index);
      });
    }

    it('does not print the options of a refused RCPT, which smtpd did', async () => {
      const index = blocks(ours!.stdout()).length;
      const dialogue = async (port: number) => {
        const c = await SmtpClient.connect(port);
        try {
          const codes = [(await c.read()).code];
          for (const line of [
            'EHLO x',
            `MAIL FROM:<${FROM}>`,
            'RCPT TO:<b@example.test>',
            'RCPT TO:<c@example.test> NOTIFY=NEVER',
            'DATA',
          ]) {
            codes.push((await c.command(line)).code);
          }
          c.write(stuffed(lines('Subject: rcpt options', '', 'body')));
          codes.push((await c.read()).code);
          return codes;
        } finally {
          c.close();
        }
      };
      const [a, b] = await Promise.all([dialogue(ours!.port), dialogue(py!.port)]);
      assert.deepEqual(a, [220, 250, 250, 250, 555, 354, 250]);
      assert.deepEqual(b, a);
      const [oursBlock, pyBlock] = await printed(index + 1, index);
      assert.ok(pyBlock.includes(REFUSED_RCPT_OPTIONS), 'smtpd printed the refused options');
      assert.ok(!oursBlock.includes(REFUSED_RCPT_OPTIONS), 'we do not');
      // smtpd's format adds an empty line after the options line.
      const withoutOptions = [...pyBlock];
      withoutOptions.splice(pyBlock.indexOf(REFUSED_RCPT_OPTIONS), 2);
      assert.deepEqual(oursBlock, withoutOptions);
    });
  });

  describe('(b) sent by python smtplib', () => {
    let first = 0;

    before(async () => {
      first = blocks(ours!.stdout()).length;
      assert.equal(blocks(py!.stdout()).length, first, 'both have printed the same number of messages before smtplib');
      // One python3 run sends every mail to both servers, one session per mail.
      await sendWithSmtplib([ours!.port, py!.port], MAILS);
    });

    MAILS.forEach((mail, i) => {
      it(mail.name, () => assertSame(mail, first + i));
    });
  });
});
