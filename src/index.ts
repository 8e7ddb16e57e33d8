/**
 * smtpd-ts as a library: the sans-I/O channel, the server, handlers and printers.
 * Importing this module loads neither mailparser nor chalk.
 */
export { SMTPChannel, ChannelUsageError } from './channel/channel.js';
export { R, formatReply, parseReply, reply, type Reply } from './channel/reply.js';
export { DATA_SIZE_DEFAULT, type Action, type ChannelConfig, type ChannelMessage, type ChannelStateName } from './channel/types.js';
export { SMTPServer, SHUTDOWN_GRACE_MS, type Handler, type ProcessMessageOptions, type ServerOptions, type Verdict } from './server.js';
export { DebuggingHandler, DebuggingServer } from './handlers/debugging.js';
export { printRaw } from './printers/raw.js';
export type { Printer } from './printers/printer.js';
export type { Endpoint, Message } from './message.js';
export { VERSION } from './version.js';
export { Sink, SinkTimeoutError, startSink, type SinkMessage, type StartSinkOptions, type WaitOptions } from './sink.js';
export type { ParsedMessage } from './printers/parse-message.js';
