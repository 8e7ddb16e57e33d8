/**
 * PureProxy's upstream TLS and AUTH, through the real CLI: STARTTLS when
 * offered, `--relay-tls` to require it with a verified certificate, and
 * `--relay-user`/`--relay-password-file`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { NODE_ARGS, ROOT, startCli } from '../helpers/cli.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../helpers/scripted-upstream.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tempDir } from '../helpers/temp-dir.js';

async function sendOne(port: number): Promise<number> {
  const c = await SmtpClient.connect(port);
  try {
    await c.read();
    await c.command('EHLO client.test');
    await c.command('MAIL FROM:<s@example.test>');
    assert.equal((await c.command('RCPT TO:<r@example.test>')).code, 250);
    await c.command('DATA');
    c.write('Subject: tls\r\n\r\nhi\r\n.\r\n');
    return (await c.read(20_000)).code;
  } finally {
    c.close();
  }
}

/** Runs the CLI with `args` (plus 127.0.0.1:0), sends one message, returns the reply code. */
async function relayOnce(args: string[], env: Record<string, string> = {}): Promise<number> {
  // The child inherits process.env when it is spawned, synchronously, inside startCli.
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  const starting = startCli([...args, '127.0.0.1:0']);
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const cli = await starting;
  try {
    return await sendOne(cli.port);
  } finally {
    await cli.stop();
  }
}

describe('the upstream over TLS, with AUTH', () => {
  const tmp = tempDir('relay-tls');
  let tlsUpstream: ScriptedUpstream;
  let plainUpstream: ScriptedUpstream;
  let certFile: string;
  let passwordFile: string;
  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'upstream.test' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    certFile = tmp.join('upstream.pem');
    passwordFile = tmp.join('password');
    await writeFile(certFile, pems.cert);
    await writeFile(passwordFile, 's3cret\n');
    await writeFile(tmp.join('wrong'), 'nope\n');
    tlsUpstream = await startScriptedUpstream({
      tls: { key: pems.private, cert: pems.cert },
      auth: { user: 'relay', pass: 's3cret' },
    });
    plainUpstream = await startScriptedUpstream();
  });
  after(async () => {
    await tlsUpstream?.close();
    await plainUpstream?.close();
  });

  it('uses STARTTLS when offered (unverified) and logs in with the password file', async () => {
    const code = await relayOnce([
      '--relay',
      `127.0.0.1:${tlsUpstream.port}`,
      '--relay-user',
      'relay',
      '--relay-password-file',
      passwordFile,
    ]);
    assert.equal(code, 250);
    const got = tlsUpstream.messages.at(-1)!;
    assert.equal(got.secure, true);
    assert.equal(got.user, 'relay');
  });

  it('with --relay-tls, relays when the certificate verifies', async () => {
    const args = [
      '--relay',
      `127.0.0.1:${tlsUpstream.port}`,
      '--relay-tls',
      '--relay-user',
      'relay',
      '--relay-password-file',
      passwordFile,
    ];
    assert.equal(await relayOnce(args, { NODE_EXTRA_CA_CERTS: certFile }), 250);
  });

  it('with --relay-tls, answers 451 when the certificate does not verify or STARTTLS is not offered', async () => {
    const args = ['--relay-tls', '--relay-user', 'relay', '--relay-password-file', passwordFile];
    assert.equal(await relayOnce(['--relay', `127.0.0.1:${tlsUpstream.port}`, ...args]), 451);
    assert.equal(await relayOnce(['--relay', `127.0.0.1:${plainUpstream.port}`, ...args]), 451);
  });

  it('answers 451 when the upstream refuses the login', async () => {
    const args = [
      '--relay',
      `127.0.0.1:${tlsUpstream.port}`,
      '--relay-user',
      'relay',
      '--relay-password-file',
      tmp.join('wrong'),
    ];
    assert.equal(await relayOnce(args), 451);
  });

  it('does not start (exit 2, one line, as for every file a flag reads) when the password file cannot be read', async () => {
    const args = [
      ...NODE_ARGS,
      '--relay',
      `127.0.0.1:${tlsUpstream.port}`,
      '--relay-user',
      'relay',
      '--relay-password-file',
      tmp.join('missing'),
      '127.0.0.1:0',
    ];
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: ROOT, timeout: 20_000 }, (err, _stdout, stderr) =>
        resolve({ code: err ? (err.code as number) : 0, stderr }),
      );
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^smtpd-ts: cannot read --relay-password-file .*missing: no such file or directory \(ENOENT\)/,
    );
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  });
});
