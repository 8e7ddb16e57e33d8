/**
 * The end of a message (CRLF.CRLF after DATA, or the chunk after BDAT LAST)
 * and the handler's verdict on it, as values the channel carries out: what
 * to refuse with and how many times (LMTP answers once per recipient, RFC
 * 2033 section 4.2), what the EOD rule does, and the message to hand over.
 * No I/O, like the channel: besides DATA's decoder or the BDAT chunk being
 * read, only the transaction's message so far (BDAT) and its list of fired
 * rules are written to.
 */
import { feedChunk, type ChunkEnd } from './bdat.js';
import type { BodyState } from './channel-state.js';
import type { Session, Transaction } from './commands.js';
import { countBareLineEndings, type DataDecoder } from './data-decoder.js';
import { isAcceptance, R, type Reply } from './reply.js';
import { announce, headerSection } from './rule-hook.js';
import type { ChannelConfig, RuleOutcome } from './config.js';
import type { Action, BareLineEndings, ChannelMessage } from './actions.js';

/** What the channel does when a message's data has ended, or its verdict is in. */
export type MessageEnd =
  /**
   * Send these replies; `endsTransaction` replaces the transaction first,
   * `close` closes after; `scripted`: an EOD rule wrote them (not a refusal
   * of the protocol's to report).
   */
  | {
      readonly kind: 'replies';
      readonly replies: readonly Reply[];
      readonly endsTransaction: boolean;
      readonly close: boolean;
      readonly scripted?: boolean;
    }
  /** An EOD rule drops the connection, with nothing more sent. */
  | { readonly kind: 'drop' }
  /** Hand the message over and wait for the verdict; an EOD rule that keeps it applies then. */
  | { readonly kind: 'hand-over'; readonly message: ChannelMessage; readonly verdictRule: RuleOutcome | null };

/** A message's end, after the actions that come first: an EOD rule's `rule`s, and its delay where it applies. */
export interface MessageEnding {
  readonly before: readonly Action[];
  readonly end: MessageEnd;
}

/**
 * How the channel answers the handler's verdict: the replies that end the
 * transaction, and whether it counts as accepted (for `maxMessagesPerConnection`).
 */
export interface VerdictAnswer {
  readonly accepted: boolean;
  readonly ending: MessageEnding;
}

/**
 * Feeds bytes to the data phase: undefined until it ends, then its end and
 * the bytes after it, for the command reader.
 */
export function bodyEnding(
  state: BodyState,
  bytes: Buffer,
  config: ChannelConfig,
  session: Session,
  tx: Transaction,
): { readonly ending: MessageEnding; readonly rest: Buffer } | undefined {
  if (state.name === 'data') {
    const result = state.decoder.feed(bytes);
    return result.done ? { ending: endOfData(config, session, tx, state.decoder), rest: result.rest } : undefined;
  }
  const end = feedChunk(state.reader, tx, config.dataSizeLimit, bytes);
  return end === undefined ? undefined : { ending: endOfChunk(config, session, tx, end), rest: end.rest };
}

/**
 * The handler's verdict (undefined: `250 OK`) on a message handed over with
 * `recipients`, and the EOD rule kept for it.
 */
export function answerVerdict(
  config: ChannelConfig,
  recipients: number,
  verdict: Reply | undefined,
  rule: RuleOutcome | null,
): VerdictAnswer {
  const accepted = isAcceptance(verdict);
  // An EOD rule's 2xx replaces an accepting verdict; a handler's refusal stands.
  const final = (accepted && rule?.reply ? rule.reply : verdict) ?? R.R250_QUEUED;
  // The EOD rule's delay comes before the verdict, and its close after it.
  const before: Action[] = rule && rule.delayMs > 0 ? [{ kind: 'delay', ms: rule.delayMs }] : [];
  // RFC 2033 section 4.2: LMTP answers once per accepted recipient.
  const replies = repeat(config, recipients, final);
  return {
    accepted,
    ending: { before, end: { kind: 'replies', replies, endsTransaction: true, close: rule?.close === true } },
  };
}

/** The end of DATA (CRLF.CRLF). */
function endOfData(config: ChannelConfig, session: Session, tx: Transaction, decoder: DataDecoder): MessageEnding {
  // smtpd stayed in DATA after this 552, reading the next commands as
  // mail; RFC 5321 4.2.5 has the transaction end here.
  if (decoder.tooBig) return { before: [], end: refusal(config, tx, R.R552_TOO_MUCH_DATA) };
  return endOfMessage(config, session, tx, decoder.message(), decoder.bareLineEndings, true);
}

/** The end of a BDAT chunk: its reply (once, even in LMTP), or the whole message after LAST. */
function endOfChunk(config: ChannelConfig, session: Session, tx: Transaction, end: ChunkEnd): MessageEnding {
  if (end.kind === 'message')
    return endOfMessage(config, session, tx, end.data, countBareLineEndings(end.data), end.lineBased);
  return {
    before: [],
    end: { kind: 'replies', replies: [end.reply], endsTransaction: end.endsTransaction, close: false },
  };
}

/** A message is complete (DATA or BDAT LAST): refused, dropped, or handed over. */
function endOfMessage(
  config: ChannelConfig,
  session: Session,
  tx: Transaction,
  data: Buffer,
  bareLineEndings: BareLineEndings,
  lineBased: boolean,
): MessageEnding {
  if (lineBased && config.bareLf === 'reject' && bareLineEndings.cr + bareLineEndings.lf > 0) {
    return { before: [], end: refusal(config, tx, R.R550_BARE_LINE_ENDING) };
  }
  const outcome = config.replyRule?.({ verb: 'EOD', subject: headerSection(data) });
  let verdictRule: RuleOutcome | null = null;
  let actions: Action[] = [];
  if (outcome) {
    tx.rules.push(...outcome.rules);
    if (outcome.drop) return { before: announce(outcome), end: { kind: 'drop' } };
    if (outcome.reply && outcome.reply.code >= 400) {
      return {
        before: announce(outcome),
        end: { ...refusal(config, tx, outcome.reply, outcome.close), scripted: true },
      };
    }
    // A delay, a 2xx or a close waits for the handler's verdict (settle),
    // and so the delay comes before the verdict, not here.
    actions = announce({ ...outcome, delayMs: 0 });
    verdictRule = outcome;
  }
  const message: ChannelMessage = {
    helo: session.greeting,
    extended: session.extended,
    mailFrom: tx.mailFrom ?? '',
    rcptTos: tx.rcptTos,
    mailOptions: tx.mailOptions,
    rcptOptions: tx.rcptOptions,
    data,
    bareLineEndings,
    tls: session.tls,
    authUser: session.authUser,
    ...(tx.rules.length > 0 ? { rules: [...tx.rules] } : {}),
  };
  return { before: actions, end: { kind: 'hand-over', message, verdictRule } };
}

/** Ends the transaction with a refusal of its message: once, or once per recipient in LMTP (RFC 2033 4.2). */
function refusal(
  config: ChannelConfig,
  tx: Transaction,
  r: Reply,
  close = false,
): Extract<MessageEnd, { kind: 'replies' }> {
  return { kind: 'replies', replies: repeat(config, tx.rcptTos.length, r), endsTransaction: true, close };
}

/** One reply, or in LMTP one per recipient. */
function repeat(config: ChannelConfig, recipients: number, r: Reply): Reply[] {
  return new Array<Reply>(config.lmtp ? recipients : 1).fill(r);
}
