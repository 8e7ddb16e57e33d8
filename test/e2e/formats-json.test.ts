/**
 * `-f json` as a pipeline sees it: stdout holds JSON lines and nothing else
 * (the listening line and warnings go to stderr), every line validates
 * against the shipped schema, and `smtpd-ts -f json | jq` works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import type { JsonRecord } from '../../src/printers/json.js';
import { END_MESSAGE } from '../../src/printers/raw.js';
import { CASES } from '../fixtures/cases.js';
import { startCli, type RunningCli } from '../helpers/cli.js';
import { deliver, loadFixture } from '../helpers/fixtures.js';
import { validate } from '../helpers/json-schema.js';
import { missingTools } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const SENT = CASES.filter((c) => !c.smtputf8);
const JQ_MISSING = missingTools(['jq']).length > 0;

/** Sends every fixture in SENT; resolves with the reply codes. */
async function sendAll(port: number): Promise<number[]> {
  const codes: number[] = [];
  for (const c of SENT) codes.push(await deliver(port, c.envelope, await loadFixture(c.file)));
  return codes;
}

describe('-f json on stdout', () => {
  let cli: RunningCli;
  let jq: ReturnType<typeof spawn> | undefined;
  let jqOut = '';
  let jqExit: Promise<unknown[]> | undefined;
  let codes: number[] = [];

  before(async () => {
    cli = await startCli(['-f', 'json', '127.0.0.1:0']);
    if (!JQ_MISSING) {
      // The real output, piped as a shell would: smtpd-ts -f json | jq -c ...
      jq = spawn('jq', ['-c', '{subject, to: [.to[].address], sha256: [.attachments[].sha256]}'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      jq.stdout!.setEncoding('utf8').on('data', (s: string) => (jqOut += s));
      jqExit = once(jq, 'exit');
      cli.child.stdout!.pipe(jq.stdin!);
    }
    codes = await sendAll(cli.port);
    await cli.waitForStdout(`"subject":"${SENT.at(-1)!.subject}"`);
    await cli.stop();
  });

  after(async () => {
    await cli?.stop();
    jq?.kill();
  });

  it('accepts every message', () => {
    assert.deepEqual(
      codes,
      SENT.map(() => 250),
    );
  });

  it('writes exactly one JSON object per line per message, and nothing else, to stdout', () => {
    const lines = cli.stdout().split('\n');
    assert.equal(lines.pop(), '', 'stdout ends with a newline');
    assert.equal(lines.length, SENT.length);
    for (const line of lines) assert.equal(typeof JSON.parse(line), 'object');
    assert.match(cli.stderr(), /listening on/);
  });

  it('writes lines that validate against the schema, in the order received', () => {
    const records = cli
      .stdout()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonRecord);
    records.forEach((r, i) => {
      assert.deepEqual(validate(JSON_SCHEMA, r), [], `line ${i + 1}`);
      assert.equal(r.subject, SENT[i]!.subject);
      assert.equal(r.raw, undefined, 'no raw without --json-raw');
      assert.equal(r.savedAs, null);
    });
  });

  it('pipes through jq', { skip: JQ_MISSING && 'jq is not installed' }, async () => {
    const [code] = await jqExit!;
    assert.equal(code, 0);
    const expected = SENT.map((c) =>
      JSON.stringify({ subject: c.subject, to: c.to, sha256: c.attachments.map((a) => a.sha256) }),
    );
    assert.deepEqual(jqOut.trimEnd().split('\n'), expected);
  });
});

describe('several outputs at once', () => {
  const tmp = tempDir('outputs');
  let cli: RunningCli;

  before(async () => {
    cli = await startCli(['-f', 'parsed', '-o', '-', '-o', `json:${tmp.join('ci.jsonl')}`, '127.0.0.1:0']);
  });

  after(async () => {
    await cli?.stop();
  });

  it('shows parsed on the terminal while keeping a JSON-lines log, appended and complete before the 250', async () => {
    const c = CASES.find((x) => x.file === 'nested.eml')!;
    for (let n = 1; n <= 2; n++) {
      assert.equal(await deliver(cli.port, c.envelope, await loadFixture(c.file)), 250);
      // Read at once after the 250: the line is already there.
      const lines = (await readFile(tmp.join('ci.jsonl'), 'utf8')).trimEnd().split('\n');
      assert.equal(lines.length, n);
      assert.equal((JSON.parse(lines[n - 1]!) as JsonRecord).subject, c.subject);
    }
    await cli.waitForStdout(`${c.attachments.at(-1)!.sha256}\n${END_MESSAGE}\n`);
    assert.ok(cli.stdout().includes(`Subject: ${c.subject}\n`));
    assert.ok(!cli.stdout().includes('{'), 'no JSON on stdout');
  });
});

describe('--output FILE', () => {
  const tmp = tempDir('output');

  it('writes the --format to the file instead of stdout', async () => {
    const file = tmp.join('messages.jsonl');
    const cli = await startCli(['-f', 'json', '--output', file, '127.0.0.1:0']);
    try {
      const c = CASES[0]!;
      assert.equal(await deliver(cli.port, c.envelope, await loadFixture(c.file)), 250);
      assert.equal((JSON.parse(await readFile(file, 'utf8')) as JsonRecord).subject, c.subject);
      await cli.stop();
      assert.equal(cli.stdout(), '');
    } finally {
      await cli.stop();
    }
  });
});
