/**
 * Every fixture sent through the real CLI over SMTP, and checked in every
 * format at once: raw on stdout, headers, parsed and json (with --json-raw)
 * in files, and the Maildir of --save-dir.
 */
import { humanSize } from '../../src/printers/parsed.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { maildirContent } from '../../src/outputs/maildir.js';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import type { JsonRecord } from '../../src/printers/json.js';
import { END_MESSAGE, MESSAGE_FOLLOWS } from '../../src/printers/raw.js';
import { CASES } from '../fixtures/cases.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { deliver, loadFixture } from '../helpers/fixtures.js';
import { validate } from '../helpers/json-schema.js';
import { makeMessage } from '../helpers/message.js';
import { missingTools } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Lists a Maildir the way a mail reader does: python3's mailbox.Maildir, key -> decoded Subject. */
const MAILDIR_READER = `
import email, email.policy, json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default), create=False)
print(json.dumps({key: str(box[key]["Subject"]) for key in box.keys()}))
`;

/** Splits human-format output into one text per message, framing included. */
function messages(text: string): string[] {
  const parts = text.split(`${END_MESSAGE}\n`);
  assert.equal(parts.pop(), '', 'output ends with the end of a message');
  for (const p of parts)
    assert.ok(p.startsWith(`${MESSAGE_FOLLOWS}\n`), `a message starts with the framing: ${p.slice(0, 80)}`);
  return parts;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('every fixture through the CLI, in every format', () => {
  const tmp = tempDir('formats');
  let cli: RunningCli;
  const codes: number[] = [];
  const data: Buffer[] = [];
  let raw: string[] = [];
  let headers: string[] = [];
  let parsed: string[] = [];
  let records: JsonRecord[] = [];
  let jsonLines: string[] = [];

  before(async () => {
    const file = tmp.join;
    // -n: stay root where the tests run as root, as a Maildir made by root is not nobody's.
    cli = await startCli([
      '-n',
      '-u',
      ...[
        '-o',
        'raw:-',
        '-o',
        `headers:${file('headers.txt')}`,
        '-o',
        `parsed:${file('parsed.txt')}`,
        '-o',
        `json:${file('log.jsonl')}`,
      ],
      ...['--json-raw', '--save-dir', file('Maildir'), '127.0.0.1:0'],
    ]);
    for (const c of CASES) {
      data.push(await loadFixture(c.file));
      codes.push(await deliver(cli.port, c.envelope, data.at(-1)!));
    }
    await cli.waitForStdout(`${CASES.at(-1)!.rawBody}\n${END_MESSAGE}\n`);
    await cli.stop();
    raw = messages(cli.stdout());
    headers = messages(await readFile(file('headers.txt'), 'utf8'));
    parsed = messages(await readFile(file('parsed.txt'), 'utf8'));
    jsonLines = (await readFile(file('log.jsonl'), 'utf8')).split('\n');
    assert.equal(jsonLines.pop(), '');
    records = jsonLines.map((l) => JSON.parse(l) as JsonRecord);
  });

  after(async () => {
    await cli?.stop();
  });

  it('accepts every fixture with 250 and writes each to every output once', () => {
    assert.deepEqual(
      codes,
      CASES.map(() => 250),
    );
    for (const out of [raw, headers, parsed, records]) assert.equal(out.length, CASES.length);
    assert.doesNotMatch(cli.stderr(), /warning|error/);
  });

  CASES.forEach((c, i) => {
    describe(c.file, () => {
      it('is shown raw, undecoded, with X-Peer at the end of the headers', () => {
        assert.ok(raw[i]!.includes(`\n${c.rawHeader}\n`), raw[i]);
        assert.ok(raw[i]!.includes(`\n${c.rawBody}\n`), raw[i]);
        assert.ok(raw[i]!.includes('\nX-Peer: 127.0.0.1\n'));
      });

      it('is shown as headers only, without the body', () => {
        assert.ok(headers[i]!.includes(`\n${c.rawHeader}\n`), headers[i]);
        assert.ok(headers[i]!.endsWith('\nX-Peer: 127.0.0.1\n') || !raw[i]!.includes('X-Peer'), headers[i]);
        assert.ok(!headers[i]!.includes(`\n${c.rawBody}\n`), headers[i]);
      });

      it('is shown parsed: decoded subject, sender, text, Bcc, HTML size and hashed attachments', () => {
        const p = parsed[i]!;
        assert.ok(p.includes(`\nSubject: ${c.subject}\n`), p);
        assert.ok(p.includes(`${c.from.address}`), p);
        assert.ok(p.includes(`\n${c.text}\n`), p);
        if (c.bcc.length > 0) assert.ok(p.includes(`\nBcc: ${c.bcc.join(', ')}\n`), p);
        assert.equal(p.includes('\nHTML body: none\n'), !c.html);
        // Inline parts (an image the HTML shows) are listed apart from attachments.
        const listed = [...p.matchAll(/^(?:Inline parts|Attachments): (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
        assert.equal(listed, c.attachments.length, p);
        c.attachments.forEach((a, n) => {
          assert.ok(
            new RegExp(
              `\\n  ${n + 1}\\. ${escape(a.filename)}  ${escape(a.contentType)}  ${escape(humanSize(a.size))}(  cid:\\S+)?  sha256:${a.sha256}\\n`,
            ).test(p),
            p,
          );
        });
        if (!c.text.includes(c.rawBody)) assert.ok(!p.includes(c.rawBody), 'the body is decoded, not raw');
      });

      it('is one JSON line that validates and holds the envelope, the parsed fields and the raw bytes', () => {
        const r = records[i]!;
        assert.deepEqual(validate(JSON_SCHEMA, r), []);
        assert.equal(r.parseError, null);
        assert.equal(r.mailFrom, c.envelope.from);
        assert.deepEqual(r.rcptTo, c.envelope.to);
        assert.deepEqual(r.mailOptions, c.envelope.mailParams);
        assert.equal(r.size, data[i]!.length);
        assert.equal(r.subject, c.subject);
        assert.deepEqual(r.from, [c.from]);
        assert.deepEqual(
          r.to.map((a) => a.address),
          c.to,
        );
        assert.deepEqual(
          r.cc.map((a) => a.address),
          c.cc ?? [],
        );
        assert.deepEqual(
          r.bcc.map((a) => a.address),
          c.bcc,
        );
        assert.ok(r.text?.includes(c.text));
        assert.equal(r.html !== null, c.html);
        assert.deepEqual(
          r.attachments.map(({ filename, contentType, size, sha256 }) => ({ filename, contentType, size, sha256 })),
          c.attachments,
        );
        assert.deepEqual(Buffer.from(r.raw!, 'base64'), data[i]);
        assert.ok(!jsonLines[i]!.includes('\x1b'));
      });

      it('is saved in the Maildir under the name the JSON gives', async () => {
        const r = records[i]!;
        assert.equal(path.dirname(r.savedAs!), tmp.join('Maildir', 'new'));
        const expected = maildirContent(
          makeMessage(data[i]!, { mailFrom: r.mailFrom, rcptTos: r.rcptTo, peer: r.peer }),
        );
        assert.deepEqual(await readFile(r.savedAs!), expected);
      });
    });
  });

  it('leaves nothing in the Maildir tmp/ and one file per message in new/', async () => {
    assert.deepEqual(await readdir(tmp.join('Maildir', 'tmp')), []);
    assert.equal((await readdir(tmp.join('Maildir', 'new'))).length, CASES.length);
  });

  it('saves a Maildir that a mail reader (python3 mailbox.Maildir) opens, with every message under its name', async (t) => {
    if (missingTools(['python3']).length > 0) return t.skip('python3 not found');
    const listed = await new Promise<Record<string, string>>((resolve, reject) =>
      execFile('python3', ['-c', MAILDIR_READER, tmp.join('Maildir')], { timeout: 10_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Record<string, string>),
      ),
    );
    assert.equal(Object.keys(listed).length, CASES.length);
    CASES.forEach((c, i) => {
      const key = path.basename(records[i]!.savedAs!).replace(/:.*$/, '');
      assert.equal(listed[key], c.subject, `${c.file} as ${key}`);
    });
  });
});
