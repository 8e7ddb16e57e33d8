import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codes, crlf, script } from '../helpers/byte-script.js';

const ON = { chunking: true };
const ENVELOPE = 'EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n';

describe('CHUNKING (RFC 3030)', () => {
  it('is advertised after EHLO when enabled; BDAT is unknown otherwise, and before EHLO, as in smtpd', () => {
    assert.ok(script(crlf('EHLO x'), ON).lines.includes('250-CHUNKING'));
    assert.ok(!script(crlf('EHLO x'), ON).lines.includes('250-BINARYMIME'));
    assert.deepEqual(codes(script(crlf('BDAT 0 LAST'), ON)), [500]);
    assert.deepEqual(codes(script(crlf('EHLO x', 'BDAT 0 LAST'))), [250, 500]);
  });

  it('takes chunks of any size, bytes as they are, and completes the message at LAST', () => {
    const body = 'Subject: x\r\n\r\n.leading dot\r\nCRLF.CRLF:\r\n.\r\nbare\nLF\r\n';
    const input = `${ENVELOPE}BDAT 5\r\n${body.slice(0, 5)}BDAT ${body.length - 5} LAST\r\n${body.slice(5)}QUIT\r\n`;
    const o = script(input, ON);
    assert.deepEqual(codes(o), [250, 250, 250, 250, 250, 221]);
    assert.ok(o.lines.includes('250 5 octets received'));
    assert.equal(o.messages.length, 1);
    assert.equal(o.messages[0]!.data.toString('latin1'), body);
    assert.deepEqual(o.messages[0]!.bareLineEndings, { cr: 0, lf: 1 });
  });

  it('reads a chunk that holds command-like bytes as data, pipelined with the commands around it', () => {
    const chunk = 'RSET\r\nQUIT\r\n';
    const o = script(
      `${ENVELOPE}BDAT ${chunk.length} LAST\r\n${chunk}MAIL FROM:<e@f>\r\nRCPT TO:<g@h>\r\nBDAT 0 LAST\r\nNOOP\r\n`,
      ON,
    );
    assert.deepEqual(codes(o), [250, 250, 250, 250, 250, 250, 250, 250]);
    assert.deepEqual(
      o.messages.map((m) => m.data.toString()),
      [chunk, ''],
    );
  });

  it('reads the chunk of a refused BDAT and then answers 503, keeping the stream in step', () => {
    const o = script(crlf('EHLO x', 'BDAT 6', 'NOOP', 'MAIL FROM:<a@b>', 'BDAT 4 LAST', 'xx', 'NOOP'), ON);
    assert.deepEqual(o.lines.slice(-4), [
      '503 Error: need MAIL command',
      '250 OK',
      '503 Error: need RCPT command',
      '250 OK',
    ]);
    assert.deepEqual(codes(o), [250, 503, 250, 503, 250]);
    assert.equal(o.messages.length, 0);
  });

  it('answers 501 to a BDAT without a size', () => {
    assert.deepEqual(
      codes(script(crlf('EHLO x', 'BDAT', 'BDAT x', 'BDAT -1', 'BDAT 1 MORE'), ON)),
      [250, 501, 501, 501, 501],
    );
  });

  it('refuses DATA once BDAT has started a message', () => {
    const o = script(`${ENVELOPE}BDAT 2\r\nabDATA\r\nBDAT 0 LAST\r\n`, ON);
    assert.deepEqual(codes(o), [250, 250, 250, 250, 503, 250]);
    assert.equal(o.messages[0]!.data.toString(), 'ab');
  });

  it('shares the size limit with DATA: 552 at the chunk that passes it, and the transaction ends', () => {
    const o = script(`${ENVELOPE}BDAT 10\r\n0123456789BDAT 10 LAST\r\n0123456789NOOP\r\n`, {
      ...ON,
      dataSizeLimit: 15,
    });
    assert.deepEqual(codes(o), [250, 250, 250, 250, 552, 250]);
    assert.equal(o.messages.length, 0);
  });

  it('accepts BODY=BINARYMIME with binaryMime, which then requires BDAT', () => {
    const cfg = { ...ON, binaryMime: true };
    assert.ok(script(crlf('EHLO x'), cfg).lines.includes('250-BINARYMIME'));
    const binary = Buffer.from([0, 1, 2, 0x0d, 0xff, 0x0a]);
    const input = Buffer.concat([
      Buffer.from('EHLO x\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\nRCPT TO:<c@d>\r\nDATA\r\nBDAT 6 LAST\r\n'),
      binary,
    ]);
    const o = script(input, { ...cfg, bareLf: 'reject' });
    assert.deepEqual(codes(o), [250, 250, 250, 503, 250]);
    assert.deepEqual(o.messages[0]!.data, binary);
    assert.deepEqual(codes(script(crlf('EHLO x', 'MAIL FROM:<a@b> BODY=BINARYMIME'), ON)), [250, 501]);
  });
});
