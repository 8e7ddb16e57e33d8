/**
 * Refusals made visible: each command the sink refused (a 552 over `-s`, a
 * 550 for bare LFs, 530 or 535 for TLS or AUTH), each connection over a
 * limit and each failed TLS handshake gets one line on stderr, and, with
 * `--json-refusals`, a `refusal` line in every JSON output. The run's
 * summary counts them (run-control.ts).
 */
import type { RefusalEvent } from '../message.js';
import type { OpenedOutputs } from '../outputs/open-outputs.js';
import { describeIoError } from '../outputs/output.js';
import { jsonLine, refusalRecord } from '../printers/json.js';
import { terminalSafe } from '../printers/terminal-safe.js';
import type { SMTPServer } from '../server/server.js';
import { formatHostPort } from './flag-values.js';

/** Refusals shown for one connection, on stderr and in JSON; the rest are only counted. */
const SHOWN_PER_CONNECTION = 20;

/** A refusal in a few words: `552 5.3.4 Message too big for system`, or the TLS error. */
export function describeRefusal(r: RefusalEvent): string {
  if (!r.reply) return `handshake failed: ${terminalSafe(r.reason ?? 'unknown error')}`;
  const enhanced = r.reply.enhanced ? `${r.reply.enhanced} ` : '';
  return `${r.reply.code} ${enhanced}${terminalSafe(r.reply.lines.join(' '))}`;
}

/** The stderr line for a refusal: who, what, the reply. */
function refusalLine(r: RefusalEvent): string {
  const peer = formatHostPort(r.peer.address, r.peer.port);
  if (!r.reply) return `smtpd-ts: ${r.command} ${describeRefusal(r).replace('handshake', `handshake with ${peer}`)}\n`;
  return `smtpd-ts: refused ${peer} ${r.command}: ${describeRefusal(r)}\n`;
}

/** Reports the server's refusals on `log` and, when `json` is set, in the JSON outputs; `pending` holds the writes. */
export function reportRefusals(
  server: SMTPServer,
  outputs: OpenedOutputs,
  log: NodeJS.WritableStream,
  json: boolean,
  pending: Set<Promise<void>>,
): void {
  // Per connection: a client that pipelines thousands of bad lines gets a few lines, not one each.
  const shown = new Map<string, number>();
  server.on('refusal', (r: RefusalEvent) => {
    const key = `${r.peer.address}:${r.peer.port}`;
    const n = (shown.get(key) ?? 0) + 1;
    if (shown.size >= 10_000 && !shown.has(key)) shown.clear();
    shown.set(key, n);
    if (n > SHOWN_PER_CONNECTION) return;
    log.write(refusalLine(r));
    if (n === SHOWN_PER_CONNECTION)
      log.write(`smtpd-ts: further refusals on the connection from ${key} are not shown (--timeout counts them)\n`);
    if (!json) return;
    const line = jsonLine(refusalRecord(r, new Date()));
    for (const { format, destination } of outputs.outputs) {
      if (format.human) continue;
      const write: Promise<void> = destination
        .write(line)
        .catch((err: unknown) => {
          log.write(`smtpd-ts: cannot write a refusal to ${destination.name}: ${describeIoError(err)}\n`);
        })
        .finally(() => pending.delete(write));
      pending.add(write);
    }
  });
}
