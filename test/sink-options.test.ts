/**
 * startSink's options for what applications under test really use: TLS
 * (implicit for `secure: true`, STARTTLS for `requireTLS`) with a
 * certificate the test trusts, AUTH with a user table, scripted replies,
 * LMTP, a size limit; and what a received message carries (tls, authUser,
 * attachments' bytes). nodemailer, verifying the certificate, is the client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { DEFAULT_WAIT_MS, startSink } from '../src/sink.js';

const mail = { from: 'app@example.test', to: 'user@example.test', subject: 'Hello', text: 'Hi' };

describe('startSink options', () => {
  it('implicit TLS for clients with secure: true, with a certificate the test can trust', async () => {
    const sink = await startSink({ tls: { implicit: true } });
    try {
      assert.ok(sink.tls && sink.tls.cert.startsWith('-----BEGIN CERTIFICATE-----') && sink.tls.implicit);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: sink.port,
        secure: true,
        tls: { ca: sink.tls.cert },
      });
      await transport.sendMail(mail);
      const [m] = await sink.waitForMessages(1);
      assert.match(m!.tls!.protocol, /^TLSv1\.[23]$/);
    } finally {
      await sink.close();
    }
  });

  it('STARTTLS and AUTH against a user table, for requireTLS and auth', async () => {
    const sink = await startSink({ tls: true, requireTls: true, auth: { users: { alice: 's3cret' }, required: true } });
    try {
      const send = (pass: string) =>
        nodemailer
          .createTransport({
            host: '127.0.0.1',
            port: sink.port,
            requireTLS: true,
            tls: { ca: sink.tls!.cert },
            auth: { user: 'alice', pass },
          })
          .sendMail(mail);
      await assert.rejects(send('wrong'), /535/);
      await send('s3cret');
      const [m] = await sink.waitForMessages(1);
      assert.equal(m!.authUser, 'alice');
      assert.ok(m!.tls);
      await assert.rejects(
        nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, ignoreTLS: true }).sendMail(mail),
        /530/,
      );
    } finally {
      await sink.close();
    }
  });

  it('scripted replies, a size limit and LMTP', async () => {
    const sink = await startSink({ rules: ['RCPT~nobody@=550 5.1.1 No such user'], dataSizeLimit: 1000, lmtp: true });
    try {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, lmtp: true, ignoreTLS: true });
      await assert.rejects(transport.sendMail({ ...mail, to: 'nobody@example.test' }), /550 5\.1\.1 No such user/);
      // LMTP answers each recipient after the data: nodemailer reports the refused ones.
      const big = await transport.sendMail({ ...mail, text: 'x'.repeat(2000) }).catch((e: Error) => e);
      assert.match(big instanceof Error ? big.message : JSON.stringify(big), /552|size/i);
      const ok = await transport.sendMail(mail);
      assert.deepEqual(ok.accepted, ['user@example.test']);
      await sink.waitForMessages(1);
      assert.equal(sink.messages.length, 1);
      assert.equal(sink.server.channelConfig.lmtp, true);
    } finally {
      await sink.close();
    }
  });

  it("gives an attachment's bytes on demand", async () => {
    const sink = await startSink();
    try {
      const csv = 'id,total\n1,9.99\n2,19.99\n';
      const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0x80]);
      await nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, ignoreTLS: true }).sendMail({
        ...mail,
        attachments: [
          { filename: 'report.csv', content: csv },
          { filename: 'a.pdf', content: pdf },
        ],
      });
      const [m] = await sink.waitForMessages(1);
      assert.deepEqual(
        m!.parsed!.attachments.map((a) => a.filename),
        ['report.csv', 'a.pdf'],
      );
      assert.equal((await m!.attachment(0)).toString(), csv);
      assert.deepEqual(await m!.attachment(1), pdf);
      await assert.rejects(m!.attachment(2), /no attachment #2 \(the message has 2\)/);
      assert.equal(DEFAULT_WAIT_MS, 5000);
    } finally {
      await sink.close();
    }
  });
});
