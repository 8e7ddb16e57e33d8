/**
 * Mailpit's `POST /api/v1/send` (its server/apiv1/send.go): a JSON message
 * (From, To, Cc, Bcc, ReplyTo, Subject, Text, HTML, Attachments with
 * base64 content, Headers, Tags) built into MIME by nodemailer's
 * MailComposer, with file and URL access off (an attachment is its content,
 * never a path the sink would read), then delivered as if received over
 * SMTP: to every output and the inbox.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Reply } from '../channel/reply.js';
import type { Message } from '../message.js';
import type { UpstreamOptions } from '../relay/upstream.js';

export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
}

/** A 400: the request is not a message Mailpit would send. */
export class SendError extends Error {}

interface SendAddress {
  readonly Email: string;
  readonly Name?: string;
}

const ADDRESS = /^[^\s@<>"(),;:\\]+@[^\s@<>"(),;:\\]+$/;
/** Headers the request may not set, as Mailpit refuses them. */
const RESTRICTED = ['to', 'from', 'cc', 'bcc', 'reply-to', 'date', 'subject', 'content-type', 'mime-version'];

function address(value: unknown, what: string): SendAddress {
  const a = value as Partial<SendAddress> | null;
  if (typeof a !== 'object' || a === null || typeof a.Email !== 'string' || !ADDRESS.test(a.Email))
    throw new SendError(`invalid ${what} address: ${typeof a?.Email === 'string' ? a.Email : JSON.stringify(value)}`);
  return { Email: a.Email, Name: typeof a.Name === 'string' ? a.Name : '' };
}

function list(value: unknown, what: string): SendAddress[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SendError(`${what} must be a list of {Email, Name}`);
  return value.map((v) => address(v, what));
}

const formatted = (a: SendAddress) => ({ name: a.Name ?? '', address: a.Email });
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The envelope and the MIME bytes of a send request; throws SendError for a bad one. */
export async function buildSend(body: Record<string, unknown>): Promise<{ envelope: Envelope; data: Buffer }> {
  const from = address(body['From'], 'From');
  const to = list(body['To'], 'To');
  const cc = list(body['Cc'], 'Cc');
  const bcc = (Array.isArray(body['Bcc']) ? body['Bcc'] : []).map((v: unknown) =>
    typeof v === 'string' ? address({ Email: v }, 'Bcc') : address(v, 'Bcc'),
  );
  const replyTo = list(body['ReplyTo'], 'Reply-To');
  const recipients = [...to, ...cc, ...bcc].map((a) => a.Email);
  if (recipients.length === 0) throw new SendError('no recipients: give To, Cc or Bcc');
  const headers: Record<string, string> = {};
  const given = body['Headers'];
  if (given !== undefined && given !== null) {
    if (typeof given !== 'object' || Array.isArray(given)) throw new SendError('Headers must be an object');
    for (const [k, v] of Object.entries(given)) {
      if (RESTRICTED.includes(k.toLowerCase())) throw new SendError(`cannot overwrite header: "${k}"`);
      if (typeof v !== 'string' || /[\r\n]/.test(v) || !/^[!-9;-~]+$/.test(k))
        throw new SendError(`bad header: "${k}"`);
      headers[k] = v;
    }
  }
  const tags = Array.isArray(body['Tags']) ? body['Tags'].filter((t): t is string => typeof t === 'string') : [];
  if (tags.length > 0) headers['X-Tags'] = tags.join(', ');
  const attachments = (Array.isArray(body['Attachments']) ? body['Attachments'] : []).map((a: unknown) => {
    const att = a as { Content?: unknown; Filename?: unknown; ContentType?: unknown; ContentID?: unknown };
    if (typeof att?.Content !== 'string') throw new SendError('an attachment needs its Content, base64');
    // A data: URL's prefix goes, as Mailpit drops it; white space is not part of base64.
    const content = att.Content.split(',').at(-1)!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content))
      throw new SendError(`error decoding base64 attachment "${text(att.Filename) ?? ''}"`);
    return {
      filename: text(att.Filename) ?? 'attachment',
      content: Buffer.from(content, 'base64'),
      ...(text(att.ContentType) ? { contentType: text(att.ContentType) } : {}),
      ...(text(att.ContentID) ? { cid: text(att.ContentID), contentDisposition: 'inline' as const } : {}),
    };
  });
  const composer = new MailComposer({
    from: formatted(from),
    to: to.map(formatted),
    cc: cc.map(formatted),
    replyTo: replyTo.map(formatted),
    subject: text(body['Subject']) ?? '',
    text: text(body['Text']),
    html: text(body['HTML']),
    headers,
    attachments,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const data = await composer.compile().build();
  return { envelope: { from: from.Email, to: recipients }, data };
}

/**
 * Mailpit's release: a stored message sent as it is to `to` through the
 * relay's upstream, unless `refusal` (what relayed SMTP mail would have got:
 * AUTH, size, count, the relay policy) says no; rejects with SendError naming
 * every refusal.
 */
export async function releaseUpstream(
  upstream: UpstreamOptions,
  message: Message,
  to: readonly string[],
  refusal: Reply | undefined,
): Promise<void> {
  if (refusal) throw new SendError(refusal.lines.join(' '));
  const { sendUpstream } = await import('../relay/upstream.js');
  const data = message.data;
  const delivered = await sendUpstream(
    upstream,
    { mailFrom: message.mailFrom, rcptTos: to, eightBit: data.some((b) => b >= 0x80) },
    [data],
  );
  if (delivered.refused.length > 0)
    throw new SendError(`Failed: ${delivered.refused.map((r) => `${r.address}: ${r.code} ${r.message}`).join('; ')}`);
}
