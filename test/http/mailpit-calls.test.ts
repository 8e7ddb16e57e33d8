/**
 * Calls Mailpit's clients make that must answer as Mailpit's server does
 * (its server/apiv1 and Go's ServeMux): `latest` narrowed by `?query=`, a
 * doubled slash sent to the clean path with 301, and a send request's keys
 * read in any case, as Go's JSON decoder reads them.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { InboxHttpServer } from '../../src/http/http-server.js';
import { buildSend } from '../../src/http/send.js';
import { MemoryInbox } from '../../src/inbox/memory-inbox.js';
import { makeMessage } from '../helpers/message.js';
import { until } from '../helpers/until.js';

/** A GET as a client sends it on the wire (fetch would clean `//` itself); resolves with status, headers, body. */
function get(base: string, path: string): Promise<{ status: number; location?: string; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers.location ? { location: res.headers.location } : {}),
          body,
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

describe("Mailpit's calls", () => {
  const inbox = new MemoryInbox();
  const server = new InboxHttpServer({ host: '127.0.0.1', port: 0, inbox, hostname: 'sink.test' });
  let base = '';
  const ids: Record<string, string> = {};
  before(async () => {
    await server.listen();
    base = server.url;
    for (const subject of ['alpha', 'beta', 'gamma'])
      ids[subject] = (await inbox.add(makeMessage(`Subject: ${subject}\r\n\r\nthe ${subject} text\r\n`))).id;
  });
  after(() => server.close());

  it('answers latest with the newest message the query matches, and 404 when none does', async () => {
    const subject = async (path: string) => (JSON.parse((await get(base, path)).body) as { Subject: string }).Subject;
    assert.equal(await subject('/api/v1/message/latest'), 'gamma');
    assert.equal(await subject('/api/v1/message/latest?query=subject:alpha'), 'alpha');
    assert.equal(await subject(`/api/v1/message/latest?query=${encodeURIComponent('-subject:gamma')}`), 'beta');
    assert.deepEqual(await get(base, '/api/v1/message/latest?query=subject:nothing'), {
      status: 404,
      body: 'Message not found\n',
    });
    const headers = JSON.parse((await get(base, '/api/v1/message/latest/headers?query=subject:beta')).body) as {
      Subject: string[];
    };
    assert.deepEqual(headers.Subject, ['beta']);
    assert.match((await get(base, '/api/v1/message/latest/raw?query=subject:alpha')).body, /the alpha text/);
    assert.equal((await get(base, '/view/latest.txt?query=subject:beta')).body.trim(), 'the beta text');
  });

  it('holds latest?wait= until a message the query matches arrives, newer than after=, and 404 past the wait', async () => {
    const waiting = () => inbox.listenerCount('new') === 1;
    // Held: nothing matches yet.
    const held = get(base, '/api/v1/message/latest?query=subject:later&wait=10s');
    await until(waiting, 5000, 'the request to be held');
    await inbox.add(makeMessage('Subject: other\r\n\r\nnot this one\r\n'));
    const later = await inbox.add(makeMessage('Subject: later\r\n\r\nthe later text\r\n'));
    const answer = await held;
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as { ID: string }).ID, later.id);
    // after=: the newest match is the one named, so the request waits for the next.
    const next = get(base, `/api/v1/message/latest?query=subject:later&after=${later.id}&wait=10s`);
    await until(waiting, 5000, 'the second request to be held');
    const again = await inbox.add(makeMessage('Subject: later\r\n\r\nagain\r\n'));
    assert.equal((JSON.parse((await next).body) as { ID: string }).ID, again.id);
    // Without a newer match, after= answers 404 at once; with a wait, after it.
    assert.equal((await get(base, `/api/v1/message/latest?query=subject:later&after=${again.id}`)).status, 404);
    assert.deepEqual(await get(base, '/api/v1/message/latest?query=subject:never&wait=150ms'), {
      status: 404,
      body: 'Message not found\n',
    });
    assert.equal(inbox.listenerCount('new'), 0, 'nothing is left listening');
    assert.equal((await get(base, '/api/v1/message/latest?wait=soon')).status, 400);
    assert.equal((await get(base, '/api/v1/message/latest?after=nosuchmessage0000000000')).status, 400);
  });

  it('sends a path with a doubled slash to its clean form with 301, the query kept', async () => {
    assert.deepEqual(await get(base, `//view/${ids['alpha']}.html`), {
      status: 301,
      location: `/view/${ids['alpha']}.html`,
      body: 'Moved Permanently\n',
    });
    const moved = await get(base, '/api//v1/messages?limit=1');
    assert.equal(moved.status, 301);
    assert.equal(moved.location, '/api/v1/messages?limit=1');
    assert.equal((await get(base, moved.location!)).status, 200);
  });

  it('reads a send request’s keys in any case, and tells an attachment’s type from its file name', async () => {
    const { envelope, data } = await buildSend({
      from: { email: 'app@example.test', NAME: 'App' },
      TO: [{ Email: 'user@example.test' }],
      subject: 'Report',
      text: 'attached',
      attachments: [{ content: Buffer.from('%PDF-1.4').toString('base64'), FileName: 'report.pdf' }],
    });
    assert.deepEqual(envelope, { from: 'app@example.test', to: ['user@example.test'] });
    const parsed = await simpleParser(data);
    assert.equal(parsed.subject, 'Report');
    assert.equal(parsed.from?.value[0]?.name, 'App');
    assert.equal(parsed.attachments[0]?.filename, 'report.pdf');
    assert.equal(parsed.attachments[0]?.contentType, 'application/pdf');
    assert.equal(parsed.attachments[0]?.content.toString(), '%PDF-1.4');
  });
});
