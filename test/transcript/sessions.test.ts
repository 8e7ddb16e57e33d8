import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleEngine } from '../../src/rules/engine.js';
import { parseRule } from '../../src/rules/parse.js';
import { SMTPServer } from '../../src/server/server.js';
import type { FinishedSession } from '../../src/transcript/transcript.js';
import { SmtpClient } from '../helpers/smtp-client.js';

/** A server recording sessions; resolves each finished one in order. */
async function recording(options: ConstructorParameters<typeof SMTPServer>[2] = {}) {
  const sessions: FinishedSession[] = [];
  let wake = () => {};
  const server = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, {
    hostname: 'sink.test',
    handler: { handleMessage: () => undefined },
    transcript: (s) => {
      sessions.push(s);
      wake();
    },
    ...options,
  });
  const { port } = await server.listen();
  const next = (n: number) =>
    new Promise<FinishedSession>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no session ended')), 5000);
      wake = () => {
        if (sessions.length < n) return;
        clearTimeout(timer);
        resolve(sessions[n - 1]!);
      };
      wake();
    });
  return { server, port, next };
}

describe('session transcripts in the server', () => {
  it('ends a session by timeout, and says so', async () => {
    const { server, port, next } = await recording({ timeouts: { command: 150 } });
    const c = await SmtpClient.connect(port);
    await c.read();
    const s = await next(1);
    assert.equal(s.record.end, 'timeout');
    assert.ok(s.record.dialogue.some((l) => l.dir === 'server' && l.text.startsWith('421 ')));
    c.close();
    await server.close();
  });

  it('ends an idle session at shutdown, and a dropped one as a drop, with its rules', async () => {
    const engine = new RuleEngine([parseRule('NOOP#2=drop')], 1);
    const { server, port, next } = await recording({ replyRule: engine.hook });
    const dropped = await SmtpClient.connect(port);
    await dropped.read();
    assert.equal((await dropped.command('NOOP')).code, 250);
    dropped.write('NOOP\r\n');
    await dropped.waitClosed();
    const first = await next(1);
    assert.deepEqual([first.record.end, first.record.rules], ['drop', ['NOOP#2=drop']]);
    const idle = await SmtpClient.connect(port);
    await idle.read();
    const closing = server.close();
    assert.equal((await idle.read()).code, 421);
    assert.equal((await next(2)).record.end, 'shutdown');
    await closing;
    idle.close();
  });
});
