import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { PureProxy, RelayHandler, type RelayHandlerOptions } from '../../src/handlers/relay.js';
import type { Message } from '../../src/message.js';
import type { PrintContext } from '../../src/printers/printer.js';
import { parseDeliverRoute } from '../../src/relay/routes.js';
import type { UpstreamOptions } from '../../src/relay/upstream.js';
import { makeMessage } from '../helpers/message.js';
import { freePort } from '../helpers/free-port.js';
import { startScriptedUpstream, startSilentUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { sendMail } from '../helpers/smtp-client.js';

const upstreamAt = (port: number, timeoutMs = 5000): UpstreamOptions => ({
  host: '127.0.0.1',
  port,
  requireTLS: false,
  timeoutMs,
  name: 'proxy.test',
});

function logStream(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

/** A handler whose printer records what it was given. */
function handler(options: Partial<RelayHandlerOptions> & Pick<RelayHandlerOptions, 'upstream'>) {
  const printed: PrintContext[] = [];
  const log = logStream();
  const h = new RelayHandler({
    print: async (_m: Message, context: PrintContext) => {
      printed.push(context);
    },
    log: log.stream,
    ...options,
  });
  return { h, printed, log };
}

const message = (rcptTos: string[]) => makeMessage('Subject: s\n\nbody\n', { rcptTos });

describe('the relay handler', () => {
  let upstream: ScriptedUpstream;
  before(async () => {
    upstream = await startScriptedUpstream({
      rcpt: (a) =>
        a.startsWith('nobody@')
          ? '550 5.1.1 No such user'
          : a.startsWith('later@')
            ? '450 4.2.1 Mailbox busy'
            : undefined,
    });
  });
  after(() => upstream.close());

  it('answers 250 once the upstream accepted, and prints the outcome', async () => {
    const { h, printed } = handler({ upstream: upstreamAt(upstream.port) });
    assert.equal(await h.handleMessage(message(['a@example.com'])), undefined);
    assert.deepEqual(printed[0]!.relay, {
      upstream: `127.0.0.1:${upstream.port}`,
      accepted: ['a@example.com'],
      refused: [],
    });
    assert.equal(upstream.messages.at(-1)!.data.toString(), 'Subject: s\r\nX-Peer: 127.0.0.1\r\n\r\nbody\r\n');
  });

  it('accepts a partial refusal for the others, reporting the refused on stderr and to the printer', async () => {
    const { h, printed, log } = handler({ upstream: upstreamAt(upstream.port) });
    assert.equal(await h.handleMessage(message(['a@example.com', 'nobody@example.com'])), undefined);
    assert.deepEqual(printed[0]!.relay!.accepted, ['a@example.com']);
    assert.deepEqual(printed[0]!.relay!.refused, [
      { address: 'nobody@example.com', code: 550, message: '5.1.1 No such user' },
    ]);
    assert.match(
      log.text(),
      /^smtpd-ts: message 1234\.1: upstream 127\.0\.0\.1:\d+ refused nobody@example\.com: 550 5\.1\.1 No such user\n$/,
    );
    assert.deepEqual(upstream.messages.at(-1)!.rcptTo, ['a@example.com']);
  });

  it('sends bare CR and LF upstream as CRLF, never bare (RFC 5321 2.3.8; SMTP smuggling)', async () => {
    const { h } = handler({ upstream: upstreamAt(upstream.port) });
    const data = Buffer.from('Subject: s\r\n\r\nbare\nlf\r\nbare\rcr\r\n');
    assert.equal(await h.handleMessage(makeMessage(data, { rcptTos: ['a@example.com'] })), undefined);
    assert.equal(
      upstream.messages.at(-1)!.data.toString(),
      'Subject: s\r\nX-Peer: 127.0.0.1\r\n\r\nbare\r\nlf\r\nbare\r\ncr\r\n',
    );
  });

  it('declares BODY=8BITMIME for 8-bit data and SMTPUTF8 for an internationalized address', async () => {
    const { h } = handler({ upstream: upstreamAt(upstream.port) });
    const data = Buffer.from('Subject: caf\xc3\xa9\r\n\r\n\xff\r\n', 'latin1');
    assert.equal(
      await h.handleMessage(
        makeMessage(data, { mailFrom: 'pel\u00e9@example.com', rcptTos: ['a@example.com'], mailOptions: ['SMTPUTF8'] }),
      ),
      undefined,
    );
    const got = upstream.messages.at(-1)!;
    assert.equal(got.mailFrom, 'pel\u00e9@example.com');
    assert.equal(got.mailParams.BODY, '8BITMIME');
    assert.equal(got.mailParams.SMTPUTF8, true);
    assert.deepEqual(got.data.subarray(-3), Buffer.from([0xff, 0x0d, 0x0a]));
  });

  it('answers the 5xx when every recipient is refused for good', async () => {
    const { h } = handler({ upstream: upstreamAt(upstream.port) });
    const verdict = await h.handleMessage(message(['nobody@example.com']));
    assert.deepEqual(verdict, { code: 550, lines: ['5.1.1 No such user'] });
  });

  it('answers 451 when any recipient is deferred, warning that a retry may duplicate', async () => {
    const { h, printed, log } = handler({ upstream: upstreamAt(upstream.port) });
    const verdict = await h.handleMessage(message(['a@example.com', 'later@example.com']));
    assert.equal(verdict?.code, 451);
    assert.equal(printed[0]!.relay!.refused[0]!.code, 450);
    assert.match(log.text(), /answered 451 although a@example\.com took it/);
  });

  it('answers 451, and still prints, when the upstream is down', async () => {
    const { h, printed } = handler({ upstream: upstreamAt(await freePort()) });
    const verdict = await h.handleMessage(message(['a@example.com']));
    assert.equal(verdict?.code, 451);
    assert.match(verdict!.lines[0]!, /a@example\.com: upstream 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    assert.equal(printed.length, 1);
    assert.deepEqual(printed[0]!.relay!.accepted, []);
  });

  it('answers 451 when the upstream never answers within the timeout', async () => {
    const silent = await startSilentUpstream();
    try {
      const { h } = handler({ upstream: upstreamAt(silent.port, 300) });
      const verdict = await h.handleMessage(message(['a@example.com']));
      assert.equal(verdict?.code, 451);
    } finally {
      await silent.close();
    }
  });

  it('answers 451 when the message cannot be printed, even though the upstream took it', async () => {
    const { log, ...rest } = handler({
      upstream: upstreamAt(upstream.port),
      print: async () => {
        throw new Error('disk full');
      },
    });
    await assert.rejects(rest.h.handleMessage(message(['a@example.com'])), /disk full/);
    assert.match(log.text(), /a@example\.com took it, but it could not be written/);
  });

  it('pipes routed recipients to their command and prints the rest, without an upstream', async () => {
    const routes = [parseDeliverRoute('*@lists.test=exit 0'), parseDeliverRoute('*@broken.test=exit 1')];
    const { h, printed } = handler({ upstream: null, routes });
    assert.equal(await h.handleMessage(message(['x@lists.test', 'y@broken.test', 'z@else.test'])), undefined);
    assert.deepEqual(printed[0]!.relay!.accepted, ['x@lists.test']);
    assert.deepEqual(
      printed[0]!.relay!.refused.map((r) => [r.address, r.code]),
      [['y@broken.test', 550]],
    );
    assert.equal(printed[0]!.relay!.upstream, null);
  });

  it("answers the command's 550 when its only recipient was refused", async () => {
    const { h } = handler({ upstream: null, routes: [parseDeliverRoute('*=exit 3')] });
    assert.equal((await h.handleMessage(message(['x@lists.test'])))?.code, 550);
  });

  it("is smtpd's PureProxy as a server class, relaying for loopback clients", async () => {
    const log = logStream();
    const proxy = new PureProxy(
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: upstream.port },
      { log: log.stream },
    );
    const { port } = await proxy.listen();
    try {
      const codes = await sendMail(port, {
        from: 'p@example.com',
        to: ['proxy@example.com'],
        data: 'Subject: via PureProxy\r\n\r\nhi\r\n',
      });
      assert.deepEqual(codes, [220, 250, 250, 250, 354, 250, 221]);
      assert.deepEqual(upstream.messages.at(-1)!.rcptTo, ['proxy@example.com']);
    } finally {
      await proxy.close();
    }
  });
});
