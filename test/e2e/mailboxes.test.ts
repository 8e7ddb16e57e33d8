/**
 * Mailboxes through the real CLI: rules on the command line and in a file,
 * the AUTH user's mailbox, Mailpit's client filtering by tag, per-mailbox
 * retention, the JSON lines and the Maildir++ folders, kept across a
 * restart. Mail is sent by nodemailer.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import nodemailer from 'nodemailer';
import { assertUsageError, inboxUrl, startCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('mailboxes', () => {
  const tmp = tempDir('mailboxes');

  it('files mail by recipient, header and AUTH user; Mailpit’s clients see tags; each mailbox keeps its bound', async () => {
    const rules = tmp.join('mailboxes.txt');
    await writeFile(rules, '# the billing service marks its mail\nbilling=header:X-Service=billing;max-messages=1\n');
    const args = ['-n', '-f', 'json', '--http', '127.0.0.1:0', '--save-dir', tmp.join('Maildir')];
    const boxes = ['--mailbox', 'team-a=*@a.example', '--mailbox-file', rules];
    let cli = await startCli([...args, ...boxes, '127.0.0.1:0']);
    try {
      const smtp = (auth?: { user: string; pass: string }) =>
        nodemailer.createTransport({ host: '127.0.0.1', port: cli.port, ignoreTLS: true, ...(auth ? { auth } : {}) });
      await smtp().sendMail({ from: 'app@x.example', to: 'Bob <bob@A.example>', subject: 'for team a', text: 'a' });
      for (const n of [1, 2])
        await smtp().sendMail({
          from: 'billing@x.example',
          to: 'c@c.example',
          subject: `invoice ${n}`,
          text: 'b',
          headers: { 'X-Service': 'billing' },
        });
      await smtp({ user: 'alice', pass: 'secret' }).sendMail({
        from: 'alice@x.example',
        to: 'c@c.example',
        subject: 'from alice',
        text: 'c',
      });
      await smtp().sendMail({ from: 'x@x.example', to: 'c@c.example', subject: 'unfiled', text: 'd' });

      const mailpit = new MailpitClient(inboxUrl(cli));
      assert.deepEqual(await mailpit.getTags(), ['alice', 'billing', 'team-a']);
      const subjects = async (query: string) =>
        (await mailpit.searchMessages({ query })).messages.map((m) => m.Subject);
      assert.deepEqual(await subjects('tag:team-a'), ['for team a']);
      assert.deepEqual(await subjects('tag:billing'), ['invoice 2'], 'billing keeps one message');
      assert.deepEqual(await subjects('tag:alice'), ['from alice']);
      assert.deepEqual(await subjects('tag:alice subject:alice'), ['from alice']);
      const list = await mailpit.listMessages();
      assert.deepEqual(list.tags, ['alice', 'billing', 'team-a']);
      assert.deepEqual(
        list.messages.map((m) => [m.Subject, m.Tags]),
        [
          ['unfiled', []],
          ['from alice', ['alice']],
          ['invoice 2', ['billing']],
          ['for team a', ['team-a']],
        ],
      );
      assert.deepEqual((await mailpit.getInfo()).Tags, { alice: 1, billing: 1, 'team-a': 1 });

      await cli.waitForStdout((out) => out.trim().split('\n').length === 5);
      const lines = cli
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { subject: string; mailbox: string | null });
      assert.deepEqual(
        lines.map((l) => [l.subject, l.mailbox]),
        [
          ['for team a', 'team-a'],
          ['invoice 1', 'billing'],
          ['invoice 2', 'billing'],
          ['from alice', 'alice'],
          ['unfiled', null],
        ],
      );
      const folder = async (sub: string) => (await readdir(tmp.join('Maildir', sub, 'new'))).length;
      assert.equal(await folder('.team-a'), 1);
      assert.equal(await folder('.billing'), 2, 'the Maildir is an output: pruning keeps the file');
      assert.equal(await folder('.alice'), 1);
      assert.equal(await folder(''), 1, 'unfiled mail stays at the root');
      await readFile(tmp.join('Maildir', '.team-a', 'maildirfolder'));
    } finally {
      await cli.stop('SIGTERM');
    }
    // A restart reads the folders back into their mailboxes.
    cli = await startCli([...args, ...boxes, '127.0.0.1:0']);
    try {
      const mailpit = new MailpitClient(inboxUrl(cli));
      assert.deepEqual(await mailpit.getTags(), ['alice', 'billing', 'team-a']);
      assert.deepEqual(
        (await mailpit.searchMessages({ query: 'tag:team-a' })).messages.map((m) => m.Subject),
        ['for team a'],
      );
    } finally {
      await cli.stop('SIGTERM');
    }
  });

  it('refuses a bad rule, a bad line in the file and a missing file with exit 2', async () => {
    const bad = tmp.join('bad.txt');
    await writeFile(bad, 'team-a=*@a.example\nnot a rule\n');
    assertUsageError(['-n', '--mailbox', 'team-a']);
    assertUsageError(['-n', '--mailbox', 'x=*@a;max-messages=lots']);
    assertUsageError(['-n', '--mailbox-file', bad]);
    assertUsageError(['-n', '--mailbox-file', tmp.join('missing.txt')]);
  });
});
