/**
 * One message: the HTML preview (sandboxed, see src/http/html-view.ts),
 * text, headers, raw source, attachments, and what only smtpd-ts knows:
 * the envelope, the SMTP dialogue, the lint, TLS and AUTH.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Attachment, Message, Session } from './api.js';
import { emlUrl, getHeaders, getRaw, partUrl, previewUrl, release } from './api.js';
import { formatAddress, formatSize, isPicture } from './format.js';

type Tab = 'html' | 'text' | 'headers' | 'raw' | 'attachments' | 'session';

const WIDTHS = { phone: 375, tablet: 768, desktop: 0 } as const;
type Device = keyof typeof WIDTHS;

interface ViewerProps {
  readonly message: Message;
  readonly canRelease: boolean;
  readonly onDelete: () => void;
  readonly onUnread: () => void;
  readonly onBack: () => void;
}

function Addresses({ label, list }: { readonly label: string; readonly list: readonly unknown[] }) {
  if (list.length === 0) return null;
  const text = list.map((a) => (typeof a === 'string' ? a : formatAddress(a as Message['From']))).join(', ');
  return (
    <>
      <dt>{label}</dt>
      <dd>{text}</dd>
    </>
  );
}

function Preview({ message }: { readonly message: Message }) {
  const [device, setDevice] = useState<Device>('desktop');
  const [remote, setRemote] = useState(false);
  const blocked = message.SmtpdTs.remoteContent;
  return (
    <div class="preview">
      <div class="preview-bar">
        <div class="devices" role="group" aria-label="Preview width">
          {(Object.keys(WIDTHS) as Device[]).map((d) => (
            <button type="button" key={d} aria-pressed={device === d} onClick={() => setDevice(d)}>
              {d[0]!.toUpperCase() + d.slice(1)}
            </button>
          ))}
        </div>
        {remote ? (
          <span class="remote-note">Remote content loaded</span>
        ) : (
          <span class="remote-note">
            {blocked > 0 ? `${blocked} remote resource${blocked === 1 ? '' : 's'} blocked` : 'No remote content'}
            {blocked > 0 ? (
              <button type="button" class="load-remote" onClick={() => setRemote(true)}>
                Load remote content
              </button>
            ) : null}
          </span>
        )}
      </div>
      <div class="frame-box">
        <iframe
          key={`${message.ID}-${remote}`}
          title="HTML preview of the message"
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer"
          src={previewUrl(message.ID, remote)}
          style={WIDTHS[device] ? { width: `${WIDTHS[device]}px` } : { width: '100%' }}
        />
      </div>
    </div>
  );
}

function Headers({ id }: { readonly id: string }) {
  const [headers, setHeaders] = useState<Record<string, string[]> | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    getHeaders(id).then(setHeaders, (e: Error) => setError(e.message));
  }, [id]);
  if (error) return <p role="alert">{error}</p>;
  if (!headers) return <p>Loading…</p>;
  return (
    <table class="headers">
      <tbody>
        {Object.entries(headers).flatMap(([name, values]) =>
          values.map((v, i) => (
            <tr key={`${name}-${i}`}>
              <th scope="row">{name}</th>
              <td>{v}</td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

/** The first RAW_SHOWN characters of the source at once; the rest on request (a 30 MiB message stays usable). */
const RAW_SHOWN = 512 * 1024;

function Raw({ id }: { readonly id: string }) {
  const [raw, setRaw] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  useEffect(() => {
    getRaw(id).then(setRaw, (e: Error) => setRaw(e.message));
  }, [id]);
  if (raw === null) return <p>Loading…</p>;
  return (
    <>
      <pre class="source">{all ? raw : raw.slice(0, RAW_SHOWN)}</pre>
      {!all && raw.length > RAW_SHOWN ? (
        <button type="button" onClick={() => setAll(true)}>
          Show all {formatSize(raw.length)}
        </button>
      ) : null}
    </>
  );
}

function Attachments({ message }: { readonly message: Message }) {
  const list: Attachment[] = [...message.Attachments, ...message.Inline];
  return (
    <ul class="attachments">
      {list.map((a) => {
        const url = partUrl(message.ID, a.PartID);
        const name = a.FileName || `part-${a.PartID}`;
        return (
          <li key={a.PartID}>
            {isPicture(a.ContentType) ? <img class="thumb" src={url} alt="" loading="lazy" /> : null}
            <a href={url} download={name} class="download">
              {name}
            </a>
            <span class="meta">
              {a.ContentType} · {formatSize(a.Size)}
              {a.ContentID ? ` · inline (cid:${a.ContentID})` : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function SessionTab({ s }: { readonly s: Session }) {
  return (
    <div class="session">
      <h3>Envelope</h3>
      <dl>
        <dt>MAIL FROM</dt>
        <dd>
          {s.mailFrom}
          {s.mailOptions.length ? ` ${s.mailOptions.join(' ')}` : ''}
        </dd>
        <dt>RCPT TO</dt>
        <dd>{s.rcptTo.join(', ')}</dd>
        <dt>HELO/EHLO</dt>
        <dd>{s.helo}</dd>
        <dt>Client</dt>
        <dd>
          {s.peer.address}:{s.peer.port}
        </dd>
        <dt>TLS</dt>
        <dd>{s.tls ? `${s.tls.protocol} ${s.tls.cipher}` : 'none (plain text)'}</dd>
        <dt>AUTH</dt>
        <dd>{s.authUser ?? 'not authenticated'}</dd>
        {s.parseError ? (
          <>
            <dt>Parse error</dt>
            <dd>{s.parseError}</dd>
          </>
        ) : null}
      </dl>
      <h3>Lint</h3>
      {s.lint.length === 0 ? (
        <p>No findings.</p>
      ) : (
        <ul class="lint">
          {s.lint.map((f) => (
            <li key={f.code} class={`lint-${f.severity}`}>
              <strong>{f.severity}</strong> <code>{f.code}</code> {f.message}
            </li>
          ))}
        </ul>
      )}
      <h3>SMTP dialogue</h3>
      {s.dialogue ? (
        <pre class="dialogue">
          {s.dialogue.map((l, i) => (
            <span key={i} class={`line-${l.dir}`}>
              {l.dir === 'client' ? 'C: ' : l.dir === 'server' ? 'S: ' : '   '}
              {l.text}
              {'\n'}
            </span>
          ))}
        </pre>
      ) : (
        <p>Not recorded.</p>
      )}
    </div>
  );
}

function Release({ id }: { readonly id: string }) {
  const [to, setTo] = useState('');
  const [status, setStatus] = useState('');
  const submit = (e: Event): void => {
    e.preventDefault();
    const list = to
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    setStatus('Sending…');
    release(id, list).then(
      () => setStatus(`Released to ${list.join(', ')}`),
      (err: Error) => setStatus(`Not released: ${err.message}`),
    );
  };
  return (
    <form class="release" onSubmit={submit}>
      <label>
        Release to <input type="text" value={to} onInput={(e) => setTo(e.currentTarget.value)} required />
      </label>
      <button type="submit">Release</button>
      <span role="status">{status}</span>
    </form>
  );
}

export function Viewer({ message, canRelease, onDelete, onUnread, onBack }: ViewerProps) {
  const hasHtml = message.HTML !== '';
  const files = message.Attachments.length + message.Inline.length;
  const [tab, setTab] = useState<Tab>(hasHtml ? 'html' : 'text');
  const [releasing, setReleasing] = useState(false);
  useEffect(() => {
    setTab(hasHtml ? 'html' : 'text');
    setReleasing(false);
  }, [message.ID]);
  const tabs: [Tab, string][] = [
    ...(hasHtml ? ([['html', 'HTML']] as [Tab, string][]) : []),
    ['text', 'Text'],
    ['headers', 'Headers'],
    ['raw', 'Raw'],
    ...(files > 0 ? ([['attachments', `Attachments (${files})`]] as [Tab, string][]) : []),
    ['session', 'SMTP'],
  ];
  return (
    <article class="viewer" aria-labelledby="subject">
      <div class="toolbar" role="toolbar" aria-label="Message actions">
        <button type="button" class="back" onClick={onBack}>
          ← Inbox
        </button>
        <button type="button" onClick={onUnread}>
          Mark unread
        </button>
        <button type="button" class="delete" onClick={onDelete}>
          Delete
        </button>
        <a class="button" href={emlUrl(message.ID)} download={`${message.ID}.eml`}>
          Download .eml
        </a>
        {canRelease ? (
          <button type="button" aria-expanded={releasing} onClick={() => setReleasing(!releasing)}>
            Release…
          </button>
        ) : null}
      </div>
      {releasing ? <Release id={message.ID} /> : null}
      <header class="message-head">
        <h2 id="subject">{message.Subject || '(no subject)'}</h2>
        <dl>
          <Addresses label="From" list={message.From ? [message.From] : []} />
          <Addresses label="To" list={message.To} />
          <Addresses label="Cc" list={message.Cc} />
          <Addresses label="Bcc" list={message.Bcc} />
          <Addresses label="Reply-To" list={message.ReplyTo} />
          {message.Tags.length > 0 ? (
            <>
              <dt>Mailbox</dt>
              <dd>{message.Tags.join(', ')}</dd>
            </>
          ) : null}
          <dt>Date</dt>
          <dd>{new Date(message.Date).toLocaleString()}</dd>
          <dt>Size</dt>
          <dd>{formatSize(message.Size)}</dd>
        </dl>
      </header>
      <div class="tabs" role="tablist" aria-label="Views of the message">
        {tabs.map(([t, label]) => (
          <button
            type="button"
            role="tab"
            key={t}
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls="tab-panel"
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <section class={`panel panel-${tab}`} id="tab-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'html' ? <Preview key={message.ID} message={message} /> : null}
        {tab === 'text' ? <pre class="text">{message.Text || '(this message has no text part)'}</pre> : null}
        {tab === 'headers' ? <Headers id={message.ID} /> : null}
        {tab === 'raw' ? <Raw id={message.ID} /> : null}
        {tab === 'attachments' ? <Attachments message={message} /> : null}
        {tab === 'session' ? <SessionTab s={message.SmtpdTs} /> : null}
      </section>
    </article>
  );
}
