/**
 * The web UI's files: the page at `/` and the bundle `npm run build` makes
 * from src/web/ (esbuild, into dist/web/), read once and kept in memory,
 * gzipped once for browsers that take it. Nothing is fetched from
 * elsewhere: the UI works offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
}

/** The bundle's files, by the name they are served under (`/assets/NAME`). */
const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** The page: the bundle does the rest. The CSP below allows only this server's own files. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>smtpd-ts</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css">
<script type="module" src="assets/app.js"></script>
</head>
<body>
<div id="app"><noscript>The smtpd-ts inbox needs JavaScript; the API is at api/v1/messages.</noscript></div>
</body>
</html>
`;

/** The UI's own CSP: its scripts and styles from this server only; frames only the preview; WebSocket to itself. */
export function uiCsp(host: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://${host}`,
    "frame-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function asset(type: string, body: Buffer): Asset {
  return { type, body, gzip: gzipSync(body, { level: 9 }) };
}

/** Where the bundle is: dist/web/ beside the compiled server, or the repository's dist/web/ when run from src/. */
function bundleDir(): string | null {
  for (const candidate of ['../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}app.js`)) return dir;
  }
  return null;
}

export class WebUi {
  private constructor(private readonly assets: ReadonlyMap<string, Asset>) {}

  /** The UI's files, or null when the bundle was not built (`npm run build`). */
  static load(): WebUi | null {
    const dir = bundleDir();
    if (dir === null) return null;
    const assets = new Map<string, Asset>([['/', asset('text/html; charset=utf-8', Buffer.from(PAGE))]]);
    for (const [name, type] of Object.entries(FILES)) {
      assets.set(`/assets/${name}`, asset(type, readFileSync(`${dir}${name}`)));
    }
    return new WebUi(assets);
  }

  /** The file served at `path`, or undefined. */
  get(path: string): Asset | undefined {
    return this.assets.get(path);
  }
}
