/**
 * Mailpit's API v1 (its `server/apiv1/`), in Mailpit's shapes
 * (mailpit-shapes.ts) and status codes: the list, search, bulk changes,
 * one message and its parts, send and release, and the service routes.
 */
import { HttpError } from '../../errors.js';
import type { InboxSearch } from '../../inbox/inbox.js';
import type { StoredMessage } from '../../inbox/message-store.js';
import type { ApiCall, ApiRoute } from '../api-context.js';
import { mimeParts } from '../mime-parts.js';
import { allTags, appInformation, fullMessage, headersObject, messagesSummary } from '../mailpit-shapes.js';
import { cleanTag } from '../../inbox/tags.js';
import { OPENAPI } from '../openapi.js';
import { goFields, intParam, isMailAddress, jsonObject } from '../request.js';
import { dispositionOf, json, SANDBOX_CSP, send, sendBytes, text } from '../responses.js';
import { JSON_BODY } from '../router.js';
import { buildSend } from '../send.js';
import { SendError } from '../../errors.js';

/** The largest `POST /api/v1/send` body (attachments come base64 inside it). */
const MAX_SEND_BYTES = 32 * 1024 * 1024;

/** The stored message a route's `{ID}` names (`latest`: the newest); 404 with `missing` when there is none. */
async function entryOf({ context, params, url }: ApiCall): Promise<StoredMessage> {
  const entry = await context.message(params.ID!, url);
  if (!entry) throw new HttpError(404, params.ID === 'latest' ? 'Message not found' : '404 page not found');
  return entry;
}

/** A list page: `start` and `limit` as Mailpit reads them, of the whole inbox or of what `search` matches. */
async function page({ res, url, context }: ApiCall, search?: InboxSearch): Promise<void> {
  const start = intParam(url, 'start', 0);
  const found = await context.page(start, intParam(url, 'limit', 50), search);
  // A large message's brief is all a summary needs: its whole parse is not made for a list.
  await context.inbox.load(...found.messages.filter((e) => e.brief === null));
  json(res, messagesSummary(found, await context.inbox.stats(), start));
}

async function markRead({ res, body, context }: ApiCall): Promise<void> {
  const fields = goFields(body, { Read: 'boolean', IDs: 'string[]', Search: 'string' });
  if (fields.IDs.length > 0 && fields.Search !== '')
    throw new HttpError(400, 'You may specify either IDs or a search query, not both');
  const ids =
    fields.Search !== ''
      ? await context.everyMatch(context.search(fields.Search))
      : fields.IDs.length > 0
        ? fields.IDs
        : null;
  await context.inbox.setRead(ids, fields.Read);
  text(res, 'ok');
}

async function deleteMessages({ res, body, context }: ApiCall): Promise<void> {
  // Mailpit: no IDs (or no body) deletes everything. The empty body satisfies MailHog's clients too.
  const chosen = body === undefined ? [] : goFields(body, { IDs: 'string[]' }).IDs;
  if (chosen.length === 0) await context.inbox.clear();
  else await context.inbox.remove(chosen);
  text(res, '');
}

async function sendMessage({ req, res, body, context }: ApiCall): Promise<void> {
  const submit = context.options.submit;
  if (!submit) throw new HttpError(404, '404 page not found');
  try {
    const built = await buildSend(jsonObject(body));
    json(res, { ID: await submit(built.envelope, built.data, req.socket.remoteAddress ?? '') });
  } catch (err) {
    // Mailpit answers a message it will not send with a JSON error.
    if (err instanceof SendError)
      return send(res, 400, 'application/json', `${JSON.stringify({ Error: err.message })}\n`);
    throw err;
  }
}

async function release(call: ApiCall): Promise<void> {
  const entry = await entryOf(call);
  const relay = call.context.options.release;
  if (!relay) throw new HttpError(400, 'message relay is not enabled: start smtpd-ts with --relay HOST:PORT');
  const body = jsonObject(call.body);
  const to = Array.isArray(body['To']) ? body['To'] : [];
  for (const address of to)
    if (!isMailAddress(address)) throw new HttpError(400, `Invalid email address: ${String(address)}`);
  if (to.length === 0) throw new HttpError(400, 'No valid addresses found');
  try {
    await relay(entry, to as string[], call.req.socket.remoteAddress ?? '');
  } catch (err) {
    if (err instanceof SendError) throw new HttpError(400, err.message);
    throw err;
  }
  text(call.res, 'ok');
}

async function message(call: ApiCall): Promise<void> {
  const entry = await entryOf(call);
  const { inbox, views } = call.context;
  await inbox.setRead([entry.id], true);
  await call.context.heavy([entry], async () => {
    await inbox.load(entry);
    await json(call.res, fullMessage(entry, (await views.preview(entry))?.remote ?? 0));
  });
}

async function raw(call: ApiCall): Promise<void> {
  const entry = await entryOf(call);
  if (call.url.searchParams.get('dl') !== '1')
    return send(call.res, 200, 'text/plain; charset=utf-8', entry.message.data);
  sendBytes(call.res, entry.message.data, {
    type: 'message/rfc822',
    disposition: `attachment; filename="${entry.id}.eml"`,
    csp: SANDBOX_CSP,
  });
}

async function part(call: ApiCall): Promise<void> {
  const entry = await call.context.message(call.params.ID!, call.url);
  const found = entry ? mimeParts(entry.message.data).find((p) => p.partId === call.params.PartID) : undefined;
  if (!found) throw new HttpError(404, '404 page not found');
  sendBytes(call.res, found.content, {
    type: found.contentType || 'application/octet-stream',
    disposition: dispositionOf('', found.fileName),
    csp: SANDBOX_CSP,
  });
}

export const MAILPIT_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/livez', handle: ({ res }) => text(res, '') },
  { method: 'GET', path: '/readyz', handle: ({ res }) => text(res, '') },
  {
    method: 'GET',
    path: '/api/v1/info',
    handle: async ({ res, context }) => json(res, appInformation(await context.inbox.stats(), context.startedAt)),
  },
  { method: 'GET', path: '/api/v1/swagger.json', handle: ({ res }) => json(res, OPENAPI) },
  // Mailpit's web UI configuration: release only with an upstream; no SpamAssassin, no chaos here.
  {
    method: 'GET',
    path: '/api/v1/webui',
    handle: ({ res, context }) =>
      json(res, {
        Label: 'smtpd-ts',
        MessageRelay: { Enabled: context.options.release !== undefined },
        SpamAssassin: false,
        ChaosEnabled: false,
        DuplicatesIgnored: false,
        HideDeleteAllButton: false,
      }),
  },
  // Tags, the mailboxes among them (a mailbox is renamed or taken off only by its rules).
  {
    method: 'GET',
    path: '/api/v1/tags',
    handle: async ({ res, context }) => json(res, allTags(await context.inbox.stats())),
  },
  {
    method: 'PUT',
    path: '/api/v1/tags',
    body: JSON_BODY,
    handle: async ({ res, body, context }) => {
      const { Tags: tags, IDs: ids } = goFields(body, { Tags: 'string[]', IDs: 'string[]' });
      await context.inbox.setTags(ids, tags);
      text(res, 'ok');
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/tags/{Tag}',
    decoded: true,
    body: JSON_BODY,
    handle: async ({ res, body, params, context }) => {
      const { Name: name } = goFields(body, { Name: 'string' });
      if (cleanTag(name) === '') throw new HttpError(400, 'invalid new tag name');
      await context.inbox.renameTag(params.Tag!, name);
      text(res, 'ok');
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/tags/{Tag}',
    decoded: true,
    handle: async ({ res, params, context }) => {
      await context.inbox.deleteTag(params.Tag!);
      text(res, 'ok');
    },
  },
  { method: 'GET', path: '/api/v1/messages', handle: (call) => page(call) },
  { method: 'PUT', path: '/api/v1/messages', body: JSON_BODY, handle: markRead },
  { method: 'DELETE', path: '/api/v1/messages', body: JSON_BODY, handle: deleteMessages },
  {
    method: 'GET',
    path: '/api/v1/search',
    handle: (call) => page(call, call.context.search(call.url.searchParams.get('query') ?? '')),
  },
  {
    method: 'DELETE',
    path: '/api/v1/search',
    handle: async ({ res, url, context }) => {
      await context.inbox.remove(await context.everyMatch(context.search(url.searchParams.get('query') ?? '')));
      text(res, 'ok');
    },
  },
  { method: 'POST', path: '/api/v1/send', body: MAX_SEND_BYTES, handle: sendMessage },
  { method: 'GET', path: '/api/v1/message/{ID}', handle: message },
  {
    method: 'GET',
    path: '/api/v1/message/{ID}/headers',
    handle: async (call) => json(call.res, headersObject((await entryOf(call)).message.data)),
  },
  { method: 'GET', path: '/api/v1/message/{ID}/raw', handle: raw },
  { method: 'GET', path: '/api/v1/message/{ID}/part/{PartID}', handle: part },
  { method: 'POST', path: '/api/v1/message/{ID}/release', body: JSON_BODY, handle: release },
];
