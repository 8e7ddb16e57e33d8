/**
 * CHUNKING and BINARYMIME (RFC 3030): `BDAT <size> [LAST]` is followed by
 * exactly `size` bytes of message, taken as they are (no dot-stuffing, no
 * end-of-data marker). The reply comes after the chunk, so the chunk is read
 * even when the command is refused: that keeps the command stream in step.
 * Chunks add up to one message under the same size limit as DATA.
 */
import type { CommandContext, CommandSpec, Transaction } from './commands.js';
import { MessageBody } from './message-body.js';
import { R, type Reply } from './reply.js';

const BDAT_ARG = /^([0-9]{1,15})(?: +(LAST))? *$/i;

/** The bytes of one chunk, counted down as they arrive. */
export class ChunkReader {
  constructor(
    private remaining: number,
    /** This chunk ends the message. */
    readonly last: boolean,
    /** The reply to give after the chunk instead of taking it (a refused BDAT). */
    readonly refusal: Reply | undefined,
    /** The chunk size as announced. */
    readonly size: number = remaining,
  ) {}

  /** Takes what belongs to the chunk; `rest` (bytes after it) is set once the chunk is complete. */
  feed(chunk: Buffer): { readonly data: Buffer; readonly rest: Buffer | undefined } {
    if (chunk.length < this.remaining) {
      this.remaining -= chunk.length;
      return { data: chunk, rest: undefined };
    }
    const data = chunk.subarray(0, this.remaining);
    const rest = chunk.subarray(this.remaining);
    this.remaining = 0;
    return { data, rest };
  }
}

/** How a chunk ended: a reply (`endsTransaction` after a 552), or the whole message after LAST. */
export type ChunkEnd =
  | { readonly kind: 'reply'; readonly reply: Reply; readonly endsTransaction: boolean; readonly rest: Buffer }
  | { readonly kind: 'message'; readonly data: Buffer; readonly lineBased: boolean; readonly rest: Buffer };

/**
 * Feeds bytes to the chunk being read, adding them to the transaction's
 * message; undefined until the chunk is complete, then what it leads to.
 */
export function feedChunk(reader: ChunkReader, tx: Transaction, limit: number, bytes: Buffer): ChunkEnd | undefined {
  const { data, rest } = reader.feed(bytes);
  if (reader.refusal === undefined) (tx.chunks ??= new MessageBody(limit)).add(data);
  if (rest === undefined) return undefined;
  if (reader.refusal !== undefined) return { kind: 'reply', reply: reader.refusal, endsTransaction: false, rest };
  const chunks = tx.chunks!;
  // RFC 5321 4.2.5 as for DATA: the chunk is read to its end, then 552, and the transaction is over.
  if (chunks.tooBig) return { kind: 'reply', reply: R.R552_TOO_MUCH_DATA, endsTransaction: true, rest };
  if (!reader.last) return { kind: 'reply', reply: R.R250_CHUNK_OK(reader.size), endsTransaction: false, rest };
  // BINARYMIME content is not made of lines; bare line endings are no fault there.
  return { kind: 'message', data: chunks.message(), lineBased: !tx.binary, rest };
}

/** The BDAT command: checks come first, but their reply waits for the chunk. */
export const BDAT_COMMAND: CommandSpec = {
  enabled: (config, session) => config.chunking && session.extended,
  run(ctx: CommandContext, arg) {
    const m = BDAT_ARG.exec(arg ?? '');
    // Without a size the chunk cannot be skipped; the line is all there is.
    if (!m) return ctx.send(R.R501_BDAT_SYNTAX);
    const size = Number(m[1]);
    const last = m[2] !== undefined;
    const tx = ctx.transaction;
    const refusal = tx.mailFrom === null ? R.R503_NEED_MAIL : tx.rcptTos.length === 0 ? R.R503_NEED_RCPT : undefined;
    ctx.startChunk(new ChunkReader(size, last, refusal));
  },
};
