/**
 * smtpd-ts as a library: the sans-I/O channel, the server, handlers and printers.
 * Importing this module loads neither mailparser nor chalk.
 */
export { SMTPChannel } from './channel/channel.js';
export { R, formatReply, parseReply, reply, type Reply } from './channel/reply.js';
export {
  AUTH_DEFAULTS,
  DATA_SIZE_DEFAULT,
  SMTP_DEFAULTS,
  type AuthConfig,
  type ChannelConfig,
  type ChannelOptions,
  type RuleEvent,
  type RuleOutcome,
  type SmtpSettings,
} from './channel/config.js';
export type { Action, ChannelMessage, ChannelStateName, TlsInfo } from './channel/actions.js';
export { RuleEngine } from './rules/engine.js';
export { parseRule, parseRulesFile } from './rules/parse.js';
export type { Rule, RuleAction, RuleVerb } from './rules/rule.js';
export type { FinishedSession, SessionEnd, SessionRecord, TranscriptLine } from './transcript/transcript.js';
export { parseProxyHeader, type ProxyHeader } from './server/proxy-protocol.js';
export {
  SMTPServer,
  SHUTDOWN_GRACE_MS,
  type Handler,
  type ProcessMessageOptions,
  type ServerOptions,
  type Verdict,
} from './server/server.js';
export type { RefusalEvent } from './message.js';
export { DebuggingHandler, DebuggingServer } from './handlers/debugging.js';
export { PureProxy, RelayHandler, type RelayHandlerOptions } from './handlers/relay.js';
export type { RelayRecord, Refusal } from './relay/outcome.js';
export { OutputHandler, type OutputHandlerOptions } from './handlers/outputs.js';
export { printRaw } from './printers/raw.js';
export { printHeaders } from './printers/headers.js';
export { printParsed } from './printers/parsed.js';
export { printJson, toJsonRecord, JSON_SCHEMA_VERSION, type JsonRecord, type RefusalRecord } from './printers/json.js';
export {
  JSON_SCHEMA,
  REFUSAL_JSON_SCHEMA,
  SESSION_JSON_SCHEMA,
  WITHDRAWN_JSON_SCHEMA,
} from './printers/json-schema.js';
export { lintMessage } from './lint/lint.js';
export { LINT_CODES, type Finding, type LintCode, type Severity } from './lint/findings.js';
export { FORMATS, FORMAT_NAMES, type FormatName } from './printers/registry.js';
export { parseMessage, type AttachmentSummary, type HeaderField, type ParsedAddress } from './mime/parse-message.js';
export { PLAIN, loadColorStyle, wantsColor, type Style } from './printers/style.js';
export { terminalSafe } from './printers/terminal-safe.js';
export type { Format, PrintContext, Printer } from './printers/printer.js';
export { type Destination, type Output } from './outputs/output.js';
export { FileDestination } from './outputs/file-destination.js';
export { StreamDestination } from './outputs/stream-destination.js';
export { Maildir } from './outputs/maildir.js';
export type { Endpoint, Message } from './message.js';
export {
  ChannelUsageError,
  ExpectSyntaxError,
  HttpError,
  MessageParseError,
  OutputError,
  ReplyError,
  SearchTimeoutError,
  SendError,
  WebhookRefusedError,
  RuleSyntaxError,
  SinkTimeoutError,
  SmtpdError,
  StartError,
  StrictRejection,
  UsageError,
  WorkerJobError,
} from './errors.js';
export { VERSION } from './version.js';
export {
  DEFAULT_WAIT_MS,
  Sink,
  startSink,
  type SinkMessage,
  type SinkTls,
  type StartSinkOptions,
  type WaitOptions,
} from './sink.js';
export type { ParsedMessage } from './mime/parse-message.js';
