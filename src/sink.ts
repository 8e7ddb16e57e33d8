/**
 * The sink for test suites: start it from code, send mail to it, await what
 * arrived, assert. No HTTP API to poll and no sleeps:
 *
 * ```ts
 * const sink = await startSink();            // 127.0.0.1, a free port
 * await sendWelcomeMail({ port: sink.port });
 * const [mail] = await sink.waitForMessages(1);
 * assert.equal(mail.parsed?.subject, 'Welcome');
 * await sink.close();
 * ```
 */
import type { Message } from './message.js';
import type { Finding } from './lint/findings.js';
import { lintMessage } from './lint/lint.js';
import type { ParsedMessage } from './printers/parse-message.js';
import { SMTPServer, type Verdict } from './server/server.js';
import { SinkTimeoutError } from './errors.js';

/** One message the sink accepted: the envelope fields of Message, with the data as `raw`. */
export interface SinkMessage extends Pick<
  Message,
  'id' | 'receivedAt' | 'peer' | 'helo' | 'mailFrom' | 'mailOptions' | 'rcptOptions'
> {
  /** The envelope recipients, in order (Message's `rcptTos`). */
  readonly rcptTo: readonly string[];
  /** The message exactly as received (dot-unstuffed), CRLF line endings (Message's `data`). */
  readonly raw: Buffer;
  /** Size of `raw` in bytes. */
  readonly size: number;
  /**
   * The message parsed with mailparser (subject, from, to, text, html,
   * attachments, headers...), or null with `parse: false` or when the
   * message cannot be parsed (then `parseError` says why).
   */
  readonly parsed: ParsedMessage | null;
  readonly parseError?: string;
  /** The protocol lint's findings (src/lint/): what the sender did wrong; empty for a clean message. */
  readonly lint: readonly Finding[];
}

/** Options of {@link startSink}. */
export interface StartSinkOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; default 0, a free port (read it from `sink.port`). */
  port?: number;
  /** Largest accepted message in bytes, 0 for none. Default 33554432. */
  dataSizeLimit?: number;
  /** Advertise and accept SMTPUTF8. Default false. */
  smtputf8?: boolean;
  /** Name in the greeting and the EHLO reply. */
  hostname?: string;
  /** Parse each message with mailparser before accepting it. Default true. */
  parse?: boolean;
  /**
   * Decides each message's reply: return nothing to accept it (250), or a
   * reply such as `'550 No such user'` to refuse it (it is then not recorded).
   */
  onMessage?: (message: SinkMessage) => Verdict | Promise<Verdict>;
}

/** Options of the wait methods. */
export interface WaitOptions {
  /** Milliseconds to wait before rejecting with SinkTimeoutError. Default 5000. */
  timeout?: number;
}

const DEFAULT_WAIT_MS = 5000;

function describeMessage(m: SinkMessage, index: number): string {
  const subject = m.parsed?.subject;
  return `  #${index + 1} from ${m.mailFrom} to ${m.rcptTo.join(', ')}${subject != null ? ` subject ${JSON.stringify(subject)}` : ''}`;
}

/** A running sink. Create it with {@link startSink}. */
export class Sink {
  private readonly received: SinkMessage[] = [];
  private readonly waiters = new Set<() => void>();

  /** @internal use {@link startSink} */
  constructor(
    /** The underlying server, for advanced use. */
    readonly server: SMTPServer,
    /** The host listened on. */
    readonly host: string,
    /** The port listened on (the real one when 0 was asked). */
    readonly port: number,
  ) {}

  /** Every message accepted so far, in arrival order. */
  get messages(): readonly SinkMessage[] {
    return this.received;
  }

  /** Forgets the messages received so far (between tests). */
  clear(): void {
    this.received.length = 0;
  }

  /**
   * Resolves with the first `count` messages once that many have arrived
   * (at once if they already have). Rejects with SinkTimeoutError, listing
   * what did arrive, when they do not arrive in time.
   */
  waitForMessages(count: number, options: WaitOptions = {}): Promise<SinkMessage[]> {
    return this.until(
      () => (this.received.length >= count ? this.received.slice(0, count) : undefined),
      `${count} message${count === 1 ? '' : 's'}`,
      options,
    );
  }

  /** Resolves with the first message (received or future) for which `predicate` is true. */
  waitFor(predicate: (message: SinkMessage) => boolean, options: WaitOptions = {}): Promise<SinkMessage> {
    return this.until(() => this.received.find(predicate), 'a message matching the predicate', options);
  }

  /** Stops the server: transactions in flight get a short grace period. */
  async close(): Promise<void> {
    await this.server.close();
  }

  /** @internal records an accepted message and wakes the waiters */
  record(message: SinkMessage): void {
    this.received.push(message);
    for (const wake of [...this.waiters]) wake();
  }

  private until<T>(check: () => T | undefined, what: string, options: WaitOptions): Promise<T> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    return new Promise<T>((resolve, reject) => {
      const wake = () => {
        const found = check();
        if (found === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const list = this.received.map(describeMessage).join('\n');
        const arrived = this.received.length === 0 ? 'none arrived' : `${this.received.length} arrived:\n${list}`;
        reject(
          new SinkTimeoutError(`timed out after ${timeout} ms waiting for ${what}; ${arrived}`, [...this.received]),
        );
      }, timeout);
      this.waiters.add(wake);
      wake();
    });
  }
}

async function toSinkMessage(message: Message, parse: boolean): Promise<SinkMessage> {
  const base = {
    id: message.id,
    receivedAt: message.receivedAt,
    peer: message.peer,
    helo: message.helo,
    mailFrom: message.mailFrom,
    rcptTo: message.rcptTos,
    mailOptions: message.mailOptions,
    rcptOptions: message.rcptOptions,
    raw: message.data,
    size: message.data.length,
    lint: lintMessage(message),
  };
  if (!parse) return { ...base, parsed: null };
  // Loaded on first use so that importing the library stays cheap.
  const { parseMessage } = await import('./printers/parse-message.js');
  try {
    return { ...base, parsed: await parseMessage(message) };
  } catch (err) {
    return { ...base, parsed: null, parseError: (err as Error).message };
  }
}

/** Starts a sink on 127.0.0.1 and a free port; resolves once it accepts connections. */
export async function startSink(options: StartSinkOptions = {}): Promise<Sink> {
  const host = options.host ?? '127.0.0.1';
  const parse = options.parse ?? true;
  // What the handler built for each message, recorded once the server has
  // accepted it: the server alone turns a verdict into the reply sent
  // (a string without a valid code is a 451, not an acceptance).
  const built = new WeakMap<Message, SinkMessage>();
  const server = new SMTPServer({ host, port: options.port ?? 0 }, null, {
    dataSizeLimit: options.dataSizeLimit,
    smtputf8: options.smtputf8,
    hostname: options.hostname,
    handler: {
      async handleMessage(message) {
        const received = await toSinkMessage(message, parse);
        built.set(message, received);
        return options.onMessage?.(received);
      },
    },
  });
  const address = await server.listen();
  const sink = new Sink(server, host, address.port);
  server.on('message', (message: Message) => {
    const received = built.get(message);
    if (received) sink.record(received);
  });
  return sink;
}
