/**
 * The event streams (event-streams.ts): MailHog's server-sent events, and
 * Mailpit's WebSocket, which the server's `upgrade` event opens; a plain
 * GET there is a bad request, as Mailpit's upgrader answers it.
 */
import { HttpError } from '../../errors.js';
import type { ApiRoute } from '../api-context.js';

export const EVENT_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/api/v1/events', handle: ({ req, res, context }) => context.events.open(req, res) },
  {
    method: 'GET',
    path: '/api/events',
    handle: () => {
      throw new HttpError(400, 'a WebSocket: connect with Upgrade: websocket');
    },
  },
];
