/**
 * `--pop3`: the inbox read by real POP3 clients through the real CLI:
 * Python's poplib (STLS, USER/PASS, STAT, UIDL, RETR, TOP, DELE at QUIT)
 * and Debian's fetchmail, each user reading only their mailbox.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertUsageError, inboxUrl, startCli, type RunningCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

const FETCHMAIL = spawnSync('sh', ['-c', 'command -v fetchmail'], { encoding: 'utf8' }).stdout.trim();
const FETCHMAIL_SKIP = FETCHMAIL ? false : 'fetchmail is not installed (apt-get install fetchmail)';

const mail = (to: string, subject: string) =>
  `From: app@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n..a line with a leading dot (dot-stuffed for SMTP)\r\nbody of ${subject}\r\n`;

/** Runs a poplib script against `port` with `user`/`password`; its JSON output, or what it raised. */
function poplib(port: number, user: string, password: string, body: string, stls = false): unknown {
  const script = `
import json, poplib, ssl, sys
p = poplib.POP3('127.0.0.1', ${port}, timeout=10)
try:
    ${stls ? 'p.stls(context=ssl._create_unverified_context())' : 'pass'}
    p.user(${JSON.stringify(user)})
    p.pass_(${JSON.stringify(password)})
${body
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
except poplib.error_proto as e:
    print(json.dumps({"error": e.args[0].decode()}))
`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('--pop3', () => {
  const tmp = tempDir('pop3');
  let cli: RunningCli;
  let port = 0;
  before(async () => {
    const users = path.join(tmp.path, 'pop3-users');
    await writeFile(users, 'alice:alice-pw\nbob:bob-pw\n');
    cli = await startCli([
      '-o',
      'headers:/dev/null',
      '--tls',
      '--http',
      '127.0.0.1:0',
      '--pop3',
      '127.0.0.1:0',
      '--pop3-auth-file',
      users,
      '--mailbox',
      'alice=*@alice.test',
      '--mailbox',
      'bob=*@bob.test',
      '127.0.0.1:0',
    ]);
    port = Number(/inbox over POP3 on pop3:\/\/127\.0\.0\.1:(\d+)/.exec(cli.stderr())?.[1]);
    assert.ok(port > 0, cli.stderr());
    for (const [to, subject] of [
      ['a@alice.test', 'alice one'],
      ['b@bob.test', 'bob one'],
      ['a@alice.test', 'alice two'],
    ] as const)
      await sendMail(cli.port, { from: 'app@example.test', to: [to], data: mail(to, subject) });
  });
  after(() => cli.stop());

  it("reads alice's mailbox with poplib over STLS, oldest first, and deletes at QUIT", async () => {
    const got = poplib(
      port,
      'alice',
      'alice-pw',
      [
        'count, size = p.stat()',
        'uids = [u.decode().split()[1] for u in p.uidl()[1]]',
        'first = [l.decode() for l in p.retr(1)[1]]',
        'top = [l.decode() for l in p.top(2, 0)[1]]',
        'p.dele(1)',
        'p.quit()',
        'print(json.dumps({"count": count, "size": size, "uids": uids, "first": first, "top": top}))',
      ].join('\n'),
      true,
    ) as { count: number; size: number; uids: string[]; first: string[]; top: string[] };
    assert.equal(got.count, 2, 'only the mailbox of her name');
    assert.ok(got.size > 100);
    assert.ok(got.first.includes('Subject: alice one'));
    assert.ok(got.first.includes('.a line with a leading dot (dot-stuffed for SMTP)'), 'the leading dot comes back');
    assert.ok(got.top.includes('Subject: alice two'));
    assert.ok(!got.top.some((l) => l.startsWith('body of')), 'TOP 0 stops at the header');
    // The deleted one is gone from the inbox; the other is there under its UIDL.
    const list = (await (await fetch(`${inboxUrl(cli)}/api/v1/messages`)).json()) as {
      messages: { ID: string; Subject: string }[];
    };
    assert.deepEqual(
      list.messages.map((m) => m.Subject),
      ['alice two', 'bob one'],
    );
    assert.equal(list.messages[0]!.ID, got.uids[1]);
  });

  it('refuses a wrong password, and deletes nothing for a session that does not QUIT', () => {
    assert.match((poplib(port, 'bob', 'nope', 'print(json.dumps({}))') as { error: string }).error, /^-ERR \[AUTH\]/);
    const got = poplib(port, 'bob', 'bob-pw', 'p.dele(1)\nprint(json.dumps({"count": p.stat()[0]}))') as {
      count: number;
    };
    assert.equal(got.count, 0, 'deleted in the session');
    const again = poplib(port, 'bob', 'bob-pw', 'print(json.dumps({"count": p.stat()[0]}))\np.quit()') as {
      count: number;
    };
    assert.equal(again.count, 1, 'but not in the inbox: that session never sent QUIT');
  });

  it("fetches bob's mailbox with fetchmail", { skip: FETCHMAIL_SKIP }, async () => {
    const out = path.join(tmp.path, 'fetched.mbox');
    const rc = path.join(tmp.path, 'fetchmailrc');
    await writeFile(
      rc,
      `poll 127.0.0.1 protocol pop3 port ${port} user "bob" there with password "bob-pw" is "${process.env['USER'] ?? 'root'}" here options keep sslproto '' mda "cat >> ${out}"\n`,
    );
    await chmod(rc, 0o600);
    const r = spawnSync(FETCHMAIL, ['-f', rc, '--nosyslog', '--nodetach', '--pidfile', path.join(tmp.path, 'pid')], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, HOME: tmp.path },
    });
    // 0: mail was fetched.
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const fetched = await readFile(out, 'utf8');
    assert.match(fetched, /Subject: bob one/);
    assert.doesNotMatch(fetched, /alice/);
  });

  it('refuses --pop3 without its users or the inbox', () => {
    assertUsageError(['--http', '127.0.0.1:0', '--pop3', '127.0.0.1:0']);
    assertUsageError(['--pop3', '127.0.0.1:0', '--pop3-auth-file', 'users']);
    assertUsageError(['--pop3-tls', '-n']);
    assertUsageError(['--http', '127.0.0.1:0', '--pop3', '127.0.0.1:0', '--pop3-auth-file', 'users', '--workers', '2']);
  });
});
