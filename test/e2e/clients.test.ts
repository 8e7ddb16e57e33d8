/**
 * Real clients against the extensions: python3's smtplib (STARTTLS and
 * login, SMTP_SSL, LMTP), curl's SMTP support (STARTTLS, AUTH, SMTPS) and
 * swaks (STARTTLS, AUTH, BDAT). Each suite skips, saying what to install,
 * where its client is missing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import type { Message } from '../../src/message.js';
import { SMTPServer, type ServerOptions } from '../../src/server/server.js';
import { missingTools } from '../helpers/process.js';
import { testCredentials } from '../helpers/tls-credentials.js';

const USERS = new Map([['alice', 's3cret']]);

function missing(command: string, install: string): string | false {
  return missingTools([command]).length > 0 && `${command} not found: ${install}`;
}

/** Runs a client; resolves with its exit code and output (bounded: 15 s). */
function run(command: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

interface Sinks {
  /** STARTTLS, AUTH checked against USERS. */
  starttls: number;
  /** Implicit TLS. */
  implicit: number;
  /** LMTP in the clear. */
  lmtp: number;
  messages: Message[];
}

const sinks: Sinks = { starttls: 0, implicit: 0, lmtp: 0, messages: [] };
const servers: SMTPServer[] = [];

before(async () => {
  const c = await testCredentials();
  const base: ServerOptions = {
    hostname: 'sink.test',
    log: new PassThrough(),
    handler: { handleMessage: (m) => void sinks.messages.push(m) },
  };
  const tls = { cert: c.cert, key: c.key };
  const start = async (options: ServerOptions) => {
    const server = new SMTPServer({ host: '127.0.0.1', port: 0 }, null, { ...base, ...options });
    servers.push(server);
    return (await server.listen()).port;
  };
  sinks.starttls = await start({ tls, requireTls: true, auth: { users: USERS, insecure: false, required: true } });
  sinks.implicit = await start({ tls, tlsImplicit: true, auth: { users: USERS } });
  sinks.lmtp = await start({ lmtp: true });
});
after(async () => {
  await Promise.all(servers.map((s) => s.close(100)));
});

const find = (subject: string) => sinks.messages.find((m) => m.data.toString().includes(`Subject: ${subject}`));

const PYTHON = `
import smtplib, ssl, sys
kind, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
msg = "From: a@example.test\\r\\nSubject: python %s\\r\\n\\r\\nhello\\r\\n" % kind
if kind == "starttls":
    s = smtplib.SMTP("127.0.0.1", port, timeout=10); s.starttls(context=ctx)
    try:
        s.login("alice", "wrong"); sys.exit("wrong password accepted")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.login("alice", "s3cret"); s.sendmail("a@example.test", ["b@example.test"], msg); s.quit()
elif kind == "login":
    for mech in ("PLAIN", "LOGIN"):
        s = smtplib.SMTP("127.0.0.1", port, timeout=10); s.starttls(context=ctx); s.ehlo()
        s.user, s.password = "alice", "s3cret"
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()), initial_response_ok=(mech == "PLAIN"))
        assert code == 235, (mech, code)
        s.quit()
elif kind == "ssl":
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=10); s.login("alice", "s3cret")
    s.sendmail("a@example.test", ["b@example.test"], msg); s.quit()
elif kind == "lmtp":
    s = smtplib.LMTP("127.0.0.1", port); s.sock.settimeout(10)
    refused = s.sendmail("a@example.test", ["b@example.test", "c@example.test"], msg); assert refused == {}, refused
    s.quit()
print("ok")
`;

describe("python3's smtplib", { skip: missing('python3', 'install Python 3 to run these') }, () => {
  it('logs in with CRAM-MD5 after STARTTLS (535 for a wrong password) and sends', async () => {
    const r = await run('python3', ['-c', PYTHON, 'starttls', String(sinks.starttls)]);
    assert.equal(r.code, 0, r.out);
    const m = find('python starttls');
    assert.ok(m?.tls);
    assert.equal(m.authUser, 'alice');
  });

  it('logs in with PLAIN (initial response) and LOGIN', async () => {
    const r = await run('python3', ['-c', PYTHON, 'login', String(sinks.starttls)]);
    assert.equal(r.code, 0, r.out);
  });

  it('sends over SMTP_SSL (implicit TLS)', async () => {
    const r = await run('python3', ['-c', PYTHON, 'ssl', String(sinks.implicit)]);
    assert.equal(r.code, 0, r.out);
    assert.ok(find('python ssl')?.tls);
  });

  it('delivers to two recipients over LMTP, one reply each', async () => {
    const r = await run('python3', ['-c', PYTHON, 'lmtp', String(sinks.lmtp)]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(find('python lmtp')?.rcptTos, ['b@example.test', 'c@example.test']);
  });
});

describe("curl's SMTP support", { skip: missing('curl', 'install curl to run these') }, () => {
  const mail = (subject: string) => `From: a@example.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`;

  it('sends with STARTTLS and AUTH', async () => {
    const r = await run(
      'curl',
      [
        '-sS',
        '-k',
        '--ssl-reqd',
        '--user',
        'alice:s3cret',
        '--mail-from',
        'a@example.test',
        '--mail-rcpt',
        'b@example.test',
        '-T',
        '-',
        `smtp://127.0.0.1:${sinks.starttls}`,
      ],
      mail('curl starttls'),
    );
    assert.equal(r.code, 0, r.out);
    assert.equal(find('curl starttls')?.authUser, 'alice');
  });

  it('is refused with a wrong password', async () => {
    const r = await run(
      'curl',
      [
        '-sS',
        '-k',
        '--ssl-reqd',
        '--user',
        'alice:nope',
        '--mail-from',
        'a@example.test',
        '--mail-rcpt',
        'b@example.test',
        '-T',
        '-',
        `smtp://127.0.0.1:${sinks.starttls}`,
      ],
      mail('curl refused'),
    );
    assert.notEqual(r.code, 0);
    assert.equal(find('curl refused'), undefined);
  });

  it('sends over smtps:// (implicit TLS)', async () => {
    const r = await run(
      'curl',
      [
        '-sS',
        '-k',
        '--user',
        'alice:s3cret',
        '--mail-from',
        'a@example.test',
        '--mail-rcpt',
        'b@example.test',
        '-T',
        '-',
        `smtps://127.0.0.1:${sinks.implicit}`,
      ],
      mail('curl smtps'),
    );
    assert.equal(r.code, 0, r.out);
    assert.ok(find('curl smtps')?.tls);
  });
});

describe('swaks', { skip: missing('swaks', 'install swaks (apt-get install swaks) to run these') }, () => {
  it('sends with STARTTLS and AUTH LOGIN', async () => {
    const r = await run('swaks', [
      '--server',
      `127.0.0.1:${sinks.starttls}`,
      '--tls',
      '--auth',
      'LOGIN',
      '--auth-user',
      'alice',
      '--auth-password',
      's3cret',
      '--from',
      'a@example.test',
      '--to',
      'b@example.test',
      '--header',
      'Subject: swaks starttls',
      '--timeout',
      '10',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.equal(find('swaks starttls')?.authUser, 'alice');
    assert.match(r.out, /<~ +235 /);
  });

  it('sends over implicit TLS with AUTH CRAM-MD5', async () => {
    const r = await run('swaks', [
      '--server',
      `127.0.0.1:${sinks.implicit}`,
      '--tls-on-connect',
      '--auth',
      'CRAM-MD5',
      '--auth-user',
      'alice',
      '--auth-password',
      's3cret',
      '--from',
      'a@example.test',
      '--to',
      'b@example.test',
      '--header',
      'Subject: swaks smtps',
      '--timeout',
      '10',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.ok(find('swaks smtps')?.tls);
  });
});
