/**
 * The route table: the OpenAPI document describes exactly the routes the
 * server answers, and the guards hold for every route in the table
 * (Host, Origin, auth), because the router applies them, not the handlers.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { InboxHttpServer, ROUTES } from '../../src/http/http-server.js';
import { OPENAPI } from '../../src/http/openapi.js';
import { Router, RouteTable } from '../../src/http/router.js';
import { RequestGuard } from '../../src/http/guard.js';
import { WEB_UI_ROUTES } from '../../src/http/routes/web-ui.js';
import { MemoryInbox } from '../../src/inbox/memory-inbox.js';
import { makeMessage } from '../helpers/message.js';

/** A concrete path for a route's pattern, naming the stored message `id`. */
function pathOf(pattern: string, id: string): string {
  return pattern.replace('{ID}', id).replace('{PartID}', '1').replace('{N}', '0').replace('{Asset}', 'app.js');
}

describe('the route table', () => {
  it('is what the OpenAPI document describes, route for route and method for method', () => {
    const paths = OPENAPI.paths as Record<string, Record<string, unknown>>;
    const documented = Object.entries(paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = ROUTES.filter((r) => !WEB_UI_ROUTES.includes(r)).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual([...served].sort(), [...documented].sort());
    assert.equal(new Set(served).size, served.length, 'no route is in the table twice');
  });

  it('matches parameters by their patterns, and MailHog IDs with their host on the decoded path', () => {
    const router = new Router(new RouteTable(ROUTES), new RequestGuard({ host: '127.0.0.1' }));
    assert.deepEqual(router.match('GET', '/api/v1/message/abc123/part/1.2.3')?.params, {
      ID: 'abc123',
      PartID: '1.2.3',
    });
    assert.equal(router.match('GET', '/api/v1/message/abc/part/1..2'), null);
    assert.equal(router.match('GET', '/view/abc.html')?.route.path, '/view/{ID}.html');
    assert.equal(router.match('GET', '/view/abcXhtml'), null, 'a literal dot in a pattern is a dot');
    assert.deepEqual(router.match('DELETE', '/api/v1/messages/abc%40mailhog.example')?.params, {
      ID: 'abc@mailhog.example',
    });
    assert.equal(router.match('POST', '/api/v1/message/abc'), null, 'the method is part of the route');
  });
});

describe('the guards, for every route in the table', () => {
  const inbox = new MemoryInbox();
  const store = inbox.store;
  const server = new InboxHttpServer({
    host: '127.0.0.1',
    port: 0,
    inbox,
    hostname: 'sink.test',
    users: new Map([['user', 'secret']]),
  });
  let base = '';
  // Each route is tried with its real method: the deleting ones may take the message, which is then added again.
  let id = '';
  before(async () => {
    await server.listen();
    base = server.url;
  });
  beforeEach(() => {
    if (store.size === 0) id = store.add(makeMessage(Buffer.from('Subject: guarded\r\n\r\nbody\r\n'))).id;
  });
  after(() => server.close());

  const login = `Basic ${Buffer.from('user:secret').toString('base64')}`;

  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: 401 without the password, 403 for a foreign Host or a foreign page's write`, async () => {
      const { port } = new URL(base);
      const path = pathOf(route.path, id);
      // node:http, not fetch: a Host header is sent as given. The body is not waited for (an event stream has no end).
      const call = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, method: route.method, headers }, (res) => {
            res.destroy();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await call({}), 401);
      assert.equal(await call({ Authorization: login, Host: 'evil.test' }), 403);
      if (route.method !== 'GET') assert.equal(await call({ Authorization: login, Origin: 'http://evil.test' }), 403);
      // With the password, from this server's own page: the guards let it through to the route.
      const status = await call({ Authorization: login });
      assert.ok(![401, 403].includes(status), `answered ${status} past the guards`);
    });
  }
});
