/**
 * Mailpit's `POST /api/v1/send` (its server/apiv1/send.go): a JSON message
 * (From, To, Cc, Bcc, ReplyTo, Subject, Text, HTML, Attachments with
 * base64 content, Headers, Tags) built into MIME by nodemailer's
 * MailComposer, with file and URL access off (an attachment is its content,
 * never a path the sink would read), then delivered as if received over
 * SMTP: to every output and the inbox.
 */
import { SendError } from '../errors.js';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Reply } from '../channel/reply.js';
import type { Message } from '../message.js';
import type { UpstreamOptions } from '../relay/upstream.js';

export interface Envelope {
  readonly from: string;
  readonly to: readonly string[];
}

interface SendAddress {
  readonly Email: string;
  readonly Name?: string;
}

const ADDRESS = /^[^\s@<>"(),;:\\]+@[^\s@<>"(),;:\\]+$/;
/** Headers the request may not set, as Mailpit refuses them. */
const RESTRICTED = ['to', 'from', 'cc', 'bcc', 'reply-to', 'date', 'subject', 'content-type', 'mime-version'];

function address(value: unknown, what: string): SendAddress {
  const email = field(value, 'Email');
  const name = field(value, 'Name');
  if (typeof email !== 'string' || !ADDRESS.test(email))
    throw new SendError(`invalid ${what} address: ${typeof email === 'string' ? email : JSON.stringify(value)}`);
  return { Email: email, Name: typeof name === 'string' ? name : '' };
}

function list(value: unknown, what: string): SendAddress[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new SendError(`${what} must be a list of {Email, Name}`);
  return value.map((v) => address(v, what));
}

/**
 * The value of `name` in a JSON object as Go's encoding/json reads a struct
 * field: the key matched in any case, the last matching key winning
 * (`FileName` is Mailpit's `Filename`).
 */
function field(object: unknown, name: string): unknown {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const wanted = name.toLowerCase();
  let value: unknown;
  for (const [key, v] of Object.entries(object)) if (key.toLowerCase() === wanted) value = v;
  return value;
}

const formatted = (a: SendAddress) => ({ name: a.Name ?? '', address: a.Email });
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The envelope and the MIME bytes of a send request; throws SendError for a bad one. */
export async function buildSend(body: Record<string, unknown>): Promise<{ envelope: Envelope; data: Buffer }> {
  const get = (name: string) => field(body, name);
  const from = address(get('From'), 'From');
  const to = list(get('To'), 'To');
  const cc = list(get('Cc'), 'Cc');
  const bccs = get('Bcc');
  const bcc = (Array.isArray(bccs) ? bccs : []).map((v: unknown) =>
    typeof v === 'string' ? address({ Email: v }, 'Bcc') : address(v, 'Bcc'),
  );
  const replyTo = list(get('ReplyTo'), 'Reply-To');
  const recipients = [...to, ...cc, ...bcc].map((a) => a.Email);
  if (recipients.length === 0) throw new SendError('no recipients: give To, Cc or Bcc');
  const headers: Record<string, string> = {};
  const given = get('Headers');
  if (given !== undefined && given !== null) {
    if (typeof given !== 'object' || Array.isArray(given)) throw new SendError('Headers must be an object');
    for (const [k, v] of Object.entries(given)) {
      if (RESTRICTED.includes(k.toLowerCase())) throw new SendError(`cannot overwrite header: "${k}"`);
      if (typeof v !== 'string' || /[\r\n]/.test(v) || !/^[!-9;-~]+$/.test(k))
        throw new SendError(`bad header: "${k}"`);
      headers[k] = v;
    }
  }
  const tagList = get('Tags');
  const tags = Array.isArray(tagList) ? tagList.filter((t): t is string => typeof t === 'string') : [];
  if (tags.length > 0) headers['X-Tags'] = tags.join(', ');
  const attachmentList = get('Attachments');
  const attachments = (Array.isArray(attachmentList) ? attachmentList : []).map((a: unknown) => {
    const raw = field(a, 'Content');
    const filename = text(field(a, 'Filename'));
    if (typeof raw !== 'string') throw new SendError('an attachment needs its Content, base64');
    // A data: URL's prefix goes, as Mailpit drops it; white space is not part of base64.
    const content = raw.split(',').at(-1)!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content))
      throw new SendError(`error decoding base64 attachment "${filename ?? ''}"`);
    const type = text(field(a, 'ContentType'));
    const cid = text(field(a, 'ContentID'));
    return {
      // Without a content type, nodemailer tells it from the file name's extension, as Mailpit does.
      filename: filename ?? 'attachment',
      content: Buffer.from(content, 'base64'),
      ...(type ? { contentType: type } : {}),
      ...(cid ? { cid, contentDisposition: 'inline' as const } : {}),
    };
  });
  const composer = new MailComposer({
    from: formatted(from),
    to: to.map(formatted),
    cc: cc.map(formatted),
    replyTo: replyTo.map(formatted),
    subject: text(get('Subject')) ?? '',
    text: text(get('Text')),
    html: text(get('HTML')),
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
