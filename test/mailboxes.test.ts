/**
 * Mailboxes (src/mailboxes.ts): the rules as written, the glob
 * matcher, which mailbox a message is filed in, the Maildir++ folder names,
 * and each mailbox's own bounds in the store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { folderMailbox, globMatch, MailboxRouter, mailboxFolder } from '../src/mailboxes.js';
import { parseMailboxFile, parseMailboxRule } from '../src/cli/mailbox-settings.js';
import { UsageError } from '../src/errors.js';
import { MessageStore } from '../src/inbox/message-store.js';
import { makeMessage } from './helpers/message.js';

describe('mailbox rules', () => {
  it('reads NAME=MATCH with its kinds and bounds, and refuses what is not a rule', () => {
    assert.deepEqual(parseMailboxRule('team-a=*@a.example'), {
      name: 'team-a',
      kind: 'to',
      pattern: '*@a.example',
      limits: {},
      text: 'team-a=*@a.example',
    });
    const header = parseMailboxRule('billing=header:X-Service=billing-*;max-messages=100;max-age=7d');
    assert.equal(header.kind, 'header');
    assert.equal(header.field, 'x-service');
    assert.equal(header.pattern, 'billing-*');
    assert.deepEqual(header.limits, { maxMessages: 100, maxAgeMs: 7 * 86_400_000 });
    assert.equal(parseMailboxRule('ci=from:*@ci.example').kind, 'from');
    assert.equal(parseMailboxRule('ops=USER:ops-*').kind, 'user');
    for (const bad of [
      'team-a',
      '=*@a',
      '-x=*@a',
      'a b=*@a',
      'x=',
      'x=header:=v',
      'x=*@a;max-messages=many',
      'x=*@a;colour=red',
    ])
      assert.throws(() => parseMailboxRule(bad), UsageError, bad);
    assert.throws(
      () => parseMailboxFile('# teams\n\nteam-a=*@a.example\nbroken\n', 'boxes.txt'),
      (err: Error) => err instanceof UsageError && err.message.startsWith('--mailbox-file: boxes.txt:4: '),
    );
    assert.equal(parseMailboxFile('# teams\n\nteam-a=*@a.example\r\nteam-b=*@b.example\n', 'f').length, 2);
  });

  it('matches globs as a shell does, ignoring case, without backtracking blow-ups', () => {
    assert.ok(globMatch('*@a.example', 'Bob@A.Example'));
    assert.ok(globMatch('a?c*', 'abcdef'));
    assert.ok(!globMatch('*@a.example', 'bob@a.example.org'));
    assert.ok(globMatch('*', ''));
    assert.ok(!globMatch('?', ''));
    assert.ok(globMatch('*a*b*c*', 'xxaxxbxxcxx'));
    // The shape that makes a backtracking matcher exponential: here it ends.
    assert.ok(!globMatch(`${'*a'.repeat(30)}b`, 'a'.repeat(5000)));
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        (s) => globMatch('*', s) && globMatch(s.replace(/[*?]/g, '_'), s.replace(/[*?]/g, '_')),
      ),
    );
  });

  it('files a message by the first rule that matches, else by its AUTH user, else nowhere', () => {
    const router = new MailboxRouter(
      ['team-a=*@a.example', 'billing=header:X-Service=billing', 'ci=from:*@ci.example', 'ops=user:ops-*'].map((r) =>
        parseMailboxRule(r),
      ),
    );
    const choose = (fields: Parameters<typeof makeMessage>[1], data = 'Subject: x\r\n\r\nbody\r\n') =>
      router.choose(makeMessage(data, fields));
    assert.equal(choose({ rcptTos: ['<other@b.example>', 'Bob@A.example'] }), 'team-a');
    assert.equal(choose({ rcptTos: ['x@b.example'] }, 'Subject: x\r\nX-Service:  billing\r\n\r\n'), 'billing');
    assert.equal(
      choose({ rcptTos: ['x@b.example'] }, 'Subject: x\r\n\r\nX-Service: billing\r\n'),
      null,
      'a body line is no header',
    );
    assert.equal(choose({ mailFrom: 'build@ci.example', rcptTos: ['x@a.example'] }), 'team-a', 'the first rule wins');
    assert.equal(choose({ mailFrom: 'build@ci.example', rcptTos: ['x@b.example'] }), 'ci');
    assert.equal(choose({ authUser: 'ops-1', rcptTos: ['x@b.example'] }), 'ops');
    assert.equal(choose({ authUser: 'alice', rcptTos: ['x@b.example'] }), 'alice', 'the AUTH user by default');
    assert.equal(choose({ rcptTos: ['x@b.example'] }), null);
  });

  it('reads a header rule’s value on its first 4,096 characters, so a glob’s cost is bounded', () => {
    const router = new MailboxRouter([parseMailboxRule(`tail=header:X-Tag=*${'?'.repeat(60)}`)]);
    const header = (value: string) => makeMessage(Buffer.from(`X-Tag: ${value}\r\nSubject: s\r\n\r\nx\r\n`));
    assert.equal(router.choose(header('a'.repeat(61))), 'tail');
    assert.equal(router.choose(header('a'.repeat(8 << 20))), 'tail', 'matched on its start');
    assert.equal(router.choose(header('a'.repeat(30))), null);
  });

  it('names Maildir++ folders that a mailbox name always comes back from, and never with . or /', () => {
    assert.equal(mailboxFolder('team-a'), '.team-a');
    assert.equal(mailboxFolder('a.b/c'), '.a%2Eb%2Fc');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), (name) => {
        const folder = mailboxFolder(name);
        const safe = !folder.slice(1).includes('.') && !folder.includes('/') && Buffer.byteLength(folder) <= 255;
        // A name whose folder would pass 255 bytes keeps its start and a hash of all of it.
        const back = folderMailbox(folder);
        return safe && (folder.includes('~') ? back !== null && back.endsWith(folder.slice(-16)) : back === name);
      }),
    );
    const long = mailboxFolder('é'.repeat(50));
    assert.ok(Buffer.byteLength(long) <= 255 && Buffer.byteLength(long) > 240);
    assert.match(long, /^\.(%C3%A9)+~[0-9a-f]{16}$/);
    assert.notEqual(mailboxFolder('é'.repeat(51)), long, 'another name, another folder');
    assert.equal(folderMailbox('.Trash.sub'), null, 'not one of ours');
    assert.equal(folderMailbox('new'), null);
  });

  it('keeps each mailbox within its own bounds, the oldest of that mailbox dropped first', () => {
    const router = new MailboxRouter(
      ['small=*@s.example;max-messages=2', 'young=*@y.example;max-age=60s'].map((r) => parseMailboxRule(r)),
    );
    const store = new MessageStore({ maxMessages: 100, mailbox: (name) => router.limits(name) });
    const add = (to: string, at = Date.now()) => {
      const message = makeMessage(`Subject: ${to}\r\n\r\nx\r\n`, { rcptTos: [to], receivedAt: new Date(at) });
      return store.add({ ...message, mailbox: router.choose(message) });
    };
    const kept = [1, 2, 3, 4].map((i) => add(`${i}@s.example`));
    add('free@b.example');
    const old = add('old@y.example', Date.now() - 120_000);
    add('new@y.example');
    assert.deepEqual(
      store.list(0, 10).map((e) => e.message.rcptTos[0]),
      ['new@y.example', 'free@b.example', '4@s.example', '3@s.example'],
    );
    assert.equal(store.get(kept[0]!.id), undefined);
    assert.equal(store.get(old.id), undefined, 'past its mailbox’s age');
    assert.deepEqual(store.mailboxes(), [
      { name: 'small', total: 2, unread: 2 },
      { name: 'young', total: 1, unread: 1 },
    ]);
    store.remove(store.list(0, 1)[0]!.id);
    assert.deepEqual(
      store.mailboxes().map((m) => m.name),
      ['small'],
    );
  });
});
