/**
 * What the sink says when it starts: the listening line names what is
 * running (SMTP or LMTP, STARTTLS or implicit TLS, where it relays), and a
 * relaying sink checks once that its upstream answers, so that a typo in
 * the upstream's address shows at start, not as a 451 on the first message.
 */
import net from 'node:net';
import type { Config } from './config.js';
import { formatHostPort, type HostPort } from './flag-values.js';
import { isLoopbackAddress } from '../loopback.js';
import { VERSION } from '../version.js';
import { DEFAULT_HTTP } from './inbox-settings.js';

/** `SMTP, STARTTLS; relaying to localhost:25`: the mode, in the words of the flags. */
export function describeMode(config: Config, extra: readonly string[] = []): string {
  const parts = [config.smtp.lmtp ? 'LMTP' : 'SMTP'];
  if (config.tls) parts.push(config.smtp.tlsImplicit ? 'implicit TLS' : 'STARTTLS');
  if (config.smtp.proxyProtocol) parts.push('PROXY protocol');
  const where: string[] = [];
  const upstream = config.relay.upstream;
  if (upstream) where.push(`relaying to ${formatHostPort(upstream.host, upstream.port)}`);
  const routes = config.relay.routes.length;
  if (routes > 0) where.push(`delivering to ${routes} command${routes === 1 ? '' : 's'}`);
  return [parts.join(', '), ...where, ...extra].join('; ');
}

/**
 * Connects to the upstream once and waits for its greeting; resolves with
 * null when it greets with 220, or with what went wrong. Never rejects.
 */
export function probeUpstream(upstream: HostPort, timeoutMs = 3000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: upstream.host, port: upstream.port });
    let text = '';
    const done = (outcome: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(`no greeting within ${timeoutMs / 1000} s`), timeoutMs);
    // A probe never keeps the process alive: a sink that stops meanwhile exits at once.
    timer.unref();
    socket.unref();
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const lf = text.indexOf('\n');
      if (lf < 0) return text.length > 4096 ? done('no SMTP greeting') : undefined;
      const line = text.slice(0, lf).trimEnd();
      if (!/^220[ -]/.test(line)) return done(`it greets with '${line.slice(0, 80)}', not 220`);
      // A polite goodbye, then nothing more of its time.
      socket.end('QUIT\r\n');
      done(null);
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message),
    );
    socket.on('close', () => done('it closed the connection without a greeting'));
  });
}

/** Why binding failed, in words. */
export function listenFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message;
}

/** The line that says where the inbox is served (before the listening line, which says the sink is ready). */
export function announceInbox(url: string, stderr: NodeJS.WritableStream): void {
  stderr.write(`smtpd-ts: inbox over HTTP on ${url}/ (Mailpit's API: ${url}/api/v1/)\n`);
}

/** The listening line, and the warnings that go with it. `workers`: how many share the port (`--workers`). */
export function announce(config: Config, address: net.AddressInfo, stderr: NodeJS.WritableStream, workers = 1): void {
  if (!isLoopbackAddress(address.address)) {
    stderr.write(
      `smtpd-ts: warning: listening on ${config.local.host}: anyone who can reach this address can send to it\n`,
    );
  }
  stderr.write(
    `smtpd-ts ${VERSION}: ${config.className} listening on ${formatHostPort(address.address, address.port)} (${describeMode(config, workers > 1 ? [`${workers} workers`] : [])})\n`,
  );
  // For a person at a terminal only: scripts read these lines, and know their flags.
  if (config.inbox === null && (stderr as { isTTY?: boolean }).isTTY)
    stderr.write(`smtpd-ts: add --http to read the mail in a web inbox (and Mailpit's API) on ${DEFAULT_HTTP}\n`);
  const upstream = config.relay.upstream;
  if (upstream) {
    // Not awaited: the sink is up either way; the warning is for the person reading stderr.
    void probeUpstream(upstream).then((problem) => {
      if (problem === null) return;
      stderr.write(
        `smtpd-ts: warning: the upstream ${formatHostPort(upstream.host, upstream.port)} does not answer (${problem}): ` +
          'messages will get 451 until it does\n',
      );
    });
  }
}
