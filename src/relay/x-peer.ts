/**
 * The `X-Peer:` header PureProxy adds before relaying. smtpd split the
 * message into lines and inserted `X-Peer: <ip>` before the first empty
 * line, or after the last line when there is none (a message that is all
 * header). We do the same on the bytes, so nothing else changes.
 */
import { headerBlockEnd } from '../header-block.js';

/**
 * The message with `X-Peer: <address>` inserted at the end of its header
 * block, as the pieces to send in order: views of `data` around the new
 * field, so a 30 MiB message is not copied to relay it.
 */
export function xPeerParts(data: Buffer, address: string): Buffer[] {
  const header = Buffer.from(`X-Peer: ${address}\r\n`, 'latin1');
  const block = headerBlockEnd(data);
  // The first line is empty: no header at all; the field goes first.
  if (block?.end === 0) return [header, data];
  const at = block ? block.end : data.length;
  // The channel ends every non-empty message with CRLF; a message without
  // one would otherwise get the field glued to its last line.
  const gap = at > 0 && data[at - 1] !== 0x0a ? [Buffer.from('\r\n')] : [];
  return [data.subarray(0, at), ...gap, header, data.subarray(at)];
}

/** The same as one buffer. */
export function insertXPeer(data: Buffer, address: string): Buffer {
  return Buffer.concat(xPeerParts(data, address));
}
