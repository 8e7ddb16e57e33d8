/**
 * smtpd's PureProxy (and MailmanProxy) as a handler. Each recipient goes to
 * the first `--deliver` route that matches it, else upstream, else nowhere
 * (printed only). Delivery comes first, printing second, so the printed
 * record (JSON's `relay`) says what became of every recipient; the reply
 * comes last and waits for both: a 250 means the upstream (or the command)
 * took the message and it was written. A message whose delivery failed is
 * still printed, then answered 451 or 5xx (see outcome.ts).
 */
import { isAscii } from 'node:buffer';
import os from 'node:os';
import { printable, type Reply } from '../channel/reply.js';
import type { Message } from '../message.js';
import type { PrintContext } from '../printers/printer.js';
import { verdictFor, type RelayRecord, type Refusal } from '../relay/outcome.js';
import { recipientPolicy } from '../relay/policy.js';
import { routeFor, type DeliverRoute } from '../relay/routes.js';
import { DEFAULT_DELIVER_TIMEOUT_S } from '../relay/routes.js';
import { DEFAULT_RELAY_TIMEOUT_S } from '../relay/upstream.js';
import { sendUpstream, type UpstreamOptions } from '../relay/upstream.js';
import { xPeerParts } from '../relay/x-peer.js';
import { SMTPServer, type Handler, type ServerOptions } from '../server/server.js';
import { deliverToCommand } from './deliver.js';

export interface RelayHandlerOptions {
  /** Where recipients that match no route go; null: they are printed only. */
  readonly upstream: UpstreamOptions | null;
  readonly routes?: readonly DeliverRoute[];
  /** How long a `--deliver` command may run, in milliseconds. */
  readonly deliverTimeoutMs?: number;
  /** Prints the message (the CLI's OutputHandler); a rejection makes the reply 451. */
  readonly print?: (message: Message, context: PrintContext) => Promise<void>;
  /** Where refusals and failed commands are reported (default process.stderr). */
  readonly log?: NodeJS.WritableStream;
}

export class RelayHandler implements Handler {
  private readonly log: NodeJS.WritableStream;

  constructor(private readonly options: RelayHandlerOptions) {
    this.log = options.log ?? process.stderr;
  }

  /** `extra` goes to `print` with the relay's outcome (`--strict`'s findings: src/handlers/strict.ts). */
  async handleMessage(message: Message, extra: PrintContext = {}): Promise<Reply | undefined> {
    const { upstream, routes = [], deliverTimeoutMs = DEFAULT_DELIVER_TIMEOUT_S * 1000 } = this.options;
    const accepted: string[] = [];
    const refused: Refusal[] = [];
    const relayed: string[] = [];
    let printedOnly = 0;
    for (const recipient of message.rcptTos) {
      const route = routeFor(recipient, routes);
      if (route) {
        const result = await deliverToCommand(route, message, recipient, deliverTimeoutMs, this.log);
        if (result.accepted) accepted.push(recipient);
        else refused.push(result.refusal);
      } else if (upstream) relayed.push(recipient);
      else printedOnly++;
    }
    const name = upstream ? `${upstream.host}:${upstream.port}` : null;
    if (upstream && relayed.length > 0) {
      const envelope = {
        mailFrom: message.mailFrom,
        rcptTos: relayed,
        eightBit: message.mailOptions.includes('BODY=8BITMIME') || !isAscii(message.data),
      };
      const result = await sendUpstream(upstream, envelope, xPeerParts(message.data, message.peer.address));
      accepted.push(...result.accepted);
      refused.push(...result.refused);
      // smtpd printed these to its debug stream only ("we got some refusals").
      for (const r of result.refused)
        this.report(message, `upstream ${name} refused ${r.address}: ${r.code} ${r.message}`);
    }
    const record: RelayRecord = { upstream: name, accepted, refused };
    const verdict = verdictFor(record, printedOnly);
    if (verdict && verdict.code < 500 && accepted.length > 0) {
      this.report(
        message,
        `answered ${verdict.code} although ${accepted.join(', ')} took it: the client's retry may deliver it to them twice`,
      );
    }
    try {
      await this.options.print?.(message, { ...extra, relay: record, ...(verdict ? { refused: verdict } : {}) });
    } catch (err) {
      if (accepted.length > 0)
        this.report(
          message,
          `${accepted.join(', ')} took it, but it could not be written: answered 451, so the client's retry may deliver it twice`,
        );
      throw err;
    }
    return verdict;
  }

  private report(message: Message, text: string): void {
    this.log.write(`smtpd-ts: message ${message.id}: ${printable(text)}\n`);
  }
}

/**
 * Python smtpd's `PureProxy`: relays every message to `remoteaddr` with
 * `X-Peer` added, and answers what the upstream answered. Only loopback
 * peers may relay through it (see src/relay/policy.ts).
 */
export class PureProxy extends SMTPServer {
  constructor(
    localaddr: { host: string; port: number },
    remoteaddr: { host: string; port: number },
    options: ServerOptions = {},
  ) {
    const upstream: UpstreamOptions = {
      ...remoteaddr,
      requireTLS: false,
      timeoutMs: DEFAULT_RELAY_TIMEOUT_S * 1000,
      name: options.hostname ?? os.hostname(),
    };
    super(localaddr, remoteaddr, {
      handler: new RelayHandler({ upstream, ...(options.log ? { log: options.log } : {}) }),
      acceptRecipient: recipientPolicy({ relaying: true, allow: [], domains: [], routes: [] }),
      ...options,
    });
  }
}
