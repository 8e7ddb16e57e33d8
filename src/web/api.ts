/**
 * The inbox API as the UI uses it: Mailpit's v1 routes (src/http/), typed
 * with the fields the UI reads.
 */
export interface Address {
  readonly Name: string;
  readonly Address: string;
}

export interface Summary {
  readonly ID: string;
  readonly Read: boolean;
  readonly From: Address | null;
  readonly To: readonly Address[];
  readonly Subject: string;
  readonly Created: string;
  readonly Size: number;
  readonly Attachments: number;
  readonly Snippet: string;
  /** The mailbox, as Mailpit's tag (one at most). */
  readonly Tags: readonly string[];
}

export interface Page {
  readonly total: number;
  readonly unread: number;
  readonly messages_count: number;
  readonly start: number;
  readonly messages: readonly Summary[];
}

export interface Attachment {
  readonly PartID: string;
  readonly FileName: string;
  readonly ContentType: string;
  readonly ContentID: string;
  readonly Size: number;
}

export interface DialogueLine {
  readonly at: string;
  readonly dir: 'client' | 'server' | 'event';
  readonly text: string;
}

/** What only smtpd-ts knows of a message. */
export interface Session {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  readonly mailOptions: readonly string[];
  readonly rcptOptions: readonly string[];
  readonly helo: string;
  readonly peer: { readonly address: string; readonly port: number };
  readonly tls: { readonly protocol: string; readonly cipher: string } | null;
  readonly authUser: string | null;
  readonly lint: readonly { readonly code: string; readonly severity: string; readonly message: string }[];
  readonly dialogue: readonly DialogueLine[] | null;
  readonly relay: unknown;
  readonly parseError: string | null;
  readonly remoteContent: number;
}

export interface Message {
  readonly ID: string;
  readonly From: Address | null;
  readonly To: readonly Address[];
  readonly Cc: readonly Address[];
  readonly Bcc: readonly string[] | readonly Address[];
  readonly ReplyTo: readonly Address[];
  readonly Subject: string;
  readonly Tags: readonly string[];
  readonly Date: string;
  readonly Text: string;
  readonly HTML: string;
  readonly Size: number;
  readonly Inline: readonly Attachment[];
  readonly Attachments: readonly Attachment[];
  readonly SmtpdTs: Session;
}

/** An answer other than 2xx: its one line of text. */
export class ApiError extends Error {}

/**
 * Where the inbox is served: the page's own folder (`/`, or `/mail/` under
 * `--http-webroot`), so that every path below is taken from there. Read
 * when asked, not at import (the ReDoS test imports every module in Node).
 */
export const base = (): string => new URL('.', location.href).pathname;

/** A path of the API (`/api/v1/...`) under the base. */
const under = (path: string) => `${base()}${path.slice(1)}`;

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(under(path), {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  if (!res.ok) throw new ApiError((await res.text()).trim() || `${res.status} ${res.statusText}`);
  return res;
}

export const PAGE_SIZE = 50;

/** One page of the list, newest first, narrowed by a search in Mailpit's query language when `query` is set. */
export async function listMessages(query: string, start: number): Promise<Page> {
  const params = new URLSearchParams({ start: String(start), limit: String(PAGE_SIZE) });
  if (query.trim() !== '') params.set('query', query);
  const route = query.trim() === '' ? '/api/v1/messages' : '/api/v1/search';
  return (await call('GET', `${route}?${params}`)).json() as Promise<Page>;
}

/** The whole message (the server marks it read). */
export async function getMessage(id: string): Promise<Message> {
  return (await call('GET', `/api/v1/message/${encodeURIComponent(id)}`)).json() as Promise<Message>;
}

export async function getHeaders(id: string): Promise<Record<string, string[]>> {
  const res = await call('GET', `/api/v1/message/${encodeURIComponent(id)}/headers`);
  return res.json() as Promise<Record<string, string[]>>;
}

export async function getRaw(id: string): Promise<string> {
  return (await call('GET', `/api/v1/message/${encodeURIComponent(id)}/raw`)).text();
}

export async function setRead(ids: readonly string[], read: boolean): Promise<void> {
  await call('PUT', '/api/v1/messages', { IDs: ids, Read: read });
}

export async function markAllRead(): Promise<void> {
  await call('PUT', '/api/v1/messages', { Read: true });
}

export async function deleteMessages(ids: readonly string[]): Promise<void> {
  await call('DELETE', '/api/v1/messages', { IDs: ids });
}

export async function deleteAll(): Promise<void> {
  await call('DELETE', '/api/v1/messages');
}

export async function release(id: string, to: readonly string[]): Promise<void> {
  await call('POST', `/api/v1/message/${encodeURIComponent(id)}/release`, { To: to });
}

/** The mailboxes holding mail and their counts (Mailpit's tags in /api/v1/info). */
export async function mailboxCounts(): Promise<Record<string, number>> {
  const info = (await (await call('GET', '/api/v1/info')).json()) as { Tags?: Record<string, number> };
  return info.Tags ?? {};
}

/** The query for a search within a mailbox (`tag:NAME`, as Mailpit's clients filter by tag). */
export function withMailbox(mailbox: string, query: string): string {
  return mailbox === '' ? query : `tag:${mailbox} ${query}`.trim();
}

/** Whether release is on (the sink relays), from Mailpit's web UI configuration. */
export async function relayEnabled(): Promise<boolean> {
  const config = (await (await call('GET', '/api/v1/webui')).json()) as { MessageRelay?: { Enabled?: boolean } };
  return config.MessageRelay?.Enabled === true;
}

export const partUrl = (id: string, part: string): string =>
  under(`/api/v1/message/${encodeURIComponent(id)}/part/${encodeURIComponent(part)}`);

export const previewUrl = (id: string, remote: boolean): string =>
  under(`/view/${encodeURIComponent(id)}.html${remote ? '?remote=1' : ''}`);

export const emlUrl = (id: string): string => under(`/api/v1/message/${encodeURIComponent(id)}/raw?dl=1`);
