/**
 * Mailpit's API v1 (its `server/apiv1/`), in Mailpit's shapes
 * (mailpit-shapes.ts) and status codes: the list, search, bulk changes,
 * one message and its parts, send and release, and the service routes.
 */
import { HttpError } from '../../errors.js';
import type { StoredMessage } from '../../store/message-store.js';
import type { ApiCall, ApiRoute } from '../api-context.js';
import { mimeParts } from '../mime-parts.js';
import { appInformation, fullMessage, headersObject, messagesSummary } from '../mailpit-shapes.js';
import { OPENAPI } from '../openapi.js';
import { goFields, intParam, jsonObject } from '../request.js';
import { dispositionOf, json, SANDBOX_CSP, send, sendBytes, text } from '../responses.js';
import { JSON_BODY } from '../router.js';
import { buildSend, SendError } from '../send.js';

/** The largest `POST /api/v1/send` body (attachments come base64 inside it). */
const MAX_SEND_BYTES = 32 * 1024 * 1024;

/** The stored message a route's `{ID}` names (`latest`: the newest); 404 with `missing` when there is none. */
function entryOf({ context, params }: ApiCall, missing = '404 page not found'): StoredMessage {
  const entry = context.store.get(params.ID!);
  if (!entry) throw new HttpError(404, params.ID === 'latest' ? 'no messages' : missing);
  return entry;
}

/** A list page: `start` and `limit` as Mailpit reads them, over `found` (a search) or the whole inbox. */
async function page({ res, url, context }: ApiCall, found?: readonly StoredMessage[]): Promise<void> {
  const summary = await messagesSummary(context.store, intParam(url, 'start', 0), intParam(url, 'limit', 50), found);
  json(res, summary);
}

async function markRead({ res, body, context }: ApiCall): Promise<void> {
  const fields = goFields(body, { Read: 'boolean', IDs: 'string[]', Search: 'string' });
  const { store } = context;
  if (fields.IDs.length > 0 && fields.Search !== '')
    throw new HttpError(400, 'You may specify either IDs or a search query, not both');
  const targets =
    fields.Search !== ''
      ? await context.matching(fields.Search)
      : fields.IDs.length > 0
        ? fields.IDs.map((id) => store.get(id)).filter((e): e is StoredMessage => e !== undefined)
        : store.list(0, store.size);
  for (const e of targets) store.setRead(e, fields.Read);
  text(res, 'ok');
}

function deleteMessages({ res, body, context }: ApiCall): void {
  // Mailpit: no IDs (or no body) deletes everything. The empty body satisfies MailHog's clients too.
  const chosen = body === undefined ? [] : goFields(body, { IDs: 'string[]' }).IDs;
  if (chosen.length === 0) context.store.clear();
  else for (const id of chosen) context.store.remove(id);
  text(res, '');
}

async function sendMessage({ req, res, body, context }: ApiCall): Promise<void> {
  const submit = context.options.submit;
  if (!submit) throw new HttpError(404, '404 page not found');
  try {
    const built = await buildSend(jsonObject(body));
    const entry = await submit(built.envelope, built.data, req.socket.remoteAddress ?? '');
    json(res, { ID: entry.id });
  } catch (err) {
    // Mailpit answers a message it will not send with a JSON error.
    if (err instanceof SendError)
      return send(res, 400, 'application/json', `${JSON.stringify({ Error: err.message })}\n`);
    throw err;
  }
}

async function release(call: ApiCall): Promise<void> {
  const entry = entryOf(call);
  const relay = call.context.options.release;
  if (!relay) throw new HttpError(400, 'message relay is not enabled: start smtpd-ts with --relay HOST:PORT');
  const body = jsonObject(call.body);
  const to = Array.isArray(body['To']) ? body['To'] : [];
  for (const address of to)
    if (typeof address !== 'string' || !/^[^\s@<>]+@[^\s@<>]+$/.test(address))
      throw new HttpError(400, `Invalid email address: ${String(address)}`);
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
  const entry = entryOf(call);
  const { store, views } = call.context;
  store.setRead(entry, true);
  await call.context.heavy([entry], async () => {
    await store.load(entry);
    await json(call.res, fullMessage(entry, (await views.preview(entry))?.remote ?? 0));
  });
}

function raw(call: ApiCall): void {
  const entry = entryOf(call);
  if (call.url.searchParams.get('dl') !== '1')
    return send(call.res, 200, 'text/plain; charset=utf-8', entry.message.data);
  sendBytes(call.res, entry.message.data, {
    type: 'message/rfc822',
    disposition: `attachment; filename="${entry.id}.eml"`,
    csp: SANDBOX_CSP,
  });
}

function part(call: ApiCall): void {
  const entry = call.context.store.get(call.params.ID!);
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
    handle: ({ res, context }) => json(res, appInformation(context.store, context.startedAt)),
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
  // Mailpit's tags are our mailboxes.
  {
    method: 'GET',
    path: '/api/v1/tags',
    handle: ({ res, context }) =>
      json(
        res,
        context.store.mailboxes().map((m) => m.name),
      ),
  },
  { method: 'GET', path: '/api/v1/messages', handle: (call) => page(call) },
  { method: 'PUT', path: '/api/v1/messages', body: JSON_BODY, handle: markRead },
  { method: 'DELETE', path: '/api/v1/messages', body: JSON_BODY, handle: deleteMessages },
  {
    method: 'GET',
    path: '/api/v1/search',
    handle: async (call) => page(call, await call.context.matching(call.url.searchParams.get('query') ?? '')),
  },
  {
    method: 'DELETE',
    path: '/api/v1/search',
    handle: async ({ res, url, context }) => {
      for (const e of await context.matching(url.searchParams.get('query') ?? '')) context.store.remove(e.id);
      text(res, 'ok');
    },
  },
  { method: 'POST', path: '/api/v1/send', body: MAX_SEND_BYTES, handle: sendMessage },
  { method: 'GET', path: '/api/v1/message/{ID}', handle: message },
  {
    method: 'GET',
    path: '/api/v1/message/{ID}/headers',
    handle: (call) => json(call.res, headersObject(entryOf(call).message.data)),
  },
  { method: 'GET', path: '/api/v1/message/{ID}/raw', handle: raw },
  { method: 'GET', path: '/api/v1/message/{ID}/part/{PartID}', handle: part },
  { method: 'POST', path: '/api/v1/message/{ID}/release', body: JSON_BODY, handle: release },
];
