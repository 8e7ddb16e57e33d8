/**
 * The inbox: a header with the search, the list, and the open message.
 * Live: the WebSocket's events (events.ts) reload the page shown, a few
 * times a second at most; the tab title counts the unread.
 * The address bar holds the open message (`#/message/ID`) and the search
 * (`?q=`), so that back, forward and reload work.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Message, Page, Summary } from './api.js';
import * as api from './api.js';
import { followEvents, type InboxEvent } from './events.js';
import { senderName } from './format.js';
import { MessageList } from './list.js';
import { Viewer } from './viewer.js';

/** Events reload the list at most this often, in ms. */
const RELOAD_MS = 200;

function routeId(): string | null {
  const m = /^#\/message\/([A-Za-z0-9]+)$/.exec(location.hash);
  return m ? m[1]! : null;
}

function initialQuery(): string {
  return new URLSearchParams(location.search).get('q') ?? '';
}

function initialMailbox(): string {
  return new URLSearchParams(location.search).get('mailbox') ?? '';
}

/** The address bar's `?q=` and `?mailbox=`, so that reload keeps them. */
function keepInAddress(name: string, value: string): void {
  const url = new URL(location.href);
  if (value) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  history.replaceState(null, '', url);
}

function notifyOn(): boolean {
  return (
    typeof Notification !== 'undefined' &&
    Notification.permission === 'granted' &&
    localStorage.getItem('notify') === '1'
  );
}

/** Keys that act on the inbox; not while typing in a field (but Escape leaves it). */
function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
}

export function App() {
  const [query, setQuery] = useState(initialQuery);
  const [draft, setDraft] = useState(initialQuery);
  const [start, setStart] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  const [openId, setOpenId] = useState<string | null>(routeId);
  const [message, setMessage] = useState<Message | null>(null);
  const [gone, setGone] = useState(false);
  const [error, setError] = useState('');
  const [live, setLive] = useState(false);
  const [canRelease, setCanRelease] = useState(false);
  const [notify, setNotify] = useState(notifyOn);
  const [mailbox, setMailbox] = useState(initialMailbox);
  const [mailboxes, setMailboxes] = useState<Record<string, number>>({});
  const searchRef = useRef<HTMLInputElement>(null);
  const state = useRef({ query, start, openId, notify, mailbox });
  state.current = { query, start, openId, notify, mailbox };

  const reload = useCallback(async () => {
    try {
      const { query: q, start: s, mailbox: box } = state.current;
      const [next, counts] = await Promise.all([api.listMessages(api.withMailbox(box, q), s), api.mailboxCounts()]);
      setMailboxes(counts);
      // A page past the end (after deletes) goes back to the last one there is.
      if (next.messages.length === 0 && s > 0 && next.messages_count > 0) {
        setStart(Math.max(0, Math.floor((next.messages_count - 1) / api.PAGE_SIZE) * api.PAGE_SIZE));
        return;
      }
      setPage(next);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  // A burst of events is one reload, RELOAD_MS after the first.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const scheduleReload = useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void reload();
    }, RELOAD_MS);
  }, [reload]);

  useEffect(() => {
    void reload();
  }, [query, start, mailbox, reload]);

  useEffect(() => {
    api.relayEnabled().then(setCanRelease, () => setCanRelease(false));
    const onEvent = (e: InboxEvent): void => {
      if (e.Type === 'stats') return;
      if (e.Type === 'new' && state.current.notify) {
        const m = e.Data as Summary;
        new Notification(`New mail from ${senderName(m.From)}`, { body: m.Subject, tag: m.ID });
      }
      if ((e.Type === 'delete' && (e.Data as { ID: string }).ID === state.current.openId) || e.Type === 'truncate')
        setGone(state.current.openId !== null);
      if (e.Type === 'delete') {
        const id = (e.Data as { ID: string }).ID;
        // Gone at once from the list shown, before the reload fills the page again.
        setPage((p) => (p ? { ...p, messages: p.messages.filter((m) => m.ID !== id) } : p));
      }
      scheduleReload();
    };
    const stop = followEvents(onEvent, (connected) => {
      setLive(connected);
      // Events missed while the socket was down: the page is read again.
      if (connected) scheduleReload();
    });
    const onHash = (): void => setOpenId(routeId());
    addEventListener('hashchange', onHash);
    return () => {
      stop();
      removeEventListener('hashchange', onHash);
    };
  }, [scheduleReload]);

  useEffect(() => {
    setGone(false);
    if (openId === null) {
      setMessage(null);
      return;
    }
    let current = true;
    api.getMessage(openId).then(
      (m) => {
        if (!current) return;
        setMessage(m);
        scheduleReload();
      },
      (e: Error) => {
        if (!current) return;
        setMessage(null);
        setGone(true);
        setError(e.message);
      },
    );
    return () => {
      current = false;
    };
  }, [openId, scheduleReload]);

  useEffect(() => {
    const unread = page?.unread ?? 0;
    document.title = unread > 0 ? `(${unread}) smtpd-ts` : 'smtpd-ts';
  }, [page]);

  const open = (id: string | null): void => {
    location.hash = id === null ? '#/' : `#/message/${id}`;
  };

  const neighbour = (step: number): string | null => {
    const list = page?.messages ?? [];
    if (list.length === 0) return null;
    const at = list.findIndex((m) => m.ID === openId);
    if (at < 0) return list[0]!.ID;
    return list[Math.min(list.length - 1, Math.max(0, at + step))]!.ID;
  };

  const remove = async (id: string): Promise<void> => {
    const next = neighbour(1) === id ? neighbour(-1) : neighbour(1);
    await api.deleteMessages([id]).catch((e: Error) => setError(e.message));
    open(next === id ? null : next);
  };

  const focusRow = (id: string | null): void => {
    if (id === null) return;
    requestAnimationFrame(() =>
      document.querySelector<HTMLAnchorElement>(`li[data-id="${CSS.escape(id)}"] a`)?.focus(),
    );
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (typing(e)) {
        if (e.key === 'Escape') (e.target as HTMLElement).blur();
        return;
      }
      const id = state.current.openId;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault();
        const next = neighbour(1);
        open(next);
        focusRow(next);
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault();
        const prev = neighbour(-1);
        open(prev);
        focusRow(prev);
      } else if ((e.key === 'Delete' || e.key === '#') && id !== null) {
        e.preventDefault();
        void remove(id);
      } else if (e.key === 'u' && id !== null) {
        void api.setRead([id], false);
      } else if (e.key === 'Escape' && id !== null) {
        open(null);
        focusRow(id);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  const search = (e: Event): void => {
    e.preventDefault();
    setStart(0);
    setQuery(draft.trim());
    keepInAddress('q', draft.trim());
  };

  const chooseMailbox = (name: string): void => {
    setStart(0);
    setMailbox(name);
    keepInAddress('mailbox', name);
  };
  const names = Object.keys(mailboxes).sort();
  if (mailbox && !names.includes(mailbox)) names.unshift(mailbox);

  const toggleNotify = async (): Promise<void> => {
    if (notify) {
      localStorage.setItem('notify', '0');
      setNotify(false);
      return;
    }
    const permission = await Notification.requestPermission();
    localStorage.setItem('notify', permission === 'granted' ? '1' : '0');
    setNotify(permission === 'granted');
  };

  const clearAll = (): void => {
    if (!confirm(`Delete all ${page?.total ?? ''} messages?`)) return;
    api.deleteAll().then(
      () => open(null),
      (e: Error) => setError(e.message),
    );
  };

  return (
    <div class={`app${openId ? ' reading' : ''}`}>
      <header class="top">
        <h1>
          <a href="#/">smtpd-ts</a>
        </h1>
        {names.length > 0 ? (
          <label class="mailbox-pick">
            <span class="visually-hidden">Mailbox</span>
            <select value={mailbox} onChange={(e) => chooseMailbox(e.currentTarget.value)}>
              <option value="">All mailboxes</option>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n} ({mailboxes[n] ?? 0})
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <form role="search" class="search" onSubmit={search}>
          <label for="search" class="visually-hidden">
            Search
          </label>
          <input
            id="search"
            ref={searchRef}
            type="search"
            placeholder="Search: from:a@b subject:reset is:unread has:attachment words…"
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
          />
          <button type="submit">Search</button>
        </form>
        <div class="actions">
          <span class={`live${live ? ' on' : ''}`} title={live ? 'Live: new mail shows at once' : 'Reconnecting…'}>
            {live ? '● live' : '○ offline'}
          </span>
          <button type="button" onClick={() => api.markAllRead().catch((e: Error) => setError(e.message))}>
            Mark all read
          </button>
          <button type="button" class="delete" onClick={clearAll} disabled={(page?.total ?? 0) === 0}>
            Delete all
          </button>
          {typeof Notification !== 'undefined' ? (
            <button type="button" aria-pressed={notify} onClick={() => void toggleNotify()}>
              Notifications
            </button>
          ) : null}
        </div>
      </header>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <main class="panes">
        <section class="list-pane" aria-label="Inbox">
          <MessageList
            page={page}
            selected={openId}
            query={query || mailbox}
            showMailbox={mailbox === '' && names.length > 0}
            onPage={setStart}
          />
        </section>
        <section class="message-pane" aria-label="Message">
          {gone ? (
            <p class="empty">This message is gone (deleted, or dropped past the inbox's limits).</p>
          ) : message && message.ID === openId ? (
            <Viewer
              message={message}
              canRelease={canRelease}
              onDelete={() => void remove(message.ID)}
              onUnread={() => void api.setRead([message.ID], false)}
              onBack={() => open(null)}
            />
          ) : (
            <p class="empty">
              {openId
                ? 'Loading…'
                : 'Choose a message. Keys: j/k next and previous, / search, Delete, u unread, Esc back.'}
            </p>
          )}
        </section>
      </main>
    </div>
  );
}
