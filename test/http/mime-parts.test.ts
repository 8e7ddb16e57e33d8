/** The MIME walker behind Mailpit's part IDs: numbering, decoding, bounds, and hostile input. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachmentLists, mimeParts } from '../../src/http/mime-parts.js';
import { prng } from '../helpers/byte-script.js';

const nested = Buffer.from(
  [
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    'preamble',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=C3=A9 soft=',
    'break',
    '--inner',
    'Content-Type: text/html',
    '',
    '<p>hi</p>',
    '--inner--',
    '--outer',
    'Content-Type: application/pdf; name="a.pdf"',
    "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0=',
    '--outer--',
    'epilogue',
  ].join('\r\n'),
);

describe('mimeParts', () => {
  it('numbers nested parts as enmime does and decodes each', () => {
    const parts = mimeParts(nested);
    assert.deepEqual(
      parts.map((p) => [p.partId, p.contentType]),
      [
        ['1.1', 'text/plain'],
        ['1.2', 'text/html'],
        ['2', 'application/pdf'],
      ],
    );
    assert.equal(parts[0]!.content.toString('utf8'), 'café softbreak', 'a soft line break joins the lines');
    assert.equal(parts[2]!.fileName, 'résumé.pdf', 'RFC 2231 name decoded');
    assert.equal(parts[2]!.content.toString('latin1'), '%PDF-');
    const { attachments, inline } = attachmentLists(parts);
    assert.deepEqual(
      attachments.map((p) => p.partId),
      ['2'],
    );
    assert.deepEqual(inline, []);
  });

  it('takes a single-part message as part 1, with no attachment', () => {
    const parts = mimeParts(Buffer.from('Subject: x\r\n\r\nhello\r\n'));
    assert.deepEqual(
      parts.map((p) => [p.partId, p.contentType, p.content.toString()]),
      [['1', 'text/plain', 'hello\r\n']],
    );
    assert.deepEqual(attachmentLists(parts).attachments, []);
  });

  it('survives random and deeply nested input without throwing, within its bounds', () => {
    const random = prng(16);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 400) }, () => Math.floor(random() * 256)));
      mimeParts(Buffer.concat([Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n'), bytes]));
    }
    const deep = Array.from(
      { length: 200 },
      (_, d) => `Content-Type: multipart/mixed; boundary=b${d}\r\n\r\n--b${d}\r\n`,
    ).join('');
    assert.ok(mimeParts(Buffer.from(deep)).length <= 1);
  });
});
