/**
 * Tags, as Mailpit has them: labels a message can have many of (its
 * mailbox, if any, is its one home and shows among its tags too). A message
 * gets them at arrival from its `X-Tags` header and from plus-addressed
 * recipients (`dev+signup@…` is tagged `signup`), each switchable, and from
 * its AUTH user with `--tags-username`; the API sets, renames and deletes
 * them afterwards.
 */
import { firstFieldValues } from '../header-block.js';
import type { Message } from '../message.js';

/** Where tags come from at arrival (`--tags-disable`, `--tags-username`). */
export interface TagSources {
  readonly xTags?: boolean;
  readonly plusAddresses?: boolean;
  readonly username?: boolean;
}

/** The most characters of a tag, and the most tags a message gets at arrival. */
const MAX_TAG_CHARS = 100;
const MAX_TAGS = 32;
/** How much of a message its X-Tags field is looked for in: it is read on the server's thread for every message. */
const HEADER_READ_BYTES = 64 * 1024;

/**
 * A tag as Mailpit's CleanTag makes it: characters outside letters, digits,
 * `-`, `_`, `.`, `@` and space become spaces, runs of space one, trimmed,
 * at most 100 characters; '' when nothing is left.
 */
export function cleanTag(tag: string): string {
  return tag
    .replace(/[^a-zA-Z0-9\-_.@ ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_TAG_CHARS);
}

/** Tags cleaned, empty ones dropped, each once (in any case, the first spelling kept), sorted. */
export function tagList(tags: readonly string[]): string[] {
  const byLower = new Map<string, string>();
  for (const t of tags.map(cleanTag)) if (t !== '' && !byLower.has(t.toLowerCase())) byLower.set(t.toLowerCase(), t);
  return [...byLower.values()].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
}

/** The tags a message gets at arrival. */
export function arrivalTags(message: Message, sources: TagSources = {}): string[] {
  const tags: string[] = [];
  if (sources.xTags ?? true) {
    // Read in the first 64 KiB of the message, and the field's first 4 KiB: a hostile header costs nothing more.
    const end = Math.min(message.data.length, HEADER_READ_BYTES);
    const header = firstFieldValues(message.data, end, 'utf8').get('x-tags') ?? '';
    tags.push(...header.slice(0, 4096).split(','));
  }
  if (sources.plusAddresses ?? true)
    for (const rcpt of message.rcptTos) {
      const m = /^[^@+]*\+([^@]+)@/.exec(rcpt);
      if (m) tags.push(m[1]!);
    }
  if (sources.username && message.authUser) tags.push(message.authUser);
  return tagList(tags).slice(0, MAX_TAGS);
}
