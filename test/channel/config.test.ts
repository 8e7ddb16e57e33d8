import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMTPChannel } from '../../src/channel/channel.js';
import { AUTH_DEFAULTS, resolveChannelConfig, SMTP_DEFAULTS } from '../../src/channel/config.js';
import { SMTPServer } from '../../src/server/server.js';

describe('the channel configuration', () => {
  it('takes every setting not given from SMTP_DEFAULTS, AUTH field by field', () => {
    const c = resolveChannelConfig({ hostname: 'h', banner: 'b', chunking: false, auth: { required: true } });
    assert.equal(c.chunking, false);
    assert.equal(c.dataSizeLimit, SMTP_DEFAULTS.dataSizeLimit);
    assert.deepEqual(c.auth, { ...AUTH_DEFAULTS, required: true });
    assert.equal(resolveChannelConfig({ hostname: 'h', banner: 'b', auth: null }).auth, null);
  });

  it("is not copied again for each connection: a server's channels share it", () => {
    const server = new SMTPServer({ host: '127.0.0.1', port: 0 });
    const config = server.channelConfig;
    assert.equal(resolveChannelConfig(config), config);
    assert.equal(new SMTPChannel(config).config, config);
    const copy = { ...config };
    assert.notEqual(resolveChannelConfig(copy), copy, 'an object it did not build is resolved anew');
  });
});
