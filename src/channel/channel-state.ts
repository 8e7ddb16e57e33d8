/**
 * The channel's states, as the theory of operation in channel.ts draws them,
 * each with what it needs: DATA's decoder (and whether a DATA rule drops the
 * connection at the first data bytes), the BDAT chunk being read, the AUTH
 * step whose answer comes next, and the EOD rule kept for the verdict awaited.
 */
import type { AuthStep } from './auth.js';
import type { ChunkReader } from './bdat.js';
import type { DataDecoder } from './data-decoder.js';
import type { RuleOutcome } from './config.js';

/** The data phase: DATA's decoder, or the BDAT chunk being read. */
export type BodyState =
  | { readonly name: 'data'; readonly decoder: DataDecoder; readonly dropAtData?: true }
  | { readonly name: 'bdat'; readonly reader: ChunkReader };

export type State =
  | { readonly name: 'command' }
  | BodyState
  | { readonly name: 'auth'; readonly step: AuthStep }
  | { readonly name: 'starttls' }
  /** An EOD rule that kept the message: its delay, and the reply that replaces an accepting verdict. */
  | { readonly name: 'awaiting-verdict'; readonly verdictRule: RuleOutcome | null }
  | { readonly name: 'closed' };

export const COMMAND: State = { name: 'command' };
export const STARTTLS: State = { name: 'starttls' };
export const CLOSED: State = { name: 'closed' };
