/**
 * MailHog's API (mailhog/MailHog-Server's `api/v1.go` and `api/v2.go`), in
 * its shapes (mailhog-shapes.ts): its lists and search, and one message by
 * its ID, which is ours with `@hostname` after it.
 */
import { HttpError, SendError } from '../../errors.js';
import type { StoredMessage } from '../../inbox/message-store.js';
import type { ApiCall, ApiRoute } from '../api-context.js';
import { mailhogMessage, mailhogMessages, mailhogPart, mailhogSearch } from '../mailhog-shapes.js';
import { nulRefusal } from '../../inbox/search.js';
import { goFields, isMailAddress, mailhogStartLimit } from '../request.js';
import { JSON_BODY } from '../router.js';
import { json, MAILHOG_JSON, SANDBOX_CSP, send, sendBytes } from '../responses.js';

/** MailHog's message ID: ours, then `@` and a host name, which is not checked. */
const MAILHOG_ID = { ID: '[A-Za-z0-9]+(?:@[^/]*)?' };

/** The stored message a MailHog route names; 404 when there is none (MailHog has no `latest`). */
async function entryOf({ context, params }: ApiCall): Promise<StoredMessage> {
  const id = params.ID!.split('@')[0]!;
  const entry = id === 'latest' ? undefined : await context.inbox.get(id);
  if (!entry) throw new HttpError(404, '404 page not found');
  return entry;
}

/**
 * MailHog's release (`POST /api/v1/messages/{ID}/release`, its
 * ReleaseConfig body): the message to `Email` through an SMTP server the
 * body names. Here the only server a request may name is the relay's
 * upstream (`--relay HOST:PORT`), and the message passes what relayed SMTP
 * mail passes (recipient domains, size, AUTH where SMTP requires it);
 * MailHog's saved servers (`Save`, `Name`) are not kept, and the upstream's
 * login is the operator's (`--relay-user`), not the request's. 200 with an
 * empty body when sent, 500 when the upstream refuses (as MailHog answers),
 * 400 for the rest.
 */
async function release(call: ApiCall): Promise<void> {
  const entry = await entryOf(call);
  const { release: relay, releaseTo } = call.context.options;
  if (!relay || !releaseTo) throw new HttpError(400, 'release is not enabled: start smtpd-ts with --relay HOST:PORT');
  const cfg = goFields(call.body, { Host: 'string', Port: 'string', Email: 'string', Save: 'boolean', Name: 'string' });
  if (cfg.Save || cfg.Name !== '')
    throw new HttpError(400, 'saved release servers are not kept here: give Host and Port');
  const target = `${cfg.Host}:${cfg.Port}`;
  if (target !== releaseTo)
    throw new HttpError(400, `release goes only to the --relay upstream (${releaseTo}), not ${target}`);
  if (!isMailAddress(cfg.Email)) throw new HttpError(400, `Invalid email address: ${cfg.Email}`);
  try {
    await relay(entry, [cfg.Email], call.req.socket.remoteAddress ?? '');
  } catch (err) {
    if (err instanceof SendError) return send(call.res, 500, MAILHOG_JSON, `${err.message.split('\n')[0]}\n`);
    throw err;
  }
  send(call.res, 200, MAILHOG_JSON, '');
}

async function list({ res, url, context }: ApiCall): Promise<void> {
  const { start, limit } = mailhogStartLimit(url);
  const { messages, matched } = await context.page(start, limit);
  const hostname = context.options.hostname;
  return context.heavy(messages, () =>
    json(res, mailhogMessages(matched.total, start, messages, hostname), MAILHOG_JSON),
  );
}

async function search({ res, url, context }: ApiCall): Promise<void> {
  const { start, limit } = mailhogStartLimit(url);
  const query = url.searchParams.get('query') ?? '';
  const search = mailhogSearch(url.searchParams.get('kind') ?? '', query);
  if (search === null || query === '') return send(res, 400, 'text/plain; charset=utf-8', '');
  const nul = nulRefusal(query);
  if (nul !== null) throw new HttpError(400, nul);
  const { messages, matched } = await context.page(start, limit, search);
  const hostname = context.options.hostname;
  return context.heavy(messages, () => json(res, mailhogMessages(matched.total, start, messages, hostname)));
}

async function part(call: ApiCall): Promise<void> {
  const entry = await entryOf(call);
  const piece = mailhogPart(entry, Number(call.params.N));
  if (!piece) throw new HttpError(404, '404 page not found');
  sendBytes(call.res, piece.body, {
    type: piece.type,
    disposition: `attachment; filename="${entry.id}-part-${call.params.N}"`,
    csp: SANDBOX_CSP,
  });
}

const byId = { decoded: true, params: MAILHOG_ID } as const;

export const MAILHOG_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/api/v2/messages', handle: list },
  { method: 'GET', path: '/api/v2/search', handle: search },
  {
    method: 'GET',
    path: '/api/v1/messages/{ID}',
    ...byId,
    handle: async (call) => {
      const entry = await entryOf(call);
      const hostname = call.context.options.hostname;
      return call.context.heavy([entry], () => json(call.res, mailhogMessage(entry, hostname), MAILHOG_JSON));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/messages/{ID}',
    ...byId,
    handle: async (call) => {
      await call.context.inbox.remove([(await entryOf(call)).id]);
      send(call.res, 200, MAILHOG_JSON, '');
    },
  },
  {
    method: 'GET',
    path: '/api/v1/messages/{ID}/download',
    ...byId,
    handle: async (call) => {
      const entry = await entryOf(call);
      sendBytes(call.res, entry.message.data, {
        type: 'message/rfc822',
        disposition: `attachment; filename="${entry.id}.eml"`,
      });
    },
  },
  { method: 'GET', path: '/api/v1/messages/{ID}/mime/part/{N}/download', ...byId, handle: part },
  { method: 'POST', path: '/api/v1/messages/{ID}/release', ...byId, body: JSON_BODY, handle: release },
];
