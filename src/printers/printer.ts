import type { Finding } from '../lint/findings.js';
import type { Message } from '../message.js';
import type { Reply } from '../channel/reply.js';
import type { RelayRecord } from '../relay/outcome.js';
import type { ParsedMessage } from '../mime/parse-message.js';
import type { Style } from './style.js';

/** What a printer may use besides the message. Every field is optional. */
export interface PrintContext {
  /** Colours for the printer's own text (default: none). */
  readonly style?: Style;
  /** The parsed message, for formats that parse; absent when parsing failed. */
  readonly parsed?: ParsedMessage;
  /**
   * The parse in brief (`briefParse`), when the whole one stayed in the
   * render worker: what the inbox keeps of a large message for its lists.
   */
  readonly brief?: ParsedMessage;
  /** Why the message could not be parsed, when it could not. */
  readonly parseError?: string;
  /** Where `--save-dir` stored the message. */
  readonly savedAs?: string;
  /** `--json-raw`: add the raw message, base64, to JSON output. */
  readonly includeRaw?: boolean;
  /** The lint's findings (src/lint/), when the message was linted; human formats add a block for them. */
  readonly lint?: readonly Finding[];
  /** What the upstream and `--deliver` commands did with the message (PureProxy, `--relay`, `--deliver`). */
  readonly relay?: RelayRecord;
  /** The reply given after printing when it is a refusal (a failed relay): such a message is not kept in the inbox. */
  readonly refused?: Reply;
}

/** Turns a message into the text shown for it. Pure: no I/O, no state. */
export type Printer = (message: Message, context?: PrintContext) => string;

/**
 * A printer and what it needs, as `--format` names them (see `registry.ts`).
 * A library user can write their own and hand it to the OutputHandler.
 */
export interface Format {
  readonly name: string;
  readonly print: Printer;
  /** The printer reads `context.parsed`, so the message is parsed (with mailparser) first. */
  readonly parses: boolean;
  /** Text for people, which may be coloured; JSON is for programs and never is. */
  readonly human: boolean;
  /**
   * The same output as `print`, in parts that are each a bounded amount of
   * work, for large messages: the handler computes one part at a time and
   * lets other clients in between. Undefined (or an undefined result)
   * means "use `print`".
   */
  readonly printParts?: (message: Message, context?: PrintContext) => Iterable<string | Uint8Array> | undefined;
}
