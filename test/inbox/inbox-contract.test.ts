/**
 * The Inbox contract (src/inbox/inbox.ts): the same cases against every
 * backend, in memory, with a Maildir, and on a real PostgreSQL cluster,
 * so that the HTTP APIs cannot tell them apart. What only a persistent
 * backend promises (its messages outlive it) is checked for the two that are.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mailhogSearch } from '../../src/http/mailhog-shapes.js';
import type { Message } from '../../src/message.js';
import { Maildir } from '../../src/outputs/maildir.js';
import type { Inbox, InboxSearch } from '../../src/inbox/inbox.js';
import type { Arrival } from '../../src/inbox/message-store.js';
import { openInbox, type InboxSettings } from '../../src/inbox/open-inbox.js';
import { mailpitSearch } from '../../src/inbox/search.js';
import { makeMessage } from '../helpers/message.js';
import { PG_SKIP, PgCluster } from '../helpers/postgres.js';
import { until } from '../helpers/until.js';

const silent = { write: () => true } as unknown as NodeJS.WritableStream;

/** A backend under test: how to open it (again, on the same place), and how to empty that place. */
interface Backend {
  readonly name: string;
  readonly skip: string | false;
  readonly persistent: boolean;
  setUp(): Promise<void>;
  open(limits?: Partial<InboxSettings>): Promise<Inbox>;
  /** Keeps a message as the CLI keeps it (the Maildir: its file written first, as the output does). */
  add(inbox: Inbox, message: Message, arrival?: Arrival): Promise<string>;
  tearDown(): Promise<void>;
}

const settings = { maxMessages: 0, maxBytes: 0, maxAgeMs: 0, log: silent };

function memory(): Backend {
  return {
    name: 'in memory',
    skip: false,
    persistent: false,
    setUp: async () => {},
    open: (limits) => openInbox({ ...settings, ...limits }),
    add: async (inbox, message, arrival) => (await inbox.add(message, arrival)).id,
    tearDown: async () => {},
  };
}

function maildir(): Backend {
  let tmp = '';
  let dir = '';
  return {
    name: 'with a Maildir',
    skip: false,
    persistent: true,
    setUp: async () => {
      tmp = await mkdtemp(path.join(os.tmpdir(), 'smtpd-ts-inbox-contract-'));
      dir = path.join(tmp, 'Maildir');
      await new Maildir(dir).open();
    },
    open: (limits) => openInbox({ ...settings, ...limits, maildir: dir }),
    add: async (inbox, message, arrival) => {
      const file = await new Maildir(dir).save(message);
      return (await inbox.add(message, { ...arrival, file })).id;
    },
    tearDown: () => rm(tmp, { recursive: true, force: true }),
  };
}

function postgres(): Backend {
  let cluster: PgCluster | null = null;
  return {
    name: 'on PostgreSQL',
    skip: PG_SKIP,
    persistent: true,
    setUp: async () => {
      cluster ??= await PgCluster.create();
      cluster.clearMessages();
    },
    open: (limits) => openInbox({ ...settings, ...limits, database: cluster!.url }),
    add: async (inbox, message, arrival) => (await inbox.add(message, arrival)).id,
    tearDown: async () => {
      cluster?.remove();
      cluster = null;
    },
  };
}

/** Message n: its subject says n, its sender is sN@example.test, its time n seconds after the epoch of the test. */
function numbered(n: number, overrides: Partial<Message> = {}): Message {
  return makeMessage(
    `From: S${n} <s${n}@example.test>\r\nTo: r@example.test\r\nSubject: note ${n}\r\n\r\nbody ${n}\r\n`,
    {
      id: `contract.${n}`,
      mailFrom: `s${n}@example.test`,
      receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
      ...overrides,
    },
  );
}

const subjects = async (inbox: Inbox, start = 0, limit = 100, search?: InboxSearch) =>
  (await inbox.list(start, limit, search)).messages.map((e) => e.message.data.toString().match(/Subject: (.*)/)![1]);

function search(query: string): InboxSearch {
  const s = mailpitSearch(query);
  assert.ok(typeof s !== 'string', s as string);
  return s;
}

for (const backend of [memory(), maildir(), postgres()]) {
  describe(`the inbox ${backend.name}`, { skip: backend.skip }, () => {
    let inbox: Inbox;
    const opened: Inbox[] = [];
    const open = async (limits?: Partial<InboxSettings>) => {
      const made = await backend.open(limits);
      opened.push(made);
      return made;
    };
    before(async () => {
      await backend.setUp();
      inbox = await open();
      for (let n = 1; n <= 5; n++)
        await backend.add(inbox, numbered(n, n === 4 ? { mailbox: 'team-a', authUser: 'ann' } : {}));
    });
    after(async () => {
      for (const i of opened) await i.close();
      await backend.tearDown();
    });

    it('lists newest first, pages with start and limit, and counts what it holds', async () => {
      assert.deepEqual(await subjects(inbox), ['note 5', 'note 4', 'note 3', 'note 2', 'note 1']);
      assert.deepEqual(await subjects(inbox, 1, 2), ['note 4', 'note 3']);
      assert.deepEqual(await subjects(inbox, 9, 2), []);
      const page = await inbox.list(0, 2);
      assert.deepEqual(page.matched, { total: 5, unread: 5 });
      const stats = await inbox.stats();
      assert.equal(stats.total, 5);
      assert.equal(stats.unread, 5);
      assert.deepEqual(stats.mailboxes, [{ name: 'team-a', total: 1, unread: 1 }]);
    });

    it('gets a message by its ID, and the newest for latest, with its envelope and bytes', async () => {
      const [newest, second] = (await inbox.list(0, 2)).messages;
      const got = await inbox.get(second!.id);
      assert.equal(got?.id, second!.id);
      assert.equal(got?.mailbox, 'team-a');
      assert.equal(got?.message.authUser, 'ann');
      assert.equal(got?.message.mailFrom, 's4@example.test');
      assert.deepEqual(got?.message.rcptTos, ['rcpt@example.com']);
      assert.equal(got?.message.data.toString(), numbered(4).data.toString());
      assert.equal((await inbox.get('latest'))?.id, newest!.id);
      assert.equal(await inbox.get('nosuchmessage0000000000'), undefined);
      await inbox.load(got!);
      assert.equal(got!.parsed?.subject, 'note 4');
      assert.equal(got!.parsed?.from[0]?.address, 's4@example.test');
    });

    it('answers a search, Mailpit’s and MailHog’s kinds, with the matches newest first and their counts', async () => {
      assert.deepEqual(await subjects(inbox, 0, 100, search('subject:"note 3"')), ['note 3']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('from:s2@example.test')), ['note 2']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('tag:team-a')), ['note 4']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('-tag:team-a subject:note')), [
        'note 5',
        'note 3',
        'note 2',
        'note 1',
      ]);
      const page = await inbox.list(1, 1, search('subject:note'));
      assert.deepEqual(page.matched, { total: 5, unread: 5 });
      assert.equal(page.messages.length, 1);
      assert.deepEqual(await subjects(inbox, 0, 100, mailhogSearch('from', 'S5@EXAMPLE')!), ['note 5']);
      assert.deepEqual(await subjects(inbox, 0, 100, mailhogSearch('containing', 'body 1')!), ['note 1']);
      const ids = await inbox.matching(search('subject:note'));
      assert.deepEqual(
        ids,
        (await inbox.list(0, 100)).messages.map((e) => e.id),
      );
    });

    it('marks read and unread, by ID and all at once, and says so', async () => {
      const updates: { id: string; read: boolean }[] = [];
      const onUpdate = (u: { id: string; read: boolean }) => updates.push({ id: u.id, read: u.read });
      inbox.on('update', onUpdate);
      const [first] = (await inbox.list(0, 1)).messages;
      await inbox.setRead([first!.id, 'nosuchmessage0000000000'], true);
      assert.equal((await inbox.stats()).unread, 4);
      assert.equal((await inbox.get(first!.id))?.read, true);
      assert.deepEqual((await inbox.list(0, 100, search('is:read'))).matched, { total: 1, unread: 0 });
      await inbox.setRead(null, true);
      assert.equal((await inbox.stats()).unread, 0);
      await inbox.setRead(null, false);
      assert.equal((await inbox.stats()).unread, 5);
      inbox.off('update', onUpdate);
      assert.deepEqual(updates[0], { id: first!.id, read: true });
      assert.equal(updates.length, 1 + 4 + 5, 'one event for each message whose mark changed');
    });

    it('deletes by ID (passing over unknown IDs) and everything at once, and says so', async () => {
      const deleted: [string, string][] = [];
      let truncated = 0;
      const onDelete = (id: string, reason: string) => deleted.push([id, reason]);
      const onTruncate = () => truncated++;
      inbox.on('delete', onDelete);
      inbox.on('truncate', onTruncate);
      const before = (await inbox.stats()).deleted;
      const [newest] = (await inbox.list(0, 1)).messages;
      await inbox.remove([newest!.id, 'nosuchmessage0000000000']);
      assert.equal(await inbox.get(newest!.id), undefined);
      assert.deepEqual(await subjects(inbox), ['note 4', 'note 3', 'note 2', 'note 1']);
      assert.deepEqual(deleted, [[newest!.id, 'deleted']]);
      assert.equal((await inbox.stats()).deleted, before + 1);
      await inbox.clear();
      assert.deepEqual(await subjects(inbox), []);
      assert.equal((await inbox.stats()).total, 0);
      assert.equal(truncated, 1);
      inbox.off('delete', onDelete);
      inbox.off('truncate', onTruncate);
    });

    it('says new for each message added, with its entry', async () => {
      const added: string[] = [];
      const onNew = (e: { id: string }) => added.push(e.id);
      inbox.on('new', onNew);
      const id = await backend.add(inbox, numbered(6));
      inbox.off('new', onNew);
      assert.deepEqual(added, [id]);
      assert.deepEqual(await subjects(inbox), ['note 6']);
    });

    it('tags messages, renames and deletes a tag in any case, and finds messages by tag', async () => {
      const first = await backend.add(inbox, numbered(20), { tags: ['Alpha', 'beta'] });
      const second = await backend.add(inbox, numbered(21), { tags: ['beta'] });
      assert.deepEqual((await inbox.get(first))?.tags, ['Alpha', 'beta']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('tag:alpha')), ['note 20']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('tag:BETA')), ['note 21', 'note 20']);
      await inbox.setTags([second, 'nosuchmessage0000000000'], ['gamma', 'Gamma', '  x!  ']);
      assert.deepEqual((await inbox.get(second))?.tags, ['gamma', 'x']);
      await inbox.renameTag('BETA', 'Delta');
      await inbox.deleteTag('alpha');
      assert.deepEqual((await inbox.get(first))?.tags, ['Delta']);
      assert.deepEqual((await inbox.stats()).tags, ['Delta', 'gamma', 'x']);
      assert.deepEqual(await subjects(inbox, 0, 100, search('tag:delta')), ['note 20']);
      if (backend.name === 'on PostgreSQL') {
        // What another instance reads from the table, not this one's cache.
        const other = await open();
        assert.deepEqual((await other.get(first))?.tags, ['Delta']);
        assert.deepEqual((await other.get(second))?.tags, ['gamma', 'x']);
      }
      await inbox.remove([first, second]);
    });

    it('keeps within --max-messages, the oldest going first', async () => {
      const bounded = await open({ maxMessages: 2 });
      for (let n = 7; n <= 9; n++) await backend.add(bounded, numbered(n));
      // A database prunes soon after the inserts, not within them.
      await until(async () => (await bounded.stats()).total <= 2, 5000, 'the bound to hold');
      assert.deepEqual(await subjects(bounded), ['note 9', 'note 8']);
    });

    if (backend.persistent)
      it('keeps its messages when opened again', async () => {
        const again = await open();
        assert.deepEqual((await subjects(again)).slice(0, 2), ['note 9', 'note 8']);
        const entry = (await again.list(0, 1)).messages[0]!;
        assert.equal(entry.message.mailFrom, 's9@example.test');
        assert.equal(entry.message.data.toString(), numbered(9).data.toString());
      });
  });
}
