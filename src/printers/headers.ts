/**
 * The `headers` format: DebuggingServer's framing around the header block
 * only, for busy terminals. A message with no body separator is all header.
 */
import type { Message } from '../message.js';
import { lintBlock } from './lint-block.js';
import type { PrintContext } from './printer.js';
import { frame } from './raw.js';

/** Prints the framing, the envelope options and the header block with X-Peer, but no body; then any lint findings. */
export function printHeaders(message: Message, context: PrintContext = {}): string {
  return frame(message, true, context.style) + lintBlock(context.lint);
}
