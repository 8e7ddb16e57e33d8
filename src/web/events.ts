/**
 * The inbox's live events: Mailpit's WebSocket (`/api/events`, frames
 * `{Type, Data}`), opened again after a drop, 1 s later and backing off to
 * 10 s.
 */
import { base } from './api.js';

export interface InboxEvent {
  readonly Type: string;
  readonly Data: unknown;
}

export function followEvents(onEvent: (event: InboxEvent) => void, onState: (connected: boolean) => void): () => void {
  let socket: WebSocket | null = null;
  let delay = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const open = (): void => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(`${scheme}//${location.host}${base()}api/events`);
    socket.onopen = () => {
      delay = 1000;
      onState(true);
    };
    socket.onmessage = (e: MessageEvent) => {
      try {
        onEvent(JSON.parse(String(e.data)) as InboxEvent);
      } catch {
        // Not a frame of ours: ignored.
      }
    };
    socket.onclose = () => {
      onState(false);
      if (stopped) return;
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close();
  };
}
