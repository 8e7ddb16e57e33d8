/**
 * Every flag from the command line, an environment variable
 * (`SMTPD_TS_<LONG_NAME>`) or a config file (`--config FILE`), flags over
 * variables over the file, through the real CLI; a bad value names where
 * it came from.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { readmeExample } from '../helpers/readme.js';
import { tempDir } from '../helpers/temp-dir.js';

const message = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: layered\r\n\r\nbody\r\n';

/** Runs the CLI to its end with `env` added; its exit status and stderr. */
function runCli(args: readonly string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('flags from the environment and a config file', () => {
  const tmp = tempDir('flag-sources');

  it('takes the file, then the environment over it, then the command line over both', async () => {
    const config = path.join(tmp.path, 'sink.conf');
    // The file says headers, the environment json: json wins; the file's exit-after and subject-only expectation hold.
    await writeFile(
      config,
      '# the team sink\nformat = headers\n--exit-after = 1\n\nexpect = subject=layered\ncolor = 0\n',
    );
    const env = { ...process.env, SMTPD_TS_FORMAT: 'json', SMTPD_TS_CONFIG: config };
    const cli = await startCli(['127.0.0.1:0'], 15_000, env);
    const codes = await sendMail(cli.port, { from: 'a@example.test', to: ['b@example.test'], data: message });
    // (Then 421 to QUIT: --exit-after 1 is closing the sink.)
    assert.deepEqual(codes.slice(0, 6), [220, 250, 250, 250, 354, 250]);
    const { code } = await cli.stop('SIGCONT'); // --exit-after 1 ends it: SIGCONT changes nothing, stop() waits
    assert.equal(code, 0, cli.stderr());
    assert.equal(JSON.parse(cli.stdout().trim()).subject, 'layered', 'json, from the environment');

    const flagWins = await startCli(['-f', 'headers', '--exit-after', '1', '127.0.0.1:0'], 15_000, env);
    await sendMail(flagWins.port, { from: 'a@example.test', to: ['b@example.test'], data: message });
    assert.equal((await flagWins.stop('SIGCONT')).code, 0);
    assert.match(flagWins.stdout(), /^Subject: layered$/m, 'the command line over the environment');
    assert.doesNotMatch(flagWins.stdout(), /^\{/m);
  });

  it('reads a repeatable flag one value a line, and a repeatable flag given higher replaces the lower', () => {
    const expect = runCli(['--timeout', '0.2', '127.0.0.1:0'], {
      SMTPD_TS_EXPECT: 'subject=one\nsubject=two',
    });
    // Two expectations, neither met: exit 4 naming both.
    assert.equal(expect.status, 4, expect.stderr);
    assert.match(expect.stderr, /subject=one/);
    assert.match(expect.stderr, /subject=two/);
    const replaced = runCli(['--expect-count', '0', '--timeout', '0.2', '127.0.0.1:0'], {
      SMTPD_TS_EXPECT_COUNT: '5',
    });
    assert.equal(replaced.status, 0, `the flag's 0 replaces the variable's 5: ${replaced.stderr}`);
  });

  it('names the variable, or the file and line, of a bad value: one line, exit 2', async () => {
    const config = path.join(tmp.path, 'bad.conf');
    await writeFile(config, 'format = json\n# a comment\nsize = 12q\n');
    const cases: [readonly string[], Record<string, string>, RegExp][] = [
      [[], { SMTPD_TS_TIMEOUT: 'soon' }, /--timeout .*'soon' \(from SMTPD_TS_TIMEOUT\)$/],
      [['--config', config], {}, /--size .*'12q'.* \(from .*bad\.conf line 3\)$/],
      [[], { SMTPD_TS_DEBUG: 'maybe' }, /^smtpd-ts: SMTPD_TS_DEBUG: --debug is a switch: 1 or 0 .*'maybe'$/],
      [[], { SMTPD_TS_FORMAT: 'jsn' }, /unknown format 'jsn'.*\(from SMTPD_TS_FORMAT\)$/],
      [
        ['--config', path.join(tmp.path, 'missing.conf')],
        {},
        /^smtpd-ts: --config: cannot read .*missing\.conf: ENOENT$/,
      ],
    ];
    for (const [args, env, pattern] of cases) {
      const r = runCli([...args, '127.0.0.1:0'], env);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), pattern);
    }
    const typo = path.join(tmp.path, 'typo.conf');
    await writeFile(typo, 'formt = json\n');
    const r = runCli(['--config', typo, '127.0.0.1:0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.trim(), /typo\.conf line 1: no such setting 'formt' \(did you mean format\?\)$/);
  });

  it("reads every line of docs/configuration.md's example file as a setting", async () => {
    const config = path.join(tmp.path, 'example.conf');
    await writeFile(config, readmeExample('config-example'));
    // --help ends the run after the file is read: a line naming no flag would be a usage error first.
    const r = runCli(['--config', config, '--help']);
    assert.equal(r.status, 0, r.stderr);
    const broken = path.join(tmp.path, 'broken.conf');
    await writeFile(broken, `${readmeExample('config-example')}max-inbox-messages = 5\n`);
    assert.equal(runCli(['--config', broken, '--help']).status, 2, 'and a line that is no setting is refused');
  });

  it('lists the rule and every variable in --help', () => {
    const r = runCli(['--help']);
    assert.equal(r.status, 0);
    for (const name of ['SMTPD_TS_HTTP', 'SMTPD_TS_SAVE_DIR', 'SMTPD_TS_CONFIG', 'SMTPD_TS_COLOR', 'SMTPD_TS_EXPECT'])
      assert.match(r.stdout, new RegExp(`\\b${name}\\b`));
    assert.match(r.stdout, /Flags win over variables, variables over the file/);
  });
});
