/**
 * The lexical layer of the port in address.ts (Python 3.11's email/_header_value_parser.py):
 * a minimal model of its parse tree, the word-level rules (atoms, dot-atoms, quoted strings,
 * comments, FWS). The RFC 2047 encoded words that atoms and quoted strings decode on sight are
 * in encoded-word.ts.
 *
 * Only what decides `addr_spec` and the unparsed rest is modelled: token types, `str()` and
 * `.value`. Defects (the parser's warnings) are left out because they never change either.
 */
import { getEncodedWord } from './encoded-word.js';
import { pyLstrip } from '../py-text.js';

/** Python's `email.errors.HeaderParseError`: some rules catch it and try another rule. */
export class HeaderParseError extends Error {}

/** Any other exception Python raises here (IndexError, AttributeError, ...): nothing catches it. */
export class PythonError extends Error {}

/**
 * A node of the parse tree. Terminals are Python's `ValueTerminal` ('value'), `WhiteSpaceTerminal`
 * ('ws') and `EWWhiteSpaceTerminal` ('ew-ws'); lists are a plain `TokenList` ('list'), a
 * `WhiteSpaceTokenList` such as CFWS ('ws-list'), a `Comment` and a `BareQuotedString`.
 * 'defect' is the `InvalidHeaderDefect` that `_check_for_early_dl_end` appends as a list element.
 */
export type Token = Terminal | TokenList | Defect;
export interface Terminal {
  readonly kind: 'value' | 'ws' | 'ew-ws';
  readonly type: string;
  readonly text: string;
}
export interface TokenList {
  readonly kind: 'list' | 'ws-list' | 'comment' | 'bare-quoted';
  readonly type: string;
  items: Token[];
}
export interface Defect {
  readonly kind: 'defect';
  readonly type: 'defect';
  readonly text: string;
}

export const valueTerminal = (text: string, type: string): Terminal => ({ kind: 'value', type, text });
const wsTerminal = (text: string, type: string): Terminal => ({ kind: 'ws', type, text });
export const tokenList = (type: string, items: Token[] = [], kind: TokenList['kind'] = 'list'): TokenList => ({
  kind,
  type,
  items,
});
/** Python's bare `TokenList(...)`, whose token_type is None. */
export const plainList = (items: Token[]): TokenList => tokenList('', items);
export const DOT = valueTerminal('.', 'dot');

export function isList(token: Token): token is TokenList {
  return token.kind === 'list' || token.kind === 'ws-list' || token.kind === 'comment' || token.kind === 'bare-quoted';
}

/** `str(token)`: the canonical text, which `get_local_part` feeds back into the parser. */
export function tokenStr(token: Token): string {
  switch (token.kind) {
    case 'value':
    case 'ws':
    case 'defect':
      return token.text;
    case 'ew-ws':
      return '';
    case 'list':
    case 'ws-list':
      return token.items.map(tokenStr).join('');
    case 'bare-quoted':
      return quoteString(token.items.map(tokenStr).join(''));
    case 'comment':
      return `(${token.items.map(quoteInComment).join('')})`;
    default:
      return unreachable(token);
  }
}

/**
 * The Python 3.11 stack frames that `str(token)` uses: str() on anything but an exact str (1),
 * each Python `__str__` (1) and the generator or list comprehension inside it (1), and for a
 * comment also `Comment.quote` (1) per child. Nested comments cost 4 frames a level, so Python's
 * recursion limit is reached at about 245 levels, well inside a 512-byte SMTP line.
 */
export function strFrames(token: Token): number {
  const deepest = (items: Token[], extra: number): number =>
    items.reduce((most, item) => Math.max(most, extra + strFrames(item)), 0);
  switch (token.kind) {
    case 'value':
    case 'ws':
    case 'defect':
      return 1;
    case 'ew-ws':
      return 2;
    case 'list':
    case 'ws-list':
    case 'bare-quoted':
      return 3 + deepest(token.items, 0);
    case 'comment':
      return 3 + deepest(token.items, 1);
    default:
      return unreachable(token);
  }
}

function quoteInComment(token: Token): string {
  if (token.type === 'comment') return tokenStr(token);
  return tokenStr(token).replaceAll('\\', '\\\\').replaceAll('(', '\\(').replaceAll(')', '\\)');
}

/** `token.value`: the semantic text, every whitespace token counting as one space. */
export function tokenValue(token: Token): string {
  switch (token.kind) {
    case 'value':
      return token.text;
    case 'ws':
    case 'ws-list':
    case 'comment':
      return ' ';
    case 'ew-ws':
      return '';
    case 'list':
      return token.items.map(tokenValue).join('');
    case 'bare-quoted':
      return token.items.map(tokenStr).join('');
    // A defect object has no .value: Python raises AttributeError.
    case 'defect':
      throw new PythonError("AttributeError: 'InvalidHeaderDefect' object has no attribute 'value'");
    default:
      return unreachable(token);
  }
}

export function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

/** `tokens[index]` with Python's negative indexes and its IndexError. */
export function at(token: Token, index: number): Token {
  const items = isList(token) ? token.items : [];
  const item = items[index < 0 ? items.length + index : index];
  if (item === undefined) throw new PythonError('IndexError: list index out of range');
  return item;
}

/** `value[0]` on a string, raising Python's IndexError when it is empty. */
export function first(value: string): string {
  if (value === '') throw new PythonError('IndexError: string index out of range');
  return value.charAt(0);
}

/** `value and value[0] in chars`. */
export const startsWithOneOf = (value: string, chars: string): boolean =>
  value !== '' && chars.includes(value.charAt(0));

export function quoteString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

// Character classes, named as in the Python module.
export const WSP = ' \t';
export const CFWS_LEADER = ' \t(';
const SPECIALS = '()<>@,:;.\\"[]';
const ATOM_ENDS = SPECIALS + WSP;
export const DOT_ATOM_ENDS = '()<>@,:;\\"[] \t';
export const PHRASE_ENDS = ')<>@,:;\\[]';

// Word-level rules, as in the Python module.

/** word = atom / quoted-string, either of which may start with CFWS. */
export function getWord(value: string): [TokenList, string] {
  let leader: TokenList | undefined;
  let token: TokenList;
  if (CFWS_LEADER.includes(first(value))) [leader, value] = getCfws(value);
  if (value === '') throw new HeaderParseError("Expected 'atom' or 'quoted-string' but found nothing.");
  if (value.startsWith('"')) [token, value] = getQuotedString(value);
  else if (SPECIALS.includes(first(value)))
    throw new HeaderParseError(`Expected 'atom' or 'quoted-string' but found '${value}'`);
  else [token, value] = getAtom(value);
  if (leader) token.items.unshift(leader);
  return [token, value];
}

/** atom = [CFWS] 1*atext [CFWS], or an encoded word. */
export function getAtom(value: string): [TokenList, string] {
  const atom = tokenList('atom');
  let token: Token;
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    atom.items.push(token);
  }
  if (startsWithOneOf(value, ATOM_ENDS)) throw new HeaderParseError(`expected atom but found '${value}'`);
  [token, value] = encodedWordOr(getAtext, value);
  atom.items.push(token);
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    atom.items.push(token);
  }
  return [atom, value];
}

/** dot-atom = [CFWS] dot-atom-text [CFWS], or an encoded word in place of the text. */
export function getDotAtom(value: string): [TokenList, string] {
  const dotAtom = tokenList('dot-atom');
  let token: Token;
  if (CFWS_LEADER.includes(first(value))) {
    [token, value] = getCfws(value);
    dotAtom.items.push(token);
  }
  [token, value] = encodedWordOr(getDotAtomText, value);
  dotAtom.items.push(token);
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    dotAtom.items.push(token);
  }
  return [dotAtom, value];
}

/** An encoded word where one starts, else (also when it does not decode) the plain rule. */
function encodedWordOr(rule: (value: string) => [Token, string], value: string): [Token, string] {
  if (!value.startsWith('=?')) return rule(value);
  try {
    return getEncodedWord(value);
  } catch (error) {
    if (!(error instanceof HeaderParseError)) throw error;
    return rule(value);
  }
}

/** dot-atom-text = 1*atext *("." 1*atext) */
function getDotAtomText(value: string): [TokenList, string] {
  const dotAtomText = tokenList('dot-atom-text');
  if (value === '' || ATOM_ENDS.includes(first(value))) {
    throw new HeaderParseError(`expected atom at a start of dot-atom-text but found '${value}'`);
  }
  while (value !== '' && !ATOM_ENDS.includes(first(value))) {
    let atext: Terminal;
    [atext, value] = getAtext(value);
    dotAtomText.items.push(atext);
    if (value.startsWith('.')) {
      dotAtomText.items.push(DOT);
      value = value.slice(1);
    }
  }
  if (at(dotAtomText, -1) === DOT)
    throw new HeaderParseError(`expected atom at end of dot-atom-text but found '.${value}'`);
  return [dotAtomText, value];
}

/** atext: a run of anything but specials and WSP (non-ASCII included). */
function getAtext(value: string): [Terminal, string] {
  const atext = /^[^()<>@,:;.\\"[\] \t]+/.exec(value)?.[0];
  if (atext === undefined) throw new HeaderParseError(`expected atext but found '${value}'`);
  return [valueTerminal(atext, 'atext'), value.slice(atext.length)];
}

/** quoted-string = [CFWS] bare-quoted-string [CFWS] */
function getQuotedString(value: string): [TokenList, string] {
  const quotedString = tokenList('quoted-string');
  let token: TokenList;
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    quotedString.items.push(token);
  }
  [token, value] = getBareQuotedString(value);
  quotedString.items.push(token);
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    quotedString.items.push(token);
  }
  return [quotedString, value];
}

/** DQUOTE *([FWS] qcontent) [FWS] DQUOTE, where the closing quote may be missing. */
function getBareQuotedString(value: string): [TokenList, string] {
  if (first(value) !== '"') throw new HeaderParseError(`expected '"' but found '${value}'`);
  const bare = tokenList('bare-quoted-string', [], 'bare-quoted');
  let token: Token;
  value = value.slice(1);
  if (value.startsWith('"')) {
    [token, value] = getQcontent(value); // an empty ptext: '""' is not an empty token list
    bare.items.push(token);
  }
  while (value !== '' && value[0] !== '"') {
    if (WSP.includes(first(value))) {
      [token, value] = getFws(value);
    } else if (value.startsWith('=?')) {
      let isEncodedWord = false;
      try {
        [token, value] = getEncodedWord(value);
        isEncodedWord = true;
      } catch (error) {
        if (!(error instanceof HeaderParseError)) throw error;
        [token, value] = getQcontent(value);
      }
      // Whitespace between two encoded words disappears.
      const [previous, beforeThat] = [bare.items[bare.items.length - 1], bare.items[bare.items.length - 2]];
      if (isEncodedWord && previous?.type === 'fws' && beforeThat?.type === 'encoded-word') {
        bare.items[bare.items.length - 1] = { kind: 'ew-ws', type: 'fws', text: tokenStr(previous) };
      }
    } else {
      [token, value] = getQcontent(value);
    }
    bare.items.push(token);
  }
  return [bare, value.slice(1)];
}

const getQcontent = (value: string): [Terminal, string] => {
  const [ptext, rest] = ptextToEndchars(value, '"');
  return [valueTerminal(ptext, 'ptext'), rest];
};

/** CFWS = (1*([FWS] comment) [FWS]) / FWS */
export function getCfws(value: string): [TokenList, string] {
  const cfws = tokenList('cfws', [], 'ws-list');
  let token: Token;
  while (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = WSP.includes(first(value)) ? getFws(value) : getComment(value);
    cfws.items.push(token);
  }
  return [cfws, value];
}

/** comment = "(" *([FWS] ccontent) [FWS] ")", nested, where the closing paren may be missing. */
function getComment(value: string): [TokenList, string] {
  const comment = tokenList('comment', [], 'comment');
  let token: Token;
  value = value.slice(1);
  while (value !== '' && value[0] !== ')') {
    if (WSP.includes(first(value))) {
      [token, value] = getFws(value);
    } else if (value.startsWith('(')) {
      [token, value] = getComment(value);
    } else {
      const [ctext, rest] = ptextToEndchars(value, '()');
      [token, value] = [wsTerminal(ctext, 'ptext'), rest];
    }
    comment.items.push(token);
  }
  return [comment, value.slice(1)];
}

/** FWS: Python strips every str.isspace() character here, not only WSP. */
export function getFws(value: string): [Terminal, string] {
  const rest = pyLstrip(value);
  return [wsTerminal(value.slice(0, value.length - rest.length), 'fws'), rest];
}

/**
 * `_get_ptext_to_endchars`: the text up to an end char or the first WSP, with quoted pairs
 * unquoted. If the text is empty, Python's loop variable is never bound: UnboundLocalError.
 */
export function ptextToEndchars(value: string, endchars: string): [string, string] {
  const wsp = value.search(/[ \t]/);
  const fragmentLength = wsp < 0 ? value.length : wsp;
  if (fragmentLength === 0) throw new PythonError("UnboundLocalError: local variable 'pos'");
  let text = '';
  let escape = false;
  let pos = 0;
  for (; pos < fragmentLength; pos++) {
    const char = value.charAt(pos);
    if (char === '\\' && !escape) {
      escape = true;
      continue;
    }
    if (escape) escape = false;
    else if (endchars.includes(char)) break;
    text += char;
  }
  return [text, value.slice(pos)];
}
