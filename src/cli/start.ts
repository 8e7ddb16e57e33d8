/**
 * The composition root: turns a Config into a running sink. Opens the
 * outputs, reads the TLS and AUTH files, builds the handlers (outputs,
 * relay, rules, expectations, transcripts), binds, drops privileges and
 * writes the run files last; a failure on the way is a StartError with
 * everything opened closed again.
 */
import { randomInt } from 'node:crypto';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import type { Config } from './config.js';
import { ExpectationTracker } from '../expect/tracker.js';
import { credentialOptions, readUsersFile } from './smtp-options.js';
import { OutputHandler } from '../handlers/outputs.js';
import { StrictHandler } from '../handlers/strict.js';
import { openOutputs, type OpenDestination, type OpenedOutputs } from '../outputs/open-outputs.js';
import { toJsonRecord, type JsonRecord } from '../printers/json.js';
import { relayServerOptions } from './relay-options.js';
import { RuleEngine } from '../rules/engine.js';
import { usesRandom } from './rule-settings.js';
import { formatSessionEnd, printSessionJson } from '../transcript/print.js';
import type { FinishedSession } from '../transcript/transcript.js';
import { relayRefusal } from './relay-settings.js';
import { removeRunFiles, writeRunFiles } from './run-control.js';
import { SMTPServer, type Admission } from '../server/server.js';
import { OutputError, SendError, StartError, UsageError } from '../errors.js';
import { dropPrivileges, dropTarget, userIds, writableBy } from './privileges.js';
import { reportRefusals } from './refusals.js';
import { announce, announceInbox, listenFailure } from './announce.js';
import { startServices, type Services } from './services.js';
import { PARSE_OFFLOAD_BYTES, type StoredMessage } from '../inbox/message-store.js';
import type { Inbox } from '../inbox/inbox.js';
import type { Envelope } from '../http/send.js';
import { openInbox } from '../inbox/open-inbox.js';
import { MailboxRouter } from '../mailboxes.js';
import { MailboxHandler } from '../handlers/mailbox.js';
import { InboxHandler, type InboxIntake } from '../handlers/inbox.js';
import type { InboxHttpServer } from '../http/http-server.js';
import { DatabaseHandler } from '../handlers/database.js';
import { isAcceptance } from '../channel/reply.js';

/** Streams main() writes to; tests pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A started sink: its server, outputs and address. */
export interface Started {
  readonly server: SMTPServer;
  readonly outputs: OpenedOutputs;
  readonly address: net.AddressInfo;
  /** Follows `--expect` and `--expect-count`; null when there are none. */
  readonly expectations: ExpectationTracker | null;
  /** `--transcript` and `--json-refusals` writes in flight, to wait for before the outputs close. */
  readonly recordWrites: Set<Promise<void>>;
  /** The handler that formats and writes every message (its render worker is stopped at exit). */
  readonly printer: OutputHandler;
  /**
   * `--http`: where the messages are kept (closed after the servers); null
   * without it, and in a worker without `--store` (the primary keeps them).
   */
  readonly backend: Inbox | null;
  /** `--http`: the inbox's HTTP server (none in a worker: the primary serves it); null without it. */
  readonly inbox: { readonly server: InboxHttpServer; readonly url: string } | null;
  /** `--webhook`, `--pop3`, `--metrics HOST:PORT`: stopped with the sink. */
  readonly services: Services;
  /**
   * `--http`: takes a message as the HTTP API's send does (the handler, the
   * outputs, the inbox) and resolves with its inbox ID; rejects with
   * SendError. Null without `--http`.
   */
  readonly submit: ((envelope: Envelope, data: Buffer, peer: string, authenticated: boolean) => Promise<string>) | null;
}

/**
 * What a `--workers` worker does differently from a sink of its own
 * (src/cli/workers/worker.ts): the primary owns the outputs, the counts
 * and the run files, and says that the sink listens.
 */
export interface WorkerRole {
  /** Each output's destination is the primary's. */
  readonly open: OpenDestination;
  /** Expectations are followed in the primary: each written message's record goes there. */
  readonly observe: (record: JsonRecord) => void;
  /** Connections are counted across workers, in the primary. */
  readonly admission: Admission;
  /** `--http` without `--store`: the inbox is the primary's; each accepted message goes there before its 250. */
  readonly inbox: InboxIntake;
}

/** Writes a finished session to every output: its JSON line, or the rest of its dialogue for people. */
function writeSession(
  outputs: OpenedOutputs,
  session: FinishedSession,
  log: NodeJS.WritableStream,
  pending: Set<Promise<void>>,
): void {
  for (const { format, style, destination } of outputs.outputs) {
    const text = format.human
      ? formatSessionEnd(session.record, session.unprinted, style)
      : printSessionJson(session.record);
    const write: Promise<void> = destination
      .write(text)
      .catch((err: unknown) => {
        log.write(
          `smtpd-ts: cannot write session ${session.record.id} to ${destination.name}: ${(err as Error).message}\n`,
        );
      })
      .finally(() => pending.delete(write));
    pending.add(write);
  }
}

/** Opens the outputs, binds, drops privileges; rejects with a worded error. */
export async function start(config: Config, io: CliIO, role?: WorkerRole): Promise<Started> {
  // The one place the host name is decided: the greeting, the EHLO we send
  // upstream, a generated certificate and Maildir file names all use it.
  const hostname = os.hostname();
  const outputs = await openOutputs(config, io.stdout, process.env, hostname, role?.open);
  // A start that fails leaves nothing behind: what it opened is closed again, newest first (the Maildir folders
  // it created removed), and the error is a worded one.
  const opened: (() => Promise<unknown>)[] = [];
  const fail = async (err: unknown): Promise<never> => {
    for (const close of opened.reverse()) await close().catch(() => {});
    const worded = err instanceof UsageError || err instanceof StartError || err instanceof OutputError;
    throw worded ? err : new StartError((err as Error).message);
  };
  opened.push(async () => {
    await outputs.close();
    await outputs.maildir?.removeCreated();
  });
  // TLS certificate and --auth-file, read (or generated) before binding. A
  // file a flag names that cannot be read is a UsageError (exit 2).
  const credentials = await credentialOptions(config, io.stderr, hostname).catch(fail);
  const authFile = config.inbox?.authFile ?? null;
  // Read with the other files flags name, before anything listens (a bad one is exit 2).
  const users = authFile === null ? null : await readUsersFile(authFile, '--http-auth-file').catch(fail);
  const expecting = config.expectCount !== null || config.expectations.length > 0;
  const expectations =
    expecting && role === undefined ? new ExpectationTracker(config.expectCount, config.expectations) : null;
  const observe = role ? role.observe : expectations ? (r: JsonRecord) => expectations.observe(r) : null;
  // Mailboxes: by the rules, else by the AUTH user (so only where a rule is given or AUTH is on).
  const mailboxRules = config.mailboxes.rules;
  const router =
    mailboxRules.length > 0 || (credentials.auth ?? null) !== null ? new MailboxRouter(mailboxRules) : null;
  // With --http, the inbox: opened before the server listens (with --store, the database; with --save-dir, what
  // the Maildir holds read back), so that every message answered 250 is in it before its 250.
  // A worker's inbox is the primary's (with --store, the database each opens for itself); it serves no HTTP.
  const settings = config.inbox;
  const remote = settings && role && !settings.kept.database ? role.inbox : null;
  const inbox =
    settings && !remote
      ? await openInbox({
          ...settings.kept,
          mailboxLimits: router?.bounded() ?? new Map(),
          maildir: outputs.maildir?.dir ?? null,
          log: io.stderr,
        }).catch(fail)
      : null;
  if (inbox) opened.push(() => inbox.close());
  const rules = config.rules;
  const seed = rules.seed ?? randomInt(0, 2 ** 32);
  if (usesRandom(rules) && rules.seed === null)
    io.stderr.write(`smtpd-ts: random rules use seed ${seed} (replay with --seed ${seed})\n`);
  const engine = rules.rules.length > 0 ? new RuleEngine(rules.rules, seed) : null;
  const recordWrites = new Set<Promise<void>>();
  const printer = new OutputHandler({
    ...outputs,
    includeRaw: config.jsonRaw,
    log: io.stderr,
    showLint: config.lint,
    showDialogue: rules.transcript,
    // Expectations and the inbox read the parsed fields (and lint), whatever the output format.
    parseAlways: expecting,
    lintAlways: expecting,
    offload: true,
    ...(settings ? { briefFrom: PARSE_OFFLOAD_BYTES } : {}),
    ...((expecting && observe) || settings
      ? {
          onWritten: (message, context) => {
            // The inbox keeps the printers' parse when there is one, a large message's in brief (briefFrom);
            // others it parses when the API asks (message-store.ts).
            intake?.noteWritten(message, context);
            if (expecting && observe) observe(toJsonRecord(message, { ...context, includeRaw: false }));
          },
        }
      : {}),
  });
  // PureProxy, --relay, --deliver: a RelayHandler delivers, then prints with `printer`
  // (src/handlers/relay.ts); --strict refuses before either runs.
  const { upstream, ...relay } = await relayServerOptions(config.relay, io.stderr, printer, hostname).catch(fail);
  // --store: the message's row is committed before its outputs are written.
  const reserving = inbox?.reserve && inbox.withdraw ? (inbox as Required<Pick<Inbox, 'reserve' | 'withdraw'>>) : null;
  const stored = reserving ? new DatabaseHandler(relay.handler, reserving) : relay.handler;
  const checked = config.strict ? new StrictHandler(stored, (m) => printer.lint(m)) : stored;
  // Every message answered 250 is in the inbox before its 250; nothing answered otherwise is.
  const intake = inbox || remote ? new InboxHandler(checked, (inbox ?? remote)!, settings?.tags) : null;
  const handler = router ? new MailboxHandler(intake ?? checked, router) : (intake ?? checked);
  const server = new SMTPServer(config.local, config.remote, {
    hostname,
    ...config.smtp,
    ...credentials,
    ...relay,
    handler,
    ...(config.debug ? { trace: io.stderr } : {}),
    log: io.stderr,
    ...(engine ? { replyRule: engine.hook } : {}),
    connectionRate: rules.connectionRate,
    ...(role ? { admission: role.admission, exclusive: false } : {}),
    // The inbox shows the dialogue that carried each message.
    ...(settings ? { dialogue: true } : {}),
    ...(rules.transcript
      ? { transcript: (session: FinishedSession) => writeSession(outputs, session, io.stderr, recordWrites) }
      : {}),
  });
  reportRefusals(server, outputs, io.stderr, config.jsonRefusals, recordWrites);
  const address = await server
    .listen()
    .catch((err: unknown) =>
      fail(new StartError(`cannot listen on ${config.local.host}:${config.local.port}: ${listenFailure(err)}`)),
    );
  opened.push(() => server.close(0));
  const smtp = server;
  // POST /api/v1/send: the message goes where an SMTP one goes (the handler, the outputs, the inbox).
  const submit = intake
    ? async (envelope: Envelope, data: Buffer, peer: string, authenticated: boolean) => {
        const { message, verdict } = await smtp.submit(envelope, data, { address: peer, port: 0 }, authenticated);
        if (verdict !== undefined && !isAcceptance(verdict)) throw new SendError(verdict.lines.join(' '));
        const id = intake.added(message.id);
        if (id === undefined) throw new SendError('the message was accepted but is not in the inbox');
        return id;
      }
    : null;
  // --metrics counts this process's SMTP server and reads the inbox at each scrape.
  const metrics =
    config.metrics && role === undefined
      ? await import('../http/metrics.js').then(({ SinkMetrics }) => SinkMetrics.create([server], inbox))
      : null;
  let served: Started['inbox'] = null;
  if (inbox && role === undefined) {
    const [{ serveInbox }, { releaseUpstream }] = await Promise.all([
      import('./serve-inbox.js'),
      import('../http/send.js'),
    ]);
    const http = await serveInbox({
      config,
      inbox,
      hostname,
      users,
      log: io.stderr,
      ...(submit ? { submit } : {}),
      ...(metrics && config.metrics === 'inbox' ? { metrics } : {}),
      ...(credentials.tls ? { smtpTls: credentials.tls } : {}),
      // Mailpit's release: through the relay's upstream (--relay, -c PureProxy), when there is one. Released
      // mail passes what relayed SMTP mail passes: AUTH, size, count, the relay policy.
      ...(upstream
        ? {
            releaseTo: `${upstream.host}:${upstream.port}`,
            release: (entry: StoredMessage, to: readonly string[], peer: string, authenticated: boolean) =>
              releaseUpstream(
                upstream,
                entry.message,
                to,
                smtp.admit({ to }, entry.message.data.length, { address: peer, port: 0 }, authenticated),
              ),
          }
        : {}),
    }).catch(fail);
    opened.push(() => http.close());
    served = { server: http, url: http.url };
  }
  // Each of these is closed with the rest when the start fails; run.ts's stop closes them after it.
  const services = await startServices({
    config,
    inbox: role === undefined ? inbox : null,
    metrics,
    served,
    hostname,
    log: io.stderr,
    smtpTls: credentials.tls ?? null,
  }).catch(fail);
  opened.push(() => services.close());
  const refusal = relayRefusal(config.relay, config.local.host, address.address);
  if (refusal !== null) await fail(new StartError(refusal));
  const runAs = dropTarget(config, address.port);
  try {
    // A Maildir the sink created as root is given to the user it becomes, so that user can deliver to it.
    const ids = runAs === null ? undefined : userIds(runAs);
    const hint =
      runAs === null ? '' : ` as ${runAs}; give ${runAs} write access, or use -n to stay root or --user NAME`;
    const maildir = outputs.maildir;
    if (ids && maildir) {
      await maildir.giveTo(ids);
      // Judged while still root, so that what the sink created can still be removed.
      const folders = ['new', 'tmp'].map((f) => path.join(maildir.dir, f));
      if (!(await writableBy(ids, folders[0]!)) || !(await writableBy(ids, folders[1]!)))
        throw new OutputError(`cannot write to Maildir ${maildir.dir}: permission denied${hint}`);
    }
    dropPrivileges(config, address.port);
    await outputs.checkWritable().catch((err: Error) => {
      throw new OutputError(`${err.message}${hint}`);
    });
    if (role === undefined) await writeRunFiles(config, address, served?.url);
  } catch (err) {
    if (role === undefined) opened.push(() => removeRunFiles(config));
    await fail(err);
  }
  // Before the listening line, which says the sink is ready (the HTTP API already is).
  if (served) announceInbox(served.url, io.stderr);
  for (const line of services.lines) io.stderr.write(`smtpd-ts: ${line}\n`);
  if (role === undefined) announce(config, address, io.stderr);
  return {
    server,
    outputs,
    address,
    expectations,
    recordWrites,
    printer,
    backend: inbox,
    inbox: served,
    services,
    submit,
  };
}
