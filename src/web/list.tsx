/** The message list: newest first, a page at a time; every field is text. */
import type { Page, Summary } from './api.js';
import { PAGE_SIZE } from './api.js';
import { formatSize, formatTime, senderName } from './format.js';

interface ListProps {
  readonly page: Page | null;
  readonly selected: string | null;
  readonly query: string;
  /** Mailbox badges are shown when all mailboxes are listed. */
  readonly showMailbox: boolean;
  readonly onPage: (start: number) => void;
}

function Row({
  m,
  selected,
  showMailbox,
}: {
  readonly m: Summary;
  readonly selected: boolean;
  readonly showMailbox: boolean;
}) {
  const label = `${m.Read ? '' : 'Unread. '}From ${senderName(m.From)}: ${m.Subject || '(no subject)'}`;
  return (
    <li class={`row${m.Read ? '' : ' unread'}${selected ? ' selected' : ''}`} data-id={m.ID}>
      <a href={`#/message/${m.ID}`} aria-label={label} aria-current={selected ? 'true' : undefined}>
        <span class="row-top">
          <span class="from">{senderName(m.From)}</span>
          {showMailbox && m.Tags.length > 0 ? <span class="mailbox-badge">{m.Tags[0]}</span> : null}
          <time dateTime={m.Created} title={new Date(m.Created).toLocaleString()}>
            {formatTime(m.Created)}
          </time>
        </span>
        <span class="subject">
          {m.Attachments > 0 ? (
            <span class="clip" title={`${m.Attachments} attachment${m.Attachments === 1 ? '' : 's'}`}>
              <svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true">
                <path
                  d="M10.5 4.5 5.3 9.7a1.5 1.5 0 0 0 2.1 2.1l5.6-5.6a3 3 0 0 0-4.2-4.2L3.2 7.6a4.5 4.5 0 0 0 6.4 6.4l4.2-4.2"
                  fill="none"
                  stroke="currentColor"
                  stroke-width="1.4"
                  stroke-linecap="round"
                />
              </svg>{' '}
              <span class="visually-hidden">Attachments: </span>
            </span>
          ) : null}
          {m.Subject || '(no subject)'}
        </span>
        <span class="row-bottom">
          <span class="snippet">{m.Snippet}</span>
          <span class="size">{formatSize(m.Size)}</span>
        </span>
      </a>
    </li>
  );
}

export function MessageList({ page, selected, query, showMailbox, onPage }: ListProps) {
  if (page === null) return <p class="empty">Loading…</p>;
  const count = page.messages_count;
  const first = count === 0 ? 0 : page.start + 1;
  const last = page.start + page.messages.length;
  return (
    <>
      <nav class="pager" aria-label="Pages">
        <span class="range" aria-live="polite">
          {count === 0 ? (query ? 'No message matches' : 'No messages yet') : `${first}–${last} of ${count}`}
        </span>
        <button type="button" disabled={page.start === 0} onClick={() => onPage(Math.max(0, page.start - PAGE_SIZE))}>
          Newer
        </button>
        <button type="button" disabled={last >= count} onClick={() => onPage(page.start + PAGE_SIZE)}>
          Older
        </button>
      </nav>
      {count === 0 && !query ? (
        <p class="empty">Mail sent to this sink over SMTP shows here at once, without a reload.</p>
      ) : null}
      <ul class="messages" aria-label="Messages">
        {page.messages.map((m) => (
          <Row key={m.ID} m={m} selected={m.ID === selected} showMailbox={showMailbox} />
        ))}
      </ul>
    </>
  );
}
