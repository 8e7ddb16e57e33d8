/**
 * The flag definitions: every option commander knows, its help text and
 * its default as shown. `toConfig` (config.ts) turns what it parses into a
 * typed Config.
 */
import { Command } from 'commander';
import { SMTP_DEFAULTS } from '../channel/config.js';
import { DEFAULT_LOCAL, DEFAULT_REMOTE, SERVER_CLASSES } from './config.js';
import { DEFAULT_HTTP } from './inbox-settings.js';
import { MAX_MESSAGES_DEFAULT } from '../inbox/message-store.js';
import { FORMAT_NAMES } from '../printers/registry.js';
import { DEFAULT_DELIVER_TIMEOUT_S } from '../relay/routes.js';
import { DEFAULT_RELAY_TIMEOUT_S } from '../relay/upstream.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUTS } from '../server/server.js';
import { BODY_BUDGET_DEFAULT } from '../server/body-budget.js';
import { VERSION } from '../version.js';
import { WAIT_SUMMARY } from './wait/wait-command.js';
import { environmentHelp } from './flag-sources.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function program(): Command {
  const cmd = sinkCommand();
  return cmd.addHelpText('after', () => environmentHelp(cmd));
}

function sinkCommand(): Command {
  return new Command('smtpd-ts')
    .description(
      'A debugging SMTP sink: accepts every message and prints it, like `python -m smtpd -n -c DebuggingServer`.',
    )
    .usage('[options] [localhost:port [remotehost:port]]')
    .argument(
      '[localhost:port]',
      `address to listen on, or a port on 127.0.0.1; port 0 picks a free port (default: ${DEFAULT_LOCAL})`,
    )
    .argument('[remotehost:port]', `upstream server for relaying classes (default: ${DEFAULT_REMOTE})`)
    .optionsGroup('Output:')
    .option('-f, --format <name>', `how messages are shown: ${FORMAT_NAMES.join(', ')}`, 'raw')
    .option(
      '-o, --output <[format:]file>',
      "write to FILE (appending) instead of stdout, in FORMAT (default: --format); '-' is stdout; repeatable",
      collect,
    )
    .option('--json-raw', 'add the raw message, base64, to JSON output')
    .option('--json-refusals', 'also write each refused command, connection or TLS handshake to JSON output')
    .option('--save-dir <dir>', 'also save every message into the Maildir DIR (created if missing)')
    .option('--color', 'colour human formats even when not on a terminal')
    .option('--no-color', 'never colour (default: colour on a terminal, unless NO_COLOR is set)')
    .option('-d, --debug', 'print a protocol trace on stderr')
    .optionsGroup('Server:')
    .option('-c, --class <classname>', `server class: ${SERVER_CLASSES.join(' or ')}`, 'DebuggingServer')
    .option(
      '-s, --size <bytes>',
      `largest accepted message (10MB, 10MiB, 512k), 0 for no limit (default: ${SMTP_DEFAULTS.dataSizeLimit})`,
    )
    .option('-u, --smtputf8', 'enable the SMTPUTF8 extension (RFC 6531)')
    .option('-n, --nosetuid', 'never drop privileges')
    .option(
      '--user <name>',
      'drop privileges to NAME after binding (default: nobody, only as root on a port below 1024)',
    )
    .optionsGroup('Inbox over HTTP:')
    .option(
      '--http [host:port]',
      `serve the inbox over HTTP: a web inbox, and Mailpit's and MailHog's APIs (default: ${DEFAULT_HTTP} when given alone)`,
    )
    .option('--listen <host:port>', "Mailpit's name for --http HOST:PORT")
    .option(
      '--tags-disable <sources>',
      'tag no message from these at arrival: x-tags, plus-addresses (comma separated)',
    )
    .option('--tags-username', "tag each message with its AUTH user name, as Mailpit's --tags-username")
    .option('--smtp <host:port>', "Mailpit's name for the address to listen on (the first argument)")
    .option(
      '--max-messages <n>',
      `messages the inbox keeps, oldest dropped first, 0 for no limit (default: ${MAX_MESSAGES_DEFAULT})`,
    )
    .option('--max-inbox-size <bytes>', 'message bytes the inbox keeps, oldest dropped first (default: 128MiB)')
    .option(
      '--max-age <duration>',
      'drop messages older than DURATION from the inbox (90s, 30m, 12h, 7d; default: none)',
    )
    .option(
      '--http-allow-host <name>',
      'also answer requests for this Host name (DNS rebinding guard); repeatable',
      collect,
    )
    .option('--http-cors <origin>', 'let pages from ORIGIN (or * for any) call the API; none by default')
    .option('--http-auth-file <path>', 'require HTTP basic auth, users from PATH (user:password lines)')
    .option('--http-webroot <path>', 'serve the inbox and its API under PATH (/mail/), as behind a reverse proxy')
    .option(
      '--http-tls',
      "serve the inbox over HTTPS with the SMTP side's certificate (--tls-cert), or one made for the run",
    )
    .option(
      '--http-tls-cert <file>',
      'serve the inbox over HTTPS with this PEM certificate (chain), with --http-tls-key',
    )
    .option('--http-tls-key <file>', 'the PEM private key of --http-tls-cert')
    .option('--pop3 <host:port>', 'serve the inbox over POP3 too: each user reads the mailbox of their name')
    .option('--pop3-auth-file <path>', 'POP3 users and passwords from PATH (user:password lines)')
    .option('--pop3-tls', "POP3 over TLS from the first byte (POP3S) instead of STLS; the SMTP side's certificate")
    .option('--webhook <url>', "POST each new message's summary (Mailpit's shape) as JSON to URL")
    .option('--webhook-url <url>', "Mailpit's name for --webhook")
    .option('--webhook-limit <n>', 'webhook requests a second at most; more wait their turn (default: 5)')
    .option('--webhook-delay <duration>', 'post each message this long after it arrives at the earliest (2s, 500ms)')
    .option('--webhook-query <query>', 'post only messages this search matches (tag:NAME for a mailbox)')
    .option('--webhook-raw', 'add the whole message, base64, as Raw')
    .option('--webhook-label <text>', 'send TEXT as the Smtpd-Ts-Label and Mailpit-Label headers')
    .option(
      '--webhook-allow-internal',
      'let --webhook reach loopback, private and link-local addresses (refused by default)',
    )
    .option(
      '--metrics [host:port]',
      'Prometheus metrics: at /metrics beside --http, or on HOST:PORT (or a port on 127.0.0.1) of its own',
    )
    .option(
      '--mailbox <rule>',
      'file matching mail in a mailbox: NAME=*@a.example, NAME=from:GLOB, user:GLOB, header:Field=GLOB; repeatable',
      collect,
    )
    .option('--mailbox-file <path>', 'mailbox rules from PATH, one a line (docs/mailboxes.md)')
    .option('--store <url>', 'keep the inbox in PostgreSQL (postgres://user@host/db), shared by every instance on it')
    .optionsGroup('CI and scripts:')
    .option('--exit-after <n>', 'exit 0 once N messages were accepted and written')
    .option('--timeout <seconds>', `exit ${EXIT.TIMEOUT} if the run has not finished after SECONDS`)
    .option('--ready-file <path>', 'write host:port to PATH (atomically) once connections are accepted')
    .option('--pid-file <path>', 'write the process id to PATH')
    .option('--workers <n>', 'processes sharing the port, each a whole sink writing through this one (default: 1)')
    .optionsGroup('Limits and timeouts:')
    .option('--max-connections <n>', `open connections at most, 0 for no limit (default: ${DEFAULT_MAX_CONNECTIONS})`)
    .option(
      '--memory-budget <bytes>',
      `message bytes all connections hold in memory at once; past it they wait, 0 for no limit (default: ${BODY_BUDGET_DEFAULT / 1024 / 1024}MiB)`,
    )
    .option(
      '--max-recipients <n>',
      `recipients per message at most, 0 for no limit (default: ${SMTP_DEFAULTS.maxRecipients})`,
    )
    .option(
      '--max-messages-per-connection <n>',
      `messages per connection at most, 0 for no limit (default: ${SMTP_DEFAULTS.maxMessagesPerConnection})`,
    )
    .option(
      '--command-timeout <seconds>',
      `close an idle session with 421 (default: ${DEFAULT_TIMEOUTS.command / 1000})`,
    )
    .option('--data-timeout <seconds>', `close a silent DATA with 421 (default: ${DEFAULT_TIMEOUTS.data / 1000})`)
    .option(
      '--transaction-timeout <seconds>',
      `longest MAIL-to-final-dot transaction (default: ${DEFAULT_TIMEOUTS.transaction / 1000})`,
    )
    .option(
      '--bare-lf <policy>',
      `messages with bare CR or LF line endings: accept (flagged) or reject (550) (default: ${SMTP_DEFAULTS.bareLf})`,
    )
    .optionsGroup('TLS and AUTH:')
    .option(
      '--tls',
      'offer STARTTLS with a self-signed certificate generated at start (its SHA-256 fingerprint goes to stderr)',
    )
    .option('--tls-cert <file>', 'offer STARTTLS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--tls-implicit', 'TLS from the first byte (SMTPS, RFC 8314) instead of STARTTLS')
    .option('--require-tls', 'answer 530 to MAIL before STARTTLS')
    .option(
      '--auth-file <file>',
      'check AUTH credentials against FILE (user:password lines); 535 on failure (default: accept any)',
    )
    .option('--require-auth', 'answer 530 to MAIL before AUTH')
    .option('--auth-insecure', 'offer AUTH without TLS on any address (default: only on loopback)')
    .option('--no-auth', 'do not offer AUTH')
    .optionsGroup('SMTP extensions:')
    .option('--no-chunking', 'do not offer CHUNKING (BDAT)')
    .option('--binarymime', 'offer BINARYMIME (RFC 3030): MAIL takes BODY=BINARYMIME')
    .option('--enhanced-status-codes', 'offer ENHANCEDSTATUSCODES: every reply carries its RFC 3463 code')
    .option('--dsn', 'accept the DSN parameters RET, ENVID, NOTIFY, ORCPT (RFC 3461) and record them')
    .option('--lmtp', 'speak LMTP (RFC 2033): LHLO, one reply per recipient after the data')
    .option('--proxy-protocol', 'expect a PROXY protocol v1 or v2 header on each connection (behind a load balancer)')
    .option(
      '--proxy-protocol-from <cidr>',
      'with --proxy-protocol: the balancers whose PROXY header is believed (default: loopback only); repeatable',
      collect,
    )
    .optionsGroup('Relaying:')
    .option('--relay <host:port>', 'relay every message to this SMTP server (as -c PureProxy), and print it too')
    .option(
      '--relay-tls',
      'require STARTTLS with a valid certificate upstream (default: STARTTLS when offered, unverified)',
    )
    .option('--relay-user <name>', 'AUTH to the upstream as NAME (with --relay-password-file)')
    .option('--relay-password-file <path>', 'the upstream password, on the first line of PATH')
    .option(
      '--relay-timeout <seconds>',
      `each wait for the upstream at most; then 451 (default: ${DEFAULT_RELAY_TIMEOUT_S})`,
    )
    .option(
      '--relay-allow <cidr>',
      'peers that may relay (default: loopback only); needed to relay from a non-loopback address; repeatable',
      collect,
    )
    .option(
      '--relay-domains <domains>',
      'relay only to these recipient domains (comma-separated; .example.com takes subdomains); repeatable',
      collect,
    )
    .option(
      '--deliver <pattern=command>',
      'pipe the message to COMMAND once per recipient matching PATTERN (glob or /regexp/); exit 0 accepts, 75 defers (451), others 550; repeatable',
      collect,
    )
    .option(
      '--deliver-timeout <seconds>',
      `kill a --deliver command after SECONDS; then 451 (default: ${DEFAULT_DELIVER_TIMEOUT_S})`,
    )
    .optionsGroup('Testing the sender:')
    .option('--lint', "show the protocol lint's findings after each message in human formats (JSON always has them)")
    .option('--strict', 'refuse a message with an error-severity lint finding with 550, naming the finding')
    .option(
      '--expect <expr>',
      `at exit, exit ${EXIT.EXPECTATION_FAILED} unless a message matches EXPR: [every:|none:]FIELD OP VALUE [&& ...], OP one of = != ~ !~ < <= > >=; repeatable`,
      collect,
    )
    .option(
      '--expect-count <range>',
      `at exit, exit ${EXIT.EXPECTATION_FAILED} unless the number of accepted messages is N, MIN..MAX, >=N, >N, <=N or <N`,
    )
    .option(
      '--reply <rule>',
      'answer a command with a scripted reply or fault: VERB[~PATTERN][#N|#N+|#*N][?P%]=[delay:TIME] REPLY[!close]|drop (see docs/testing-the-sender.md); repeatable',
      collect,
    )
    .option('--rules <file>', 'more --reply rules, one a line (# comments)')
    .option('--seed <n>', 'seed for rules with a ?P% probability, to replay the same faults (default: random, printed)')
    .option('--connection-rate <n/seconds>', 'more than N new connections within SECONDS get 421 and a close')
    .option('--transcript', 'record every session: a JSON line of type session, or the dialogue before each message')
    .optionsGroup('Other:')
    .option('--config <file>', 'read flags from FILE, one `name = value` a line (see below); SMTPD_TS_CONFIG too')
    .addHelpText('after', WAIT_SUMMARY)
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
}
