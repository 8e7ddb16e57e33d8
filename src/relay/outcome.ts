/**
 * What became of each recipient of a relayed message, and the one reply the
 * client gets for it. SMTP has a single reply after DATA (LMTP would have
 * one per recipient), so the recipients' outcomes are folded into it:
 *
 * - any temporary failure (4xx, upstream down or silent, a command that
 *   exits 75 or hangs): 451, so the client tries the whole message again;
 * - every recipient refused for good: the first refusal's 5xx;
 * - otherwise 250, the refused recipients reported on stderr and in JSON.
 */
import { printable, reply, type Reply } from '../channel/reply.js';

/** A recipient that was not delivered, with the reply that said so. */
export interface Refusal {
  readonly address: string;
  readonly code: number;
  readonly message: string;
}

/** The outcome of one delivery attempt for some recipients. */
export interface Delivered {
  /** Recipients the upstream or a `--deliver` command accepted. */
  readonly accepted: readonly string[];
  /** Recipients refused, temporarily (4xx) or for good (5xx). */
  readonly refused: readonly Refusal[];
}

/** The `relay` field of the JSON record: what the upstream and `--deliver` commands did. */
export interface RelayRecord extends Delivered {
  /** `host:port` of the upstream, or null when nothing is relayed (only `--deliver`). */
  readonly upstream: string | null;
}

/** Ours: some recipient failed temporarily. */
export const R451_RELAY_FAILED = (why: string) => reply(451, `Requested action aborted: ${printable(why)}`);

/**
 * The reply for a message. `printedOnly` counts recipients that were neither
 * relayed nor piped to a command (they were printed, which accepts them).
 */
export function verdictFor(record: RelayRecord, printedOnly: number): Reply | undefined {
  const temporary = record.refused.find((r) => r.code < 500);
  if (temporary) return R451_RELAY_FAILED(`${temporary.address}: ${temporary.message}`);
  const [first] = record.refused;
  if (first && record.accepted.length === 0 && printedOnly === 0) return reply(first.code, printable(first.message));
  return undefined;
}
