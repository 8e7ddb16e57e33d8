/**
 * The one way into the inbox: wraps the handler that decides a message's
 * reply and, when that reply is an acceptance (`replyOf`, the rule the
 * server answers by), adds the message to the inbox before the 250 goes
 * out. Used by the CLI and by `startSink` alike, so what a client is told
 * and what the inbox shows can never disagree: a verdict of 250 in any form
 * is stored, anything the client is not told 2xx or 3xx is not.
 *
 * The handlers inside may say what they learnt on the way (the printers'
 * parse, the Maildir file, the relay's outcome) with `noteWritten`; the
 * inbox takes it along with the message.
 */
import { isAcceptance, replyOf, type Verdict } from '../channel/reply.js';
import type { Message } from '../message.js';
import type { PrintContext } from '../printers/printer.js';
import type { Handler } from '../server/server.js';
import type { ParsedMessage } from '../mime/parse-message.js';
import type { Arrival, ParseResult } from '../inbox/message-store.js';
import { arrivalTags, type TagSources } from '../inbox/tags.js';

/** A parse the printers made (`parsed`, or why it failed), as the store keeps it; null when they made none. */
function parseResultOf(made: { readonly parsed?: ParsedMessage; readonly parseError?: string }): ParseResult | null {
  if (made.parsed !== undefined) return { parsed: made.parsed, parseError: null };
  return made.parseError === undefined ? null : { parsed: null, parseError: made.parseError };
}

/** Where the inbox handler puts messages: an Inbox, or (`--workers`) the primary's over IPC. */
export interface InboxIntake {
  /** Resolves once the message is kept, with its ID in the inbox. */
  add(message: Message, arrival: Arrival): Promise<{ readonly id: string }>;
}

/** How many of the entries added last `added` can find (the send API reads its message's right after). */
const ADDED_KEPT = 64;

export class InboxHandler implements Handler {
  /** What the handlers inside noted for a message in flight, by its ID. */
  private readonly notes = new Map<string, { message: Message; arrival: Arrival }>();
  /** The inbox IDs of the messages added last, by their message's ID. */
  private readonly recent = new Map<string, string>();

  constructor(
    private readonly inner: Handler,
    private readonly inbox: InboxIntake,
    /** Where a message's tags come from at arrival (`--tags-disable`, `--tags-username`). */
    private readonly tagSources: TagSources = {},
  ) {}

  async handleMessage(message: Message): Promise<Verdict> {
    try {
      // A handler that throws is answered 451 by the server: not stored.
      const verdict = await this.inner.handleMessage(message);
      if (isAcceptance(replyOf(verdict))) {
        const noted = this.notes.get(message.id);
        // Rejects when the inbox cannot keep it (a database gone since): the server answers 451.
        const kept = noted?.message ?? message;
        const arrival = { ...noted?.arrival, tags: arrivalTags(kept, this.tagSources) };
        const { id } = await this.inbox.add(kept, arrival);
        this.recent.set(message.id, id);
        if (this.recent.size > ADDED_KEPT) this.recent.delete(this.recent.keys().next().value!);
      }
      return verdict;
    } finally {
      this.notes.delete(message.id);
    }
  }

  /** The inbox ID of a message this handler added lately (by the message's ID). */
  added(messageId: string): string | undefined {
    return this.recent.get(messageId);
  }

  /**
   * Says what came with `message` (as the handlers inside changed it: its
   * mailbox, its database ID) for the inbox to keep if it is accepted.
   */
  note(message: Message, arrival: Arrival): void {
    this.notes.set(message.id, { message, arrival });
  }

  /** `note` for what the printers were given (the OutputHandler's `onWritten`). */
  noteWritten(message: Message, context: PrintContext): void {
    this.note(message, {
      file: context.savedAs ?? null,
      parse: parseResultOf(context),
      brief: context.brief ?? null,
      relay: context.relay ?? null,
    });
  }
}
