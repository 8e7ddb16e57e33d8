import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { announce, describeMode, probeUpstream } from '../../src/cli/announce.js';
import { toConfig } from '../../src/cli/config.js';
import { startCli } from '../helpers/cli.js';

const mode = (options: Record<string, unknown>, args: string[] = []) =>
  describeMode(toConfig({ class: 'DebuggingServer', ...options }, args));

/** A server on a free port that answers each connection with `greeting` (or closes at once when null). */
async function fakeUpstream(greeting: string | null): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    if (greeting === null) socket.destroy();
    else socket.write(greeting);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

describe('the listening line', () => {
  it('tells a person at a terminal, and only them, that --http adds a web inbox', () => {
    const said = (tty: boolean, args: Partial<Parameters<typeof toConfig>[0]> = {}) => {
      let text = '';
      const stderr = { isTTY: tty, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
      announce(
        toConfig({ class: 'DebuggingServer', ...args }, []),
        { address: '127.0.0.1', port: 1025, family: 'IPv4' },
        stderr,
      );
      return text;
    };
    assert.match(said(true), /add --http to read the mail in a web inbox/);
    assert.doesNotMatch(said(false), /--http/, 'a script reading stderr gets no hint');
    assert.doesNotMatch(said(true, { http: true }), /add --http/);
  });

  it('names the protocol, the TLS mode and where messages go', () => {
    assert.equal(mode({}), 'SMTP');
    assert.equal(mode({ lmtp: true, tls: true }), 'LMTP, STARTTLS');
    assert.equal(mode({ tls: true, tlsImplicit: true, proxyProtocol: true }), 'SMTP, implicit TLS, PROXY protocol');
    assert.equal(mode({ relay: '127.0.0.1:2525' }), 'SMTP; relaying to 127.0.0.1:2525');
    assert.equal(mode({ deliver: ['*@list.test=cat'] }), 'SMTP; delivering to 1 command');
  });
});

describe('the upstream check', () => {
  it('is satisfied by a 220 greeting, and says what is wrong otherwise', async () => {
    const good = await fakeUpstream('220 upstream.test ESMTP\r\n');
    const rude = await fakeUpstream('554 go away\r\n');
    const mute = await fakeUpstream(null);
    const gone = await fakeUpstream(null);
    const gonePort = portOf(gone);
    await new Promise((r) => gone.close(r));
    try {
      assert.equal(await probeUpstream({ host: '127.0.0.1', port: portOf(good) }), null);
      assert.equal(
        await probeUpstream({ host: '127.0.0.1', port: portOf(rude) }),
        "it greets with '554 go away', not 220",
      );
      assert.match(
        (await probeUpstream({ host: '127.0.0.1', port: portOf(mute) }))!,
        /closed the connection|ECONNRESET/,
      );
      assert.equal(await probeUpstream({ host: '127.0.0.1', port: gonePort }), 'connection refused');
    } finally {
      for (const s of [good, rude, mute]) s.close();
    }
  });

  it('warns at start when the upstream does not answer, and the sink runs on', async () => {
    const gone = await fakeUpstream(null);
    const port = portOf(gone);
    await new Promise((r) => gone.close(r));
    const cli = await startCli(['--relay', `127.0.0.1:${port}`, '127.0.0.1:0']);
    try {
      for (let i = 0; i < 100 && !cli.stderr().includes('does not answer'); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(cli.stderr(), /listening on 127\.0\.0\.1:\d+ \(SMTP; relaying to 127\.0\.0\.1:\d+\)/);
      assert.match(
        cli.stderr(),
        new RegExp(
          `warning: the upstream 127\\.0\\.0\\.1:${port} does not answer \\(connection refused\\): messages will get 451`,
        ),
      );
    } finally {
      await cli.stop();
    }
  });
});
