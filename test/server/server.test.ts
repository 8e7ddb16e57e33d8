/**
 * The server over real sockets on 127.0.0.1: handlers and smtpd's
 * processMessage hook, failures turned into 451, connection limits and the
 * RFC 5321 timeouts.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { reply } from '../../src/channel/reply.js';
import { SMTPServer, type ServerOptions, type Verdict } from '../../src/server/server.js';
import type { Message } from '../../src/message.js';
import { SmtpClient, sendMail } from '../helpers/smtp-client.js';

const LOCAL = { host: '127.0.0.1', port: 0 };

async function withServer(
  options: ServerOptions,
  body: (port: number, server: SMTPServer, log: () => string) => Promise<void>,
) {
  const log = new PassThrough();
  let logged = '';
  log.on('data', (c: Buffer) => (logged += c.toString()));
  const server = new SMTPServer(LOCAL, null, { log, ...options });
  const { port } = await server.listen();
  try {
    await body(port, server, () => logged);
  } finally {
    await server.close(100);
  }
}

const MAIL = { from: 'a@example.test', to: ['b@example.test'], data: 'Subject: t\r\n\r\nhello' };

describe('SMTPServer', () => {
  it("calls an overridden processMessage with smtpd's arguments", async () => {
    const calls: unknown[] = [];
    class Recorder extends SMTPServer {
      override processMessage(
        peer: [string, number],
        mailFrom: string,
        rcptTos: readonly string[],
        data: Buffer,
        opts: { mailOptions: readonly string[] },
      ): Verdict {
        calls.push({ peer: peer[0], mailFrom, rcptTos, data: data.toString(), mailOptions: opts.mailOptions });
        return undefined;
      }
    }
    const server = new Recorder(LOCAL);
    const { port } = await server.listen();
    try {
      assert.deepEqual(await sendMail(port, MAIL), [220, 250, 250, 250, 354, 250, 221]);
      assert.deepEqual(calls, [
        {
          peer: '127.0.0.1',
          mailFrom: 'a@example.test',
          rcptTos: ['b@example.test'],
          data: 'Subject: t\r\n\r\nhello\r\n',
          mailOptions: [],
        },
      ]);
    } finally {
      await server.close(100);
    }
  });

  it('sends a reply string returned by the handler, as smtpd did', async () => {
    await withServer({ handler: { handleMessage: () => '550 No such user here' } }, async (port) => {
      assert.deepEqual(await sendMail(port, MAIL), [220, 250, 250, 250, 354, 550, 221]);
    });
  });

  it('answers 451 when the handler throws, logs one report on stderr and keeps serving', async () => {
    let n = 0;
    const handler = {
      handleMessage(): Verdict {
        n++;
        if (n === 1) throw new Error('disk on fire');
        return reply(250, 'second is fine');
      },
    };
    await withServer({ handler }, async (port, _server, log) => {
      assert.equal((await sendMail(port, MAIL))[5], 451);
      assert.match(log(), /error while handling message \d+\.1: Error: disk on fire/);
      assert.equal((await sendMail(port, MAIL))[5], 250);
    });
  });

  it('emits message after the 250, once per accepted message', async () => {
    await withServer({ handler: { handleMessage: () => undefined } }, async (port, server) => {
      const seen = once(server, 'message') as Promise<[Message]>;
      await sendMail(port, MAIL);
      const [m] = await seen;
      assert.equal(m.mailFrom, 'a@example.test');
      assert.equal(m.peer.address, '127.0.0.1');
      assert.match(m.id, /^\d+\.\d+$/);
    });
  });

  it('answers the connection over maxConnections with 421 and closes it', async () => {
    await withServer({ handler: { handleMessage: () => undefined }, maxConnections: 2 }, async (port) => {
      const a = await SmtpClient.connect(port);
      const b = await SmtpClient.connect(port);
      assert.equal((await a.read()).code, 220);
      assert.equal((await b.read()).code, 220);
      const c = await SmtpClient.connect(port);
      const refused = await c.read();
      assert.equal(refused.code, 421);
      assert.match(refused.lines[0]!, /too many connections/);
      await c.waitClosed();
      a.close();
      await a.waitClosed();
      // A slot is free again once a connection has gone.
      for (let i = 0; i < 50; i++) {
        const d = await SmtpClient.connect(port);
        const code = (await d.read()).code;
        d.close();
        if (code === 220) break;
        assert.ok(i < 49, 'the freed slot never became available');
      }
      b.close();
    });
  });

  it('closes an idle session with 421 after the command timeout', async () => {
    await withServer({ handler: { handleMessage: () => undefined }, timeouts: { command: 150 } }, async (port) => {
      const c = await SmtpClient.connect(port);
      await c.read();
      await c.command('HELO x');
      const r = await c.read(5000);
      assert.equal(r.code, 421);
      assert.match(r.lines[0]!, /timeout exceeded/);
      await c.waitClosed();
    });
  });

  it('closes a silent DATA with 421 after the data timeout', async () => {
    await withServer(
      { handler: { handleMessage: () => undefined }, timeouts: { command: 60_000, data: 150 } },
      async (port) => {
        const c = await SmtpClient.connect(port);
        await c.read();
        await c.enterData();
        c.write('Subject: half');
        assert.equal((await c.read(5000)).code, 421);
        await c.waitClosed();
      },
    );
  });

  it('cuts off a slow-loris transaction by its total time though bytes keep coming', async () => {
    await withServer(
      { handler: { handleMessage: () => undefined }, timeouts: { command: 60_000, data: 60_000, transaction: 400 } },
      async (port) => {
        const c = await SmtpClient.connect(port);
        await c.read();
        await c.enterData();
        assert.equal((await c.drip()).code, 421);
        await c.waitClosed();
      },
    );
  });

  it('applies maxRecipients, maxMessagesPerConnection and bareLineEndings from its options', async () => {
    await withServer(
      {
        handler: { handleMessage: () => undefined },
        maxRecipients: 1,
        maxMessagesPerConnection: 1,
        bareLf: 'reject',
      },
      async (port) => {
        const c = await SmtpClient.connect(port);
        await c.read();
        await c.command('HELO x');
        await c.command('MAIL FROM:<a@x>');
        assert.equal((await c.command('RCPT TO:<1@x>')).code, 250);
        assert.equal((await c.command('RCPT TO:<2@x>')).code, 452);
        await c.command('DATA');
        assert.equal((await c.command('bare\nlf\r\n.')).code, 550);
        await c.command('MAIL FROM:<a@x>');
        await c.command('RCPT TO:<1@x>');
        await c.command('DATA');
        assert.equal((await c.command('ok\r\n.')).code, 250);
        assert.equal((await c.command('MAIL FROM:<a@x>')).code, 421);
        await c.waitClosed();
      },
    );
  });
});
