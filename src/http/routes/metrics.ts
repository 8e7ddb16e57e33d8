/**
 * `GET /metrics` beside the API with `--metrics` (no address): the figures
 * in Prometheus's text format (metrics.ts); 404 without the flag. Guarded
 * as every route is (Host, auth): a scraper sends the inbox's password.
 */
import { HttpError } from '../../errors.js';
import type { ApiRoute } from '../api-context.js';

export const METRICS_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/metrics',
    handle: async ({ res, context }) => {
      const metrics = context.options.metrics;
      if (!metrics) throw new HttpError(404, 'no metrics: start the sink with --metrics');
      const body = await metrics.text();
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  },
];
