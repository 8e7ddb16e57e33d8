/**
 * The quick parse against mailparser: for every message it takes, it must
 * give exactly what mailparser gives (deep equality of the ParsedMessage),
 * on the fixtures and on generated messages built from the pieces that
 * differ most between parsers: names, lists, folding, charsets, encodings,
 * line endings, trailing blanks, non-ASCII bodies. It must also take the
 * plain messages it was made for (or the test proves nothing).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMessage, parseWithMailparser } from '../../src/mime/parse-message.js';
import { quickParse } from '../../src/mime/quick-parse.js';
import { makeMessage } from '../helpers/message.js';
import { FIXTURES, loadFixture } from '../helpers/fixtures.js';
import { prng } from '../helpers/byte-script.js';

async function sameAsMailparser(data: Buffer, rcptTos: string[] = ['rcpt@example.com']): Promise<boolean> {
  const message = makeMessage(data, { rcptTos });
  const took = quickParse(data) !== null;
  assert.deepEqual(await parseMessage(message), await parseWithMailparser(message), data.toString('latin1'));
  return took;
}

const pickFrom = <T>(random: () => number, xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const ADDRESSES = [
  'a@example.com',
  'Bench Sender <sender@bench.example>',
  'Jane <jane.doe+tag@sub.example.org>',
  '<bare@example.com>',
  'x@y.z, Two Words <two@example.com>',
  'rcpt@example.com',
  '"Quoted, Name" <q@example.com>',
  'Name With  Two Spaces <s@example.com>',
  'undisclosed-recipients:;',
  'a@b (comment)',
  'üñí <u@example.com>',
  'x@xn--bcher-kva.example',
  'Ab Cd<nospace@example.com>',
  ' padded@example.com ',
];
const SUBJECTS = ['hello', '', '  spaced  ', 'colon: inside', 'tab\there', '=?utf-8?q?caf=C3=A9?=', 'x'.repeat(200)];
const TYPES = [
  null,
  'text/plain',
  'text/plain; charset=utf-8',
  'text/plain; charset="UTF-8"',
  'TEXT/PLAIN; CHARSET=us-ascii',
  'text/plain; charset=iso-8859-1',
  'text/plain; format=flowed',
  'text/html',
  'text/plain;charset=utf-8',
];
const ENCODINGS = [null, '7bit', '8bit', '8BIT', 'quoted-printable', 'base64'];
const BODY_LINES = [
  'plain line',
  '',
  '   ',
  'trailing space ',
  'café ünïcödé',
  '😀 emoji',
  '.dot start',
  'tab\tin',
  'a\rb',
];

/** Half the messages from the plain pieces only (the first few of each list), half from all of them. */
function generated(random: () => number): Buffer {
  const plain = random() < 0.5;
  const pick = <T>(r: () => number, xs: readonly T[]): T => pickFrom(r, plain ? xs.slice(0, 5) : xs);
  const lines: string[] = [];
  const header = (name: string, value: string) => lines.push(`${name}: ${value}`);
  if (random() < 0.9) header('From', pick(random, ADDRESSES));
  if (random() < 0.9) header('To', pick(random, ADDRESSES));
  if (random() < 0.3) header('Cc', pick(random, ADDRESSES));
  if (random() < 0.2) header('Bcc', pick(random, ADDRESSES));
  if (random() < 0.9) header('Subject', pick(random, SUBJECTS));
  if (!plain && random() < 0.1) header('Subject', 'second subject');
  if (random() < 0.7) header('Date', pick(random, ['Mon, 03 Nov 2025 10:00:00 +0000', 'not a date', '']));
  if (random() < 0.7) header('Message-ID', pick(random, ['<id.1@example.com>', 'no-brackets@example.com', '<a b>']));
  if (random() < 0.7) header('MIME-Version', '1.0');
  const type = pick(random, TYPES);
  if (type !== null) header('Content-Type', type);
  const encoding = pick(random, ENCODINGS);
  if (encoding !== null) header('Content-Transfer-Encoding', encoding);
  if (random() < 0.3) lines.push('X-Folded: first', '\tsecond part');
  if (random() < 0.2) header('X-Mailer', 'generator 1.0');
  if (!plain && random() < 0.05) header('Content-Disposition', 'attachment; filename=a.txt');
  const body: string[] = [];
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) body.push(pick(random, BODY_LINES));
  const eol = plain || random() < 0.9 ? '\r\n' : '\n';
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body.join(eol)}${random() < 0.9 ? '\r\n' : ''}`, 'utf8');
}

describe('quickParse', () => {
  it('gives what mailparser gives on every fixture', async () => {
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
    let took = 0;
    for (const name of fixtures) if (await sameAsMailparser(await loadFixture(name))) took++;
    assert.ok(took >= 1, 'the plain fixture is taken');
  });

  it('gives what mailparser gives on 1,000 generated messages, and takes the plain ones', async () => {
    const random = prng(15);
    let took = 0;
    for (let i = 0; i < 1000; i++) if (await sameAsMailparser(generated(random))) took++;
    assert.ok(took > 150, `only ${took} of 1000 taken`);
  });

  it('takes the message an application usually sends, and leaves the rest to mailparser', () => {
    const plain =
      'From: App <app@example.com>\r\nTo: user@example.com\r\nSubject: Welcome\r\nDate: Mon, 03 Nov 2025 10:00:00 +0000\r\n' +
      'Message-ID: <1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      'Content-Transfer-Encoding: 8bit\r\n\r\nHi café\r\n';
    const quick = quickParse(Buffer.from(plain));
    assert.ok(quick);
    assert.equal(quick.fields.text, 'Hi café\n');
    assert.deepEqual(quick.fields.from, [{ name: 'App', address: 'app@example.com' }]);
    for (const other of [
      plain.replace('text/plain; charset=utf-8', 'multipart/mixed; boundary=b'),
      plain.replace('Subject: Welcome', 'Subject: =?utf-8?q?caf=C3=A9?='),
      plain.replace('8bit', 'base64'),
      plain.replace('\r\n\r\n', '\n\n'),
    ])
      assert.equal(quickParse(Buffer.from(other)), null, other);
  });
});
