/**
 * `--deliver 'PATTERN=COMMAND'`: smtpd's MailmanProxy role, generalised.
 * The message goes to COMMAND (`/bin/sh -c`) on stdin, once per matching
 * recipient, with the envelope in the environment as Postfix's local(8)
 * gives it to commands (SENDER, RECIPIENT, LOCAL, DOMAIN, CLIENT_ADDRESS,
 * CLIENT_HELO), plus QUEUE_ID (the message id in our stderr lines) and SIZE.
 *
 * The exit status is the recipient's reply, as with Postfix's pipe(8):
 * 0 accepted; 75 (EX_TEMPFAIL, sysexits.h) 451; anything else 550. A
 * command still running after the timeout is killed, with every process it
 * started (it runs in its own process group), and gets 451.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Message } from '../message.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import type { Refusal } from '../relay/outcome.js';
import { domainOf } from '../relay/policy.js';
import type { DeliverRoute } from '../relay/routes.js';

/** sysexits.h's EX_TEMPFAIL: try again later. */
export const EX_TEMPFAIL = 75;

/** How much of a command's stderr is kept for the log line. */
const STDERR_KEPT = 2048;

/** What one command did for one recipient: accepted, or refused with a reply. */
export type DeliverResult = { readonly accepted: true } | { readonly accepted: false; readonly refusal: Refusal };

/**
 * The environment for `recipient`'s command. An environment variable
 * cannot hold NUL (spawn() refuses it), and the envelope may: a NUL from the
 * peer becomes U+FFFD, as undecodable bytes do elsewhere.
 */
export function deliverEnvironment(message: Message, recipient: string): Record<string, string> {
  const at = recipient.lastIndexOf('@');
  const env: Record<string, string> = {
    // The null sender is empty, as Postfix sets it.
    SENDER: message.mailFrom === '<>' ? '' : message.mailFrom,
    RECIPIENT: recipient,
    LOCAL: at < 0 ? recipient : recipient.slice(0, at),
    DOMAIN: domainOf(recipient),
    CLIENT_ADDRESS: message.peer.address,
    CLIENT_HELO: message.helo,
    QUEUE_ID: message.id,
    SIZE: String(message.data.length),
  };
  for (const [name, value] of Object.entries(env))
    if (value.includes('\0')) env[name] = value.replaceAll('\0', '\ufffd');
  return env;
}

/** The reply for an exit status (null status: killed by a signal). */
function refusalFor(recipient: string, route: DeliverRoute, status: number | null, timedOut: boolean): Refusal {
  if (timedOut) return { address: recipient, code: 451, message: `delivery command timed out: ${route.pattern}` };
  if (status === EX_TEMPFAIL)
    return { address: recipient, code: 451, message: `delivery command deferred (exit ${status}): ${route.pattern}` };
  const how = status === null ? 'was killed' : `failed (exit ${status})`;
  return { address: recipient, code: 550, message: `delivery command ${how}: ${route.pattern}` };
}

/**
 * Runs `route`'s command for one recipient; never rejects. Writes one line
 * to `log` when the command fails or writes to stderr.
 */
export function deliverToCommand(
  route: DeliverRoute,
  message: Message,
  recipient: string,
  timeoutMs: number,
  log: NodeJS.WritableStream,
): Promise<DeliverResult> {
  return new Promise((resolve) => {
    let child: ChildProcessByStdio<Writable, null, Readable>;
    try {
      child = spawn('/bin/sh', ['-c', route.command], {
        env: { ...process.env, ...deliverEnvironment(message, recipient) },
        stdio: ['pipe', 'ignore', 'pipe'],
        // Its own process group, so a timeout kills whatever it started too.
        detached: true,
      });
    } catch (err) {
      // spawn() throws for what it cannot pass on (EAGAIN, E2BIG...): a temporary failure, not a crash.
      log.write(
        `smtpd-ts: message ${message.id}: --deliver ${terminalSafe(recipient)} to '${route.command}' could not start: ${(err as Error).message}\n`,
      );
      resolve({ accepted: false, refusal: refusalFor(recipient, route, EX_TEMPFAIL, false) });
      return;
    }
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < STDERR_KEPT) stderr += s.slice(0, STDERR_KEPT - stderr.length);
    });
    // A command that does not read its stdin closes the pipe early: EPIPE is not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(message.data);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    let settled = false;
    const finish = (status: number | null, spawnError?: Error) => {
      // 'error' (could not spawn) may come with or without an 'exit'.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A background process of the command may hold stderr open: stop reading.
      child.stderr.destroy();
      const accepted = status === 0 && !timedOut && !spawnError;
      const said = stderr.trim() === '' ? '' : `: ${terminalSafe(JSON.stringify(stderr.trim()))}`;
      const outcome = spawnError
        ? `could not start: ${spawnError.message}`
        : timedOut
          ? `timed out after ${timeoutMs} ms, killed`
          : `exited ${status ?? 'on a signal'}`;
      if (!accepted || said)
        log.write(
          `smtpd-ts: message ${message.id}: --deliver ${terminalSafe(recipient)} to '${route.command}' ${outcome}${said}\n`,
        );
      resolve(
        accepted
          ? { accepted: true }
          : { accepted: false, refusal: refusalFor(recipient, route, spawnError ? EX_TEMPFAIL : status, timedOut) },
      );
    };
    child.once('error', (err) => finish(null, err));
    child.once('exit', (code) => finish(code));
  });
}
