/** Sizes, times and addresses as the UI shows them (as text: Preact never inserts them as HTML). */
import type { Address } from './api.js';

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Today: the time; this year: day and month; else the date. */
export function formatTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (d.toDateString() === now.toDateString())
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return d.toLocaleDateString();
}

export function formatAddress(a: Address | null | undefined): string {
  if (!a) return '';
  return a.Name ? `${a.Name} <${a.Address}>` : a.Address;
}

/** The sender as a list shows it: the name, else the address. */
export function senderName(a: Address | null): string {
  return a ? a.Name || a.Address || '(no sender)' : '(no sender)';
}

/** Image types the browser shows as thumbnails (SVG is left out: it is a document). */
export function isPicture(type: string): boolean {
  return /^image\/(?:png|jpeg|gif|webp|avif|bmp)$/i.test(type);
}
