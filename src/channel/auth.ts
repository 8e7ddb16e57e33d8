/**
 * AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195).
 * The exchange is a channel state: after a 334 challenge, the next line is
 * the client's base64 answer (or `*` to cancel). Checking is a pure
 * function of the configured user -> password map; without a map any
 * credentials are accepted, as a debugging sink should. Passwords are never
 * kept past the check, and never traced.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CommandContext, CommandSpec, Session } from './commands.js';
import { R } from './reply.js';
import type { AuthConfig, ChannelConfig } from './config.js';

const MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const;

/** What the next continuation line of an AUTH exchange answers. */
export type AuthStep =
  | { readonly kind: 'plain' }
  | { readonly kind: 'login-user' }
  | { readonly kind: 'login-password'; readonly user: string }
  | { readonly kind: 'cram-md5'; readonly challenge: string };

/** Credentials as the client gave them. */
export type Credentials =
  | { readonly mechanism: 'PLAIN' | 'LOGIN'; readonly user: string; readonly password: string }
  | { readonly mechanism: 'CRAM-MD5'; readonly user: string; readonly challenge: string; readonly digest: string };

/** RFC 4954 section 4: `334 VXNlcm5hbWU6` ("Username:") and `UGFzc3dvcmQ6` ("Password:") for LOGIN. */
const USERNAME_PROMPT = Buffer.from('Username:').toString('base64');
const PASSWORD_PROMPT = Buffer.from('Password:').toString('base64');

/** True when EHLO lists AUTH: it is configured, and the session is over TLS or may authenticate in the clear. */
export function authOffered(config: ChannelConfig, session: Session): boolean {
  return config.auth !== null && (config.auth.insecure || session.tls !== null);
}

/** The EHLO keyword line. */
export const AUTH_KEYWORD = `AUTH ${MECHANISMS.join(' ')}`;

/** Checks credentials against `users`; with no map, anything is accepted. Pure. */
export function checkCredentials(users: ReadonlyMap<string, string> | null, c: Credentials): boolean {
  if (users === null) return true;
  const password = users.get(c.user);
  if (password === undefined) return false;
  const [given, expected] =
    c.mechanism === 'CRAM-MD5'
      ? [
          Buffer.from(c.digest.toLowerCase()),
          Buffer.from(createHmac('md5', password).update(c.challenge).digest('hex')),
        ]
      : [Buffer.from(c.password), Buffer.from(password)];
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Parses an `--auth-file`: one `user:password` a line; blank lines and `#` comments skipped. Throws on a bad line. */
export function parseUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  // Editors on some systems start UTF-8 files with a byte order mark: it is not part of the first user's name.
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  body.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`line ${i + 1}: expected user:password`);
    users.set(line.slice(0, colon), line.slice(colon + 1));
  });
  return users;
}

/** Strict base64 (RFC 4954 section 4: `=` alone is an empty response); undefined when malformed. */
function decode(text: string): Buffer | undefined {
  if (text === '=') return Buffer.alloc(0);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function finish(ctx: CommandContext, auth: AuthConfig, c: Credentials): void {
  if (!checkCredentials(auth.users, c)) return ctx.send(R.R535_AUTH_FAILED);
  ctx.session.authUser = c.user;
  ctx.send(R.R235_AUTH_OK);
}

function plain(ctx: CommandContext, auth: AuthConfig, response: Buffer): void {
  // authzid NUL authcid NUL passwd (RFC 4616 section 2).
  const parts = response.toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return ctx.send(R.R501_BAD_BASE64);
  finish(ctx, auth, { mechanism: 'PLAIN', user: parts[1]!, password: parts[2]! });
}

/** The AUTH command. */
export const AUTH_COMMAND: CommandSpec = {
  enabled: (config, session) => config.auth !== null && session.extended,
  run(ctx, arg) {
    const auth = ctx.config.auth!;
    if (!authOffered(ctx.config, ctx.session)) return ctx.send(R.R538_NEED_ENCRYPTION);
    if (ctx.session.authUser !== null) return ctx.send(R.R503_ALREADY_AUTH);
    if (ctx.transaction.mailFrom !== null) return ctx.send(R.R503_AUTH_IN_TRANSACTION);
    const words = (arg ?? '').split(' ').filter((w) => w !== '');
    if (words.length < 1 || words.length > 2) return ctx.send(R.R501_AUTH_SYNTAX);
    const mechanism = words[0]!.toUpperCase();
    const initial = words[1] === undefined ? undefined : decode(words[1]);
    if (words[1] !== undefined && initial === undefined) return ctx.send(R.R501_BAD_BASE64);
    switch (mechanism) {
      case 'PLAIN':
        if (initial !== undefined) return plain(ctx, auth, initial);
        ctx.send(R.R334_CHALLENGE(''));
        return ctx.startAuth({ kind: 'plain' });
      case 'LOGIN':
        if (initial !== undefined) {
          ctx.send(R.R334_CHALLENGE(PASSWORD_PROMPT));
          return ctx.startAuth({ kind: 'login-password', user: initial.toString('utf8') });
        }
        ctx.send(R.R334_CHALLENGE(USERNAME_PROMPT));
        return ctx.startAuth({ kind: 'login-user' });
      case 'CRAM-MD5': {
        if (initial !== undefined) return ctx.send(R.R501_AUTH_SYNTAX);
        const challenge = auth.challenge?.() ?? `<smtpd-ts@${ctx.config.hostname}>`;
        ctx.send(R.R334_CHALLENGE(Buffer.from(challenge).toString('base64')));
        return ctx.startAuth({ kind: 'cram-md5', challenge });
      }
      default:
        return ctx.send(R.R504_AUTH_MECHANISM);
    }
  },
};

/**
 * Handles one continuation line of an exchange; the channel is back in
 * command state unless this starts another step.
 */
export function continueAuth(ctx: CommandContext, step: AuthStep, line: string): void {
  const auth = ctx.config.auth!;
  // RFC 4954 section 4: `*` cancels the exchange.
  if (line === '*') return ctx.send(R.R501_AUTH_CANCELLED);
  const response = decode(line);
  if (response === undefined) return ctx.send(R.R501_BAD_BASE64);
  switch (step.kind) {
    case 'plain':
      return plain(ctx, auth, response);
    case 'login-user':
      ctx.send(R.R334_CHALLENGE(PASSWORD_PROMPT));
      return ctx.startAuth({ kind: 'login-password', user: response.toString('utf8') });
    case 'login-password':
      return finish(ctx, auth, { mechanism: 'LOGIN', user: step.user, password: response.toString('utf8') });
    case 'cram-md5': {
      const text = response.toString('utf8');
      const space = text.lastIndexOf(' ');
      if (space <= 0) return ctx.send(R.R501_BAD_BASE64);
      return finish(ctx, auth, {
        mechanism: 'CRAM-MD5',
        user: text.slice(0, space),
        challenge: step.challenge,
        digest: text.slice(space + 1),
      });
    }
    default: {
      const never: never = step;
      throw new Error(`unreachable auth step ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A command line for the `--debug` trace and `--transcript`, with an AUTH
 * initial response (it holds the password) hidden, whether the words are
 * separated by spaces or, wrongly, by tabs.
 */
export function traceable(line: string): string {
  if (!/^auth[ \t]/i.test(line)) return line;
  const words = line
    .slice(5)
    .split(/[ \t]+/)
    .filter((w) => w !== '');
  return words.length < 2 ? line : `${line.slice(0, 4)} ${words[0]} [initial response hidden]`;
}

/** What the trace shows for a line that may be a credential: sent after a refused AUTH, and not a command. */
export const HIDDEN_AFTER_REFUSED_AUTH = '[line hidden: sent after a refused AUTH, it may be a credential]';
