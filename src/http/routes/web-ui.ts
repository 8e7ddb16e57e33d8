/**
 * The web UI's page and bundle (web-ui.ts), gzipped for browsers that take
 * it; the page gets the UI's own CSP.
 */
import { HttpError } from '../../errors.js';
import type { ApiCall, ApiRoute } from '../api-context.js';
import { uiCsp } from '../web-ui.js';

function serve({ req, res, url, context }: ApiCall): void {
  const asset = context.ui?.get(url.pathname);
  if (!asset) {
    if (url.pathname !== '/') throw new HttpError(404, '404 page not found');
    throw new HttpError(404, 'the web UI is not built (npm run build); the API is at /api/v1/messages');
  }
  if (url.pathname === '/') res.setHeader('Content-Security-Policy', uiCsp(req.headers.host ?? ''));
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? asset.gzip : asset.body;
  res.writeHead(200, {
    'Content-Type': asset.type,
    'Content-Length': body.length,
    Vary: 'Accept-Encoding',
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  });
  res.end(body);
}

export const WEB_UI_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: '/', handle: serve },
  { method: 'GET', path: '/assets/{Asset}', handle: serve },
];
