/** TLS and AUTH in the outputs: JSON's `tls` and `authUser`, parsed's `TLS:` and `Auth-User:` lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSON_SCHEMA } from '../../src/printers/json-schema.js';
import { printJson, toJsonRecord } from '../../src/printers/json.js';
import { parseMessage } from '../../src/mime/parse-message.js';
import { printParsed } from '../../src/printers/parsed.js';
import { validate } from '../helpers/json-schema.js';
import { makeMessage } from '../helpers/message.js';

const TLS = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };

describe('TLS and AUTH in the outputs', () => {
  it('are null in JSON for a message in the clear without AUTH', () => {
    const r = toJsonRecord(makeMessage('Subject: s\n\nbody\n'));
    assert.equal(r.tls, null);
    assert.equal(r.authUser, null);
  });

  it('are recorded in JSON, valid against the schema', async () => {
    const m = makeMessage('Subject: s\n\nbody\n', { tls: TLS, authUser: 'alice' });
    const record = JSON.parse(printJson(m, { parsed: await parseMessage(m) })) as Record<string, unknown>;
    assert.deepEqual(record['tls'], TLS);
    assert.equal(record['authUser'], 'alice');
    assert.deepEqual(validate(JSON_SCHEMA, record), []);
  });

  it('are shown by the parsed format only when they apply', async () => {
    const m = makeMessage('Subject: s\n\nbody\n', { tls: TLS, authUser: 'alice' });
    const out = printParsed(m, { parsed: await parseMessage(m) });
    assert.match(out, /^TLS: TLSv1\.3 TLS_AES_256_GCM_SHA384$/m);
    assert.match(out, /^Auth-User: alice$/m);
    const clear = makeMessage('Subject: s\n\nbody\n');
    assert.doesNotMatch(printParsed(clear, { parsed: await parseMessage(clear) }), /^(TLS|Auth-User):/m);
  });
});
