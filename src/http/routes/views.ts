/**
 * Mailpit's `/view/` routes: a message's text, and its HTML cleaned in the
 * view worker (html-view.ts) and served under a CSP that blocks scripts and,
 * unless `?remote=1`, remote content.
 */
import { HttpError } from '../../errors.js';
import type { StoredMessage } from '../../inbox/message-store.js';
import { bodyBytes } from '../../mime/parse-message.js';
import type { ApiCall, ApiRoute } from '../api-context.js';
import { previewCsp } from '../html-view.js';
import { sendBytes, text } from '../responses.js';

/** Runs `show` for the message `{ID}` names, with its parse, within the response budget. */
async function withParse(call: ApiCall, show: (entry: StoredMessage) => Promise<void> | void): Promise<void> {
  const { inbox } = call.context;
  const entry = await call.context.message(call.params.ID!, call.url);
  if (!entry) throw new HttpError(404, 'Message not found');
  // The parse and the cleaned HTML are the message's size again: within the budget, as the JSON routes.
  return call.context.heavy([entry], async () => {
    await inbox.load(entry);
    await show(entry);
  });
}

export const VIEW_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/view/{ID}.txt',
    handle: (call) =>
      withParse(call, (entry) => {
        const parsed = entry.parsed;
        text(call.res, (parsed && bodyBytes(parsed, 'text')) ?? parsed?.text ?? '');
      }),
  },
  {
    method: 'GET',
    path: '/view/{ID}.html',
    handle: (call) =>
      withParse(call, async (entry) => {
        const preview = call.context.views.preview(entry);
        if (!preview) throw new HttpError(404, 'Message does not contain HTML');
        const cleaned = await preview;
        call.res.setHeader('X-DNS-Prefetch-Control', 'off');
        sendBytes(call.res, typeof cleaned.html === 'string' ? Buffer.from(cleaned.html) : cleaned.html, {
          type: 'text/html; charset=utf-8',
          csp: previewCsp(call.url.searchParams.get('remote') === '1'),
        });
      }),
  },
];
