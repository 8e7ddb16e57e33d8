import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr, R550_RELAY_DENIED, R550_RELAY_DOMAIN, recipientPolicy } from '../../src/relay/policy.js';
import { parseDeliverRoute } from '../../src/relay/routes.js';

const from = (address: string) => ({ address, port: 40000 });

describe('the relay policy at RCPT', () => {
  it('lets only loopback peers relay by default', () => {
    const policy = recipientPolicy({ relaying: true, allow: [], domains: [], routes: [] });
    assert.equal(policy('a@example.com', from('127.0.0.1')), undefined);
    assert.equal(policy('a@example.com', from('::1')), undefined);
    assert.equal(policy('a@example.com', from('::ffff:127.0.0.1')), undefined);
    assert.equal(policy('a@example.com', from('192.0.2.7')), R550_RELAY_DENIED);
  });

  it('lets exactly the --relay-allow networks relay', () => {
    const policy = recipientPolicy({ relaying: true, allow: ['10.0.0.0/8', '2001:db8::/32'], domains: [], routes: [] });
    assert.equal(policy('a@example.com', from('10.1.2.3')), undefined);
    assert.equal(policy('a@example.com', from('::ffff:10.1.2.3')), undefined);
    assert.equal(policy('a@example.com', from('2001:db8::5')), undefined);
    assert.equal(policy('a@example.com', from('127.0.0.1')), R550_RELAY_DENIED);
  });

  it('limits relayed domains with --relay-domains, a leading dot taking subdomains', () => {
    const policy = recipientPolicy({ relaying: true, allow: [], domains: ['example.com', '.corp.test'], routes: [] });
    assert.equal(policy('a@Example.COM', from('127.0.0.1')), undefined);
    assert.equal(policy('a@mx.corp.test', from('127.0.0.1')), undefined);
    assert.equal(policy('a@sub.example.com', from('127.0.0.1')), R550_RELAY_DOMAIN);
    assert.equal(policy('a@evil.test', from('127.0.0.1')), R550_RELAY_DOMAIN);
  });

  it('accepts --deliver recipients from anyone (local delivery), and everything without an upstream', () => {
    const routes = [parseDeliverRoute('*@lists.test=cat')];
    assert.equal(
      recipientPolicy({ relaying: true, allow: ['10.0.0.0/8'], domains: ['x.test'], routes })(
        'l@lists.test',
        from('192.0.2.7'),
      ),
      undefined,
    );
    assert.equal(
      recipientPolicy({ relaying: false, allow: [], domains: [], routes })('a@b.test', from('192.0.2.7')),
      undefined,
    );
  });

  it('parses CIDRs, a bare address being one host', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
    for (const bad of ['10.0.0.0/33', 'example.com/8', '10.0.0.0/', '10.0.0/8'])
      assert.equal(parseCidr(bad), undefined, bad);
  });
});
