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
import { Tokenizer } from 'htmlparser2';

/** Elements taken out with what they hold. */
const DROPPED = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'portal',
  'noembed',
]);

/** HTML's void elements: no content, no end tag. */
const VOID = new Set(
  'area base basefont br col command embed frame hr image img input keygen link meta param source track wbr'.split(' '),
);

/** A tag or attribute name written back; anything else is left out (the tag's content stays). */
const TAG_NAME = /^[a-z][a-z0-9:._-]*$/;
const ATTRIBUTE_NAME = /^[a-z_:][a-z0-9:._-]*$/;

/** Text as HTML: `&`, `<` and `>` escaped. */
export const escapeText = (s: string) =>
  s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
const escapeAttribute = (s: string) => s.replace(/[&"]/g, (c) => (c === '&' ? '&amp;' : '&quot;'));

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

/** An open tag's attributes, in order, the first of a repeated name kept (as browsers do). */
type Attributes = Map<string, string>;

/** Rewrites a kept element's attributes in place (see the file's comment). */
function rewriteElement(name: string, attribs: Attributes, options: PreviewOptions, count: { remote: number }): void {
  for (const [lower, value] of attribs) {
    if (lower.startsWith('on') || lower === 'srcdoc' || lower === 'formtarget') {
      attribs.delete(lower);
    } else if (FETCHED.has(lower)) {
      const target = cidTarget(value, options);
      if (target !== null) attribs.set(lower, target);
      else if (REMOTE.test(value)) count.remote++;
      else if (/^\s*(?:javascript|vbscript):/i.test(value)) attribs.delete(lower);
    } else if (lower === 'srcset') {
      if (value.split(',').some((candidate) => REMOTE.test(candidate))) count.remote++;
    } else if (FOLLOWED.has(lower)) {
      if (!SAFE_LINK.test(value.trim()) && !/^[^:]*$/.test(value)) attribs.delete(lower);
    } else if (lower === 'style') {
      attribs.set(lower, rewriteCss(value, options, count));
    }
  }
  if ((name === 'a' || name === 'area') && attribs.has('href')) {
    attribs.set('target', '_blank');
    attribs.set('rel', 'noopener noreferrer');
  }
  if (name === 'form') attribs.delete('target');
}

/** Whether an element is dropped with what it holds. */
function dropped(name: string, attribs: Attributes, count: { remote: number }): boolean {
  if (DROPPED.has(name)) return true;
  if (name === 'meta') return attribs.has('http-equiv');
  if (name === 'link') {
    // Style sheets stay (the CSP decides whether a remote one loads); hints and icons go.
    const stylesheet = (attribs.get('rel') ?? '').toLowerCase().split(/\s+/).includes('stylesheet');
    if (stylesheet && REMOTE.test(attribs.get('href') ?? '')) count.remote++;
    return !stylesheet;
  }
  return false;
}

/**
 * The message's HTML as the preview frame shows it.
 *
 * One pass over htmlparser2's tokens, written out as they come: no tree
 * and no stack of open elements, so the cost is linear in the HTML however
 * deep it nests (htmlparser2's Parser keeps its stack with `unshift`,
 * quadratic in the depth: 1 MiB of unclosed tags took seconds, and a walk
 * of the tree it builds overflowed the call stack at 20,000 levels). The
 * browser builds the tree from what is written; what it cannot be made to
 * do is the sandbox's and the CSP's business. A dropped element is skipped
 * to its matching end tag, counting nested ones of its name; never closed,
 * it takes the rest of the document with it, as the tree walk did.
 */
export function previewHtml(html: string, options: PreviewOptions): Preview {
  const count = { remote: 0 };
  const out: string[] = [];
  let name = '';
  let attribs: Attributes = new Map();
  let attribute = '';
  let value = '';
  /** The dropped element being skipped, and how many of its name are open inside it. */
  let skipping: { name: string; depth: number } | null = null;
  /** Inside `<style>`: its text is CSS, rewritten and written unescaped. */
  let inStyle = false;
  const slice = (start: number, end: number) => html.slice(start, end);
  const text = (s: string) => {
    if (skipping) return;
    out.push(inStyle ? rewriteCss(s, options, count) : escapeText(s));
  };
  const openEnd = (selfClosing: boolean) => {
    const tag = name;
    name = '';
    if (skipping) {
      if (tag === skipping.name && !VOID.has(tag) && !selfClosing) skipping.depth++;
      return;
    }
    if (!TAG_NAME.test(tag)) return;
    if (dropped(tag, attribs, count)) {
      if (!VOID.has(tag) && !selfClosing) skipping = { name: tag, depth: 1 };
      return;
    }
    rewriteElement(tag, attribs, options, count);
    let written = `<${tag}`;
    for (const [key, v] of attribs) written += ` ${key}="${escapeAttribute(v)}"`;
    out.push(`${written}${selfClosing ? ' />' : '>'}`);
    if (tag === 'style' && !selfClosing) inStyle = true;
  };
  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      ontext: (start, end) => text(slice(start, end)),
      ontextentity: (codePoint) => text(String.fromCodePoint(codePoint)),
      onopentagname: (start, end) => {
        name = slice(start, end).toLowerCase();
        attribs = new Map();
      },
      onattribname: (start, end) => {
        attribute = slice(start, end).toLowerCase();
        value = '';
      },
      onattribdata: (start, end) => {
        value += slice(start, end);
      },
      onattribentity: (codePoint) => {
        value += String.fromCodePoint(codePoint);
      },
      onattribend: () => {
        if (ATTRIBUTE_NAME.test(attribute) && !attribs.has(attribute)) attribs.set(attribute, value);
      },
      onopentagend: () => openEnd(false),
      onselfclosingtag: () => openEnd(true),
      onclosetag: (start, end) => {
        const tag = slice(start, end).toLowerCase();
        if (tag === 'style') inStyle = false;
        if (skipping) {
          if (tag === skipping.name && --skipping.depth === 0) skipping = null;
          return;
        }
        if (TAG_NAME.test(tag) && !VOID.has(tag)) out.push(`</${tag}>`);
      },
      ondeclaration: (start, end) => {
        // The doctype decides the rendering mode; any other declaration goes.
        if (!skipping && /^doctype\b/i.test(slice(start, end))) out.push('<!DOCTYPE html>');
      },
      // Comments (conditional ones too), CDATA and processing instructions go.
      oncomment: () => {},
      oncdata: () => {},
      onprocessinginstruction: () => {},
      onend: () => {},
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return { html: out.join(''), remote: count.remote };
}
