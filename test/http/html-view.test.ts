/**
 * The preview's rewrite (src/http/html-view.ts): what it takes out, what it
 * points at the message's parts, what it counts as remote, and the CSP the
 * preview is served with. The browser's side is test/web/web-ui.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { previewCsp, previewHtml } from '../../src/http/html-view.js';

const cid = (id: string) => (id === 'logo@x' ? '/api/v1/message/M/part/2' : null);

describe('the HTML preview', () => {
  it('takes out scripts, handlers, frames, refreshes and javascript: links, and keeps the text', () => {
    const { html } = previewHtml(
      '<meta http-equiv="refresh" content="0;url=http://x/"><base href="http://x/"><script>alert(1)</script>' +
        '<p onclick="alert(1)" ONMOUSEOVER="x()">Hello &amp; welcome</p><iframe src="http://x/"></iframe>' +
        '<a href="javascript:alert(1)">a</a><a href="JaVa\tScript:alert(1)">b</a><a href="data:text/html,x">c</a>' +
        '<a href="https://example.test/?a=1&amp;b=2">ok</a><a href="mailto:a@b">m</a><a href="#top">t</a>' +
        '<link rel="prefetch" href="http://x/"><form action="javascript:x()" target="_top"><input></form>',
      { cid },
    );
    assert.doesNotMatch(html, /script|onclick|onmouseover|iframe|refresh|<base|prefetch|data:text|target="_top"/i);
    assert.match(html, /<p>Hello &amp; welcome<\/p>/);
    assert.match(html, /<a>a<\/a><a>b<\/a><a>c<\/a>/);
    assert.match(html, /<a href="https:\/\/example.test\/\?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">ok/);
    assert.match(html, /href="mailto:a@b" target="_blank"/);
    assert.match(html, /<form><input><\/form>/);
  });

  it('points cid: images at the message’s parts, in attributes and CSS, and counts remote resources', () => {
    const { html, remote } = previewHtml(
      '<style>@import "https://x/a.css"; .a { background: url( "http://x/b.png" ) }</style>' +
        '<img src="cid:logo@x"><img src="cid:%3Clogo@x%3E"><img src="cid:missing">' +
        '<img src="//x/c.png"><img srcset="a.png 1x, https://x/d.png 2x"><div style="background:url(cid:logo@x)">' +
        '<link rel="stylesheet" href="https://x/e.css"><img src="data:image/png;base64,AAAA"><img src="local.png">',
      { cid },
    );
    assert.equal((html.match(/src="\/api\/v1\/message\/M\/part\/2"/g) ?? []).length, 2);
    assert.match(html, /<img src="">/, 'an unknown cid shows nothing rather than a remote guess');
    assert.match(html, /style="background:url\(&quot;\/api\/v1\/message\/M\/part\/2&quot;\)"/);
    assert.match(html, /<link rel="stylesheet" href="https:\/\/x\/e.css">/, 'the CSP decides whether it loads');
    assert.equal(remote, 5, '@import, url(), //x, srcset, the style sheet');
  });

  it('cleans any depth of nesting in one pass, without a stack: 20,000 open <div>s, unclosed tags, stray ends', () => {
    // The tree walk overflowed the call stack here, and htmlparser2's Parser
    // keeps its open elements with unshift (quadratic in the depth).
    const deep = previewHtml(`${'<div>'.repeat(20_000)}<img src=x onerror=alert(1)>deep${'</div>'.repeat(20_000)}`, {
      cid,
    });
    assert.equal((deep.html.match(/<div>/g) ?? []).length, 20_000);
    assert.match(deep.html, /<img src="x">deep<\/div>/);
    const unclosed = previewHtml('<div><b>x</b><i>'.repeat(50_000), { cid });
    assert.equal(unclosed.html, '<div><b>x</b><i>'.repeat(50_000));
    const stray = previewHtml(`${'</x>'.repeat(30_000)}<p>kept</p>`, { cid });
    assert.equal(stray.html, `${'</x>'.repeat(30_000)}<p>kept</p>`);
  });

  it('drops what a dropped element holds up to its own end tag, nested ones of its name counted', () => {
    const { html } = previewHtml(
      '<object><object><img src=a></object><img src=b></object><p>after</p><iframe><p>never</p>' +
        '<svg><rect/></svg><x-y z="1" bad"name=2>t</x-y>',
      { cid },
    );
    assert.equal(html, '<p>after</p>');
    const rest = previewHtml('<svg><rect /></svg><x-y z="1">t</x-y><a b=\'"><script>\'>q</a>', { cid });
    assert.equal(rest.html, '<svg><rect /></svg><x-y z="1">t</x-y><a b="&quot;><script>">q</a>');
  });

  it('is served with a CSP that sandboxes it and allows no script, and remote content only when asked', () => {
    for (const remote of [false, true]) {
      const csp = previewCsp(remote);
      assert.match(csp, /script-src 'none'/);
      assert.match(csp, /sandbox allow-popups allow-popups-to-escape-sandbox$/);
      assert.doesNotMatch(csp, /allow-scripts|allow-same-origin|unsafe-eval/);
      assert.equal(/img-src [^;]*https:/.test(csp), remote);
      assert.equal(/style-src [^;]*http:/.test(csp), remote);
      assert.equal(/font-src [^;]*https:/.test(csp), remote);
    }
  });
});
