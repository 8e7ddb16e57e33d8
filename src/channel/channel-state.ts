/**
 * The channel's states, as the theory of operation in channel.ts draws them,
 * each with what it needs: DATA's decoder, the BDAT chunk being read, the
 * AUTH step whose answer comes next, and the recipients of the message whose
 * verdict is awaited (LMTP answers once per recipient).
 */
import type { AuthStep } from './auth.js';
import type { ChunkReader } from './bdat.js';
import type { DataDecoder } from './data-decoder.js';

/** The data phase: DATA's decoder, or the BDAT chunk being read. */
export type BodyState = { readonly name: 'data'; readonly decoder: DataDecoder } | { readonly name: 'bdat'; readonly reader: ChunkReader };

export type State =
  | { readonly name: 'command' }
  | BodyState
  | { readonly name: 'auth'; readonly step: AuthStep }
  | { readonly name: 'starttls' }
  | { readonly name: 'awaiting-verdict'; readonly recipients: number }
  | { readonly name: 'closed' };

export const COMMAND: State = { name: 'command' };
export const STARTTLS: State = { name: 'starttls' };
export const CLOSED: State = { name: 'closed' };
