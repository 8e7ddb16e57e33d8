import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toConfig } from '../../src/cli/config.js';
import { relayRefusal } from '../../src/cli/relay-settings.js';
import { isLoopbackAddress, isLoopbackHost } from '../../src/loopback.js';
import { UsageError } from '../../src/errors.js';

const config = (args: string[], options: Record<string, unknown> = {}) =>
  toConfig({ class: 'DebuggingServer', ...options }, args);

describe('relay flags', () => {
  it('relay nothing by default, and print only', () => {
    assert.equal(config(['127.0.0.1:0']).relay.upstream, null);
  });

  it("take the upstream from -c PureProxy's remote address (smtpd's localhost:25 by default) or --relay", () => {
    assert.deepEqual(toConfig({ class: 'PureProxy' }, ['127.0.0.1:0', 'mx.test:2525']).relay.upstream, {
      host: 'mx.test',
      port: 2525,
    });
    assert.deepEqual(toConfig({ class: 'PureProxy' }, ['127.0.0.1:0']).relay.upstream, { host: 'localhost', port: 25 });
    assert.deepEqual(config(['127.0.0.1:0'], { relay: '[::1]:25' }).relay.upstream, { host: '::1', port: 25 });
  });

  it('have defaults for the timeouts and take seconds', () => {
    const r = config(['127.0.0.1:0'], { relay: 'mx.test:25', relayTimeout: '0.5', deliver: ['*@l.test=cat'] }).relay;
    assert.equal(r.timeoutMs, 500);
    assert.equal(r.deliverTimeoutMs, 60_000);
    assert.equal(r.routes[0]!.pattern, '*@l.test');
  });

  const refused: [string, string[], Record<string, unknown>, RegExp][] = [
    ['relaying from a non-loopback address', ['0.0.0.0:25'], { relay: 'mx.test:25' }, /open relay.*--relay-allow/],
    ['PureProxy on every interface', [':2525'], { class: 'PureProxy' }, /open relay/],
    ['two upstreams', ['127.0.0.1:0', 'a.test:25'], { relay: 'b.test:25' }, /once/],
    ['a bad CIDR', ['127.0.0.1:0'], { relay: 'mx.test:25', relayAllow: ['10.0.0.0/40'] }, /--relay-allow/],
    ['relay flags without an upstream', ['127.0.0.1:0'], { relayTls: true }, /--relay-tls needs an upstream/],
    ['a user without a password file', ['127.0.0.1:0'], { relay: 'mx.test:25', relayUser: 'u' }, /go together/],
    ['a bad domain', ['127.0.0.1:0'], { relay: 'mx.test:25', relayDomains: ['a b'] }, /--relay-domains/],
    ['a --deliver without a command', ['127.0.0.1:0'], { deliver: ['*@x.test'] }, /--deliver/],
    ['a zero timeout', ['127.0.0.1:0'], { deliver: ['*=cat'], deliverTimeout: '0' }, /--deliver-timeout/],
  ];
  for (const [what, args, options, message] of refused) {
    it(`refuse ${what} with a UsageError (exit 2)`, () => {
      assert.throws(
        () => config(args, options),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }

  it('relay from a non-loopback address when --relay-allow names who may', () => {
    assert.deepEqual(config(['0.0.0.0:0'], { relay: 'mx.test:25', relayAllow: ['10.0.0.0/8'] }).relay.allow, [
      '10.0.0.0/8',
    ]);
  });

  it('judge a host name by the address it is bound to, not by how it is spelled', () => {
    // 127.0.0.1.nip.io resolves anywhere: it passed a startsWith('127.') check once.
    assert.equal(isLoopbackHost('127.0.0.1.nip.io'), false);
    assert.ok(
      isLoopbackHost('127.0.0.2') &&
        isLoopbackHost('::1') &&
        isLoopbackHost('localhost') &&
        isLoopbackAddress('::ffff:127.0.0.1'),
    );
    const settings = config(['127.0.0.1.nip.io:2525'], { relay: 'mx.test:25' }).relay;
    assert.match(
      relayRefusal(settings, '127.0.0.1.nip.io', '192.0.2.7') ?? '',
      /refusing to relay while listening on 127\.0\.0\.1\.nip\.io \(192\.0\.2\.7\): that would be an open relay/,
    );
    assert.equal(relayRefusal(settings, 'localhost', '127.0.0.1'), null);
    assert.equal(
      relayRefusal(
        config(['0.0.0.0:0'], { relay: 'mx.test:25', relayAllow: ['10.0.0.0/8'] }).relay,
        '0.0.0.0',
        '0.0.0.0',
      ),
      null,
    );
    assert.equal(relayRefusal(config(['a.test:0']).relay, 'a.test', '192.0.2.7'), null);
  });
});
