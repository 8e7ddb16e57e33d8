/**
 * The HTML preview of a message (`/view/{ID}.html`), the web UI's frame.
 *
 * What keeps the mail from acting is the browser, told twice: the UI frames
 * the preview in an iframe sandbox with neither `allow-scripts` nor
 * `allow-same-origin`, and the document itself is served with a CSP whose
 * `sandbox` directive does the same (so it is sandboxed also when opened on
 * its own) and whose fetch directives allow no script and, unless the
 * viewer asked for remote content, nothing from outside this server.
 *
 * The rewrite here is for people, not the line of defence: `cid:` images
 * point at the message's own parts, links open in a new tab with
 * `noopener`, and what the sandbox would only block in part is taken out
 * (scripts, event handlers, `javascript:` links, frames, forms' targets,
 * `<meta http-equiv>` refreshes, `<base>`, prefetch hints). It counts the
 * remote resources the mail asks for, which the UI says it blocked.
 */
import render from 'dom-serializer';
import { type ChildNode, type Element, isTag } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import type { StoredMessage } from '../store/message-store.js';
import { mimeParts } from './mime-parts.js';

/** Elements taken out with what they hold. */
const DROPPED = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal']);

/** Attributes whose value is a URL that is fetched (counted as remote when it is one). */
const FETCHED = new Set(['src', 'background', 'poster', 'lowsrc', 'dynsrc', 'data', 'xlink:href']);

/** Attributes whose value is a URL followed when clicked or submitted. */
const FOLLOWED = new Set(['href', 'action', 'formaction', 'cite', 'longdesc', 'ping']);

/** Schemes a followed URL may have; anything else (`javascript:`, `data:`, `vbscript:`, `file:`) is removed. */
const SAFE_LINK = /^(?:https?:|mailto:|tel:|sms:|#|\/\/)/i;

/** A URL that leaves this server: `http:`, `https:` or protocol-relative. */
const REMOTE = /^\s*(?:https?:)?\/\//i;

/** `url(...)` in CSS: the address inside. */
const CSS_URL = /url\(([^()]*)\)/gi;

/** `@import "..."` in CSS, which CSS_URL does not see. */
const CSS_IMPORT = /@import\s+(['"])([^'"]*)\1/gi;

export interface PreviewOptions {
  /** The URL of the part with this Content-ID (no angle brackets), or null when the message has none. */
  readonly cid: (contentId: string) => string | null;
}

export interface Preview {
  readonly html: string;
  /** Remote images, style sheets, fonts and media the mail asks for (blocked unless allowed). */
  readonly remote: number;
}

/** The CSP of the preview: scripts never; remote images, CSS, fonts and media only when allowed. */
export function previewCsp(allowRemote: boolean): string {
  const outside = allowRemote ? ' https: http:' : '';
  return [
    "default-src 'none'",
    `img-src 'self' data:${outside}`,
    `style-src 'self' 'unsafe-inline'${outside}`,
    `font-src 'self' data:${outside}`,
    `media-src 'self'${outside}`,
    "script-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}

function cidTarget(value: string, options: PreviewOptions): string | null {
  const m = /^\s*cid:(.*)$/i.exec(value);
  if (!m) return null;
  let id = m[1]!.trim();
  try {
    id = decodeURIComponent(id);
  } catch {
    // A stray % stays as written.
  }
  return options.cid(id.replace(/^<|>$/g, '')) ?? '';
}

/** CSS text with `cid:` URLs pointed at the parts; counts remote `url()`s and `@import`s. */
function rewriteCss(css: string, options: PreviewOptions, count: { remote: number }): string {
  const out = css.replace(CSS_URL, (whole: string, inside: string) => {
    const url = inside.trim().replace(/^(['"])(.*)\1$/s, '$2');
    if (REMOTE.test(url)) count.remote++;
    const target = cidTarget(url, options);
    return target === null ? whole : `url("${target}")`;
  });
  for (const m of out.matchAll(CSS_IMPORT)) if (REMOTE.test(m[2]!)) count.remote++;
  return out;
}

function rewriteElement(el: Element, options: PreviewOptions, count: { remote: number }): void {
  for (const name of Object.keys(el.attribs)) {
    const value = el.attribs[name]!;
    const lower = name.toLowerCase();
    if (lower.startsWith('on') || lower === 'srcdoc' || lower === 'formtarget') {
      delete el.attribs[name];
    } else if (FETCHED.has(lower)) {
      const target = cidTarget(value, options);
      if (target !== null) el.attribs[name] = target;
      else if (REMOTE.test(value)) count.remote++;
      else if (/^\s*(?:javascript|vbscript):/i.test(value)) delete el.attribs[name];
    } else if (lower === 'srcset') {
      if (value.split(',').some((candidate) => REMOTE.test(candidate))) count.remote++;
    } else if (FOLLOWED.has(lower)) {
      if (!SAFE_LINK.test(value.trim()) && !/^[^:]*$/.test(value)) delete el.attribs[name];
    } else if (lower === 'style') {
      el.attribs[name] = rewriteCss(value, options, count);
    }
  }
  if ((el.name === 'a' || el.name === 'area') && el.attribs['href'] !== undefined) {
    el.attribs['target'] = '_blank';
    el.attribs['rel'] = 'noopener noreferrer';
  }
  if (el.name === 'form') delete el.attribs['target'];
}

/** Whether an element is dropped with what it holds. */
function dropped(el: Element, count: { remote: number }): boolean {
  if (DROPPED.has(el.name)) return true;
  if (el.name === 'meta') return el.attribs['http-equiv'] !== undefined;
  if (el.name === 'link') {
    // Style sheets stay (the CSP decides whether a remote one loads); hints and icons go.
    const stylesheet = (el.attribs['rel'] ?? '').toLowerCase().split(/\s+/).includes('stylesheet');
    if (stylesheet && REMOTE.test(el.attribs['href'] ?? '')) count.remote++;
    return !stylesheet;
  }
  return false;
}

/** The message's HTML as the preview frame shows it. */
export function previewHtml(html: string, options: PreviewOptions): Preview {
  const doc = parseDocument(html, { lowerCaseTags: true, lowerCaseAttributeNames: true });
  const count = { remote: 0 };
  const visit = (nodes: ChildNode[]): void => {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (!isTag(node)) continue;
      if (dropped(node, count)) {
        nodes.splice(i, 1);
        continue;
      }
      rewriteElement(node, options, count);
      if (node.name === 'style') {
        for (const child of node.children)
          if (child.type === 'text') child.data = rewriteCss(child.data, options, count);
      }
      visit(node.children);
    }
  };
  visit(doc.children);
  return { html: render(doc, { encodeEntities: 'utf8', decodeEntities: true }), remote: count.remote };
}

/** The preview of a message's HTML, its `cid:` images pointed at its own parts. */
export function preview(entry: StoredMessage, html: string): { html: string; remote: number } {
  let parts: ReturnType<typeof mimeParts> | null = null;
  return previewHtml(html, {
    cid: (contentId) => {
      parts ??= mimeParts(entry.message.data);
      const part = parts.find((p) => p.contentId === contentId);
      return part ? `/api/v1/message/${entry.id}/part/${part.partId}` : null;
    },
  });
}
