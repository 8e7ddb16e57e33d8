/**
 * How Python's smtpd reads the address argument of MAIL FROM, RCPT TO and VRFY.
 *
 * smtpd's `SMTPChannel._getaddr` hands the argument to `get_angle_addr` or `get_addr_spec` from
 * the stdlib's `email/_header_value_parser.py` (Python 3.11), then uses the parsed `addr_spec`
 * and whatever text the parser left over (the ESMTP parameters). That parser is an RFC 5322
 * header parser, lenient in odd ways: it accepts comments, quoted strings, obsolete routes
 * ("<@relay:user@host>", route dropped) and RFC 2047 encoded words, it re-quotes local parts,
 * and on some inputs it raises IndexError or AttributeError instead of a parse error, which
 * makes smtpd drop the connection. This file ports exactly the rules involved, function by
 * function under the Python names, so that we accept, reject and re-spell addresses as smtpd
 * did and give the same reply codes. It is a port, not an RFC 5321 parser: keep it faithful to
 * the Python source, and let the differential test in test/channel/address.test.ts judge.
 *
 * Each rule takes the remaining input and returns `[token, rest]`. Python's HeaderParseError is
 * `HeaderParseError` (callers catch it to try another rule); its other exceptions are
 * `PythonError`, which nothing catches. The lexical layer (token model, words, comments, quoted
 * strings) is in tokens.ts, and the RFC 2047 encoded words it decodes in
 * encoded-word.ts.
 *
 * Not replicated: encoded words in charsets other than UTF-8, US-ASCII and Latin-1 and their
 * aliases (Python decodes them; we answer `{ ok: false }`), and Python's recursion limit while
 * parsing comments nested about 1000 deep, which takes a longer line than smtpd accepts. Its
 * limit while stringifying nested comments, which a 512-byte line can reach, is modelled.
 */
import {
  at,
  CFWS_LEADER,
  DOT,
  DOT_ATOM_ENDS,
  first,
  getAtom,
  getCfws,
  getDotAtom,
  getFws,
  getWord,
  HeaderParseError,
  isList,
  PHRASE_ENDS,
  plainList,
  ptextToEndchars,
  PythonError,
  quoteString,
  startsWithOneOf,
  strFrames,
  type Defect,
  type Token,
  tokenList,
  type TokenList,
  tokenStr,
  tokenValue,
  valueTerminal,
  WSP,
} from './tokens.js';
import { pyLstrip, pySplit } from '../py-text.js';

/** Result of parsing a MAIL/RCPT/VRFY argument the way Python smtpd's _getaddr does. */
export type ParsedAddress =
  | { ok: true; address: string; rest: string } // address '' means "no address" (smtpd's falsy address)
  | { ok: false }; // Python would have raised

/** `<dot-atom@dot-atom>`, then nothing or one space and parameters: the common case, parsed without the tokenizer. */
// `?` is left out: `=?utf-8?q?...?=` is an encoded word, which the full parse decodes.
const ATEXT = "[A-Za-z0-9!#$%&'*+/=^_`{|}~-]+";
const SIMPLE_PATH = new RegExp(
  `^<(${ATEXT}(?:\\.${ATEXT})*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*)>(?: ([^\\s(][\\x21-\\x7e ]*))?$`,
);

/**
 * Parses the argument of MAIL FROM:, RCPT TO: or VRFY exactly as Python 3.11's
 * `smtpd.SMTPChannel._getaddr` does.
 *
 * @param arg - the argument after the command keyword, as smtpd would see it.
 * @returns the address as smtpd spells it (`'<>'` for the null reverse-path, `''` for none) and
 *   the text after it, where the ESMTP parameters are; or `{ ok: false }` where Python raises,
 *   which in smtpd ends the connection and which callers should answer with a 501. Never throws.
 */
export function parseAddress(arg: string): ParsedAddress {
  if (arg === '') return { ok: true, address: '', rest: '' };
  // Nearly every client sends `<local@domain>` with a dot-atom on each side: the
  // full parse gives exactly this (a property test holds them equal), at a
  // fraction of the cost.
  const simple = SIMPLE_PATH.exec(arg);
  if (simple) return { ok: true, address: simple[1]!, rest: simple[2] ?? '' };
  return parseAddressFully(arg);
}

/** `parseAddress` without its fast path: the port of smtpd's parser, whatever the input. */
export function parseAddressFully(arg: string): ParsedAddress {
  if (arg === '') return { ok: true, address: '', rest: '' };
  try {
    if (pyLstrip(arg).startsWith('<')) {
      const [angleAddr, rest] = getAngleAddr(arg);
      return { ok: true, address: angleAddrSpec(angleAddr), rest };
    }
    const [addrSpec, rest] = getAddrSpec(arg, 0);
    return { ok: true, address: addrSpecText(addrSpec), rest };
  } catch {
    // Python raised. This also catches a JavaScript stack overflow on comments nested far deeper
    // than a 512-byte line allows, where Python's recursion limit would have struck first.
    return { ok: false };
  }
}

// The address as smtpd reads it off the tree: AngleAddr.addr_spec, AddrSpec.addr_spec, ...

/** `AngleAddr.addr_spec`: '<>' for the null path, '""@domain' for an empty local part. */
function angleAddrSpec(angleAddr: TokenList): string {
  const addrSpec = angleAddr.items.find((token) => token.type === 'addr-spec');
  if (addrSpec === undefined || !isList(addrSpec)) return '<>';
  const localPart = localPartText(addrSpec);
  return localPart ? addrSpecText(addrSpec) : quoteString(localPart) + addrSpecText(addrSpec);
}

/** `AddrSpec.addr_spec`: the local part, quoted if it needs to be, then '@' and the domain. */
function addrSpecText(addrSpec: TokenList): string {
  const localPart = localPartText(addrSpec);
  const needsQuotes = Array.from(localPart).some((char) => DOT_ATOM_ENDS.includes(char));
  const spelled = needsQuotes ? quoteString(localPart) : localPart;
  if (addrSpec.items.length < 3) return spelled;
  return `${spelled}@${pySplit(tokenValue(at(addrSpec, -1))).join('')}`; // Domain.domain
}

/** `LocalPart.local_part`, reached through `AddrSpec.local_part`: drops CFWS around dots. */
function localPartText(addrSpec: TokenList): string {
  const content = at(at(addrSpec, 0), 0);
  if (!isList(content)) throw new PythonError('TypeError: can only concatenate str to list');
  const res: Token[] = [DOT];
  let last: Token = DOT;
  let lastIsList = false;
  for (const token of [...content.items, DOT]) {
    if (token.type === 'cfws') continue;
    if (lastIsList && token.type === 'dot' && at(last, -1).type === 'cfws') {
      res[res.length - 1] = plainList(itemsOf(last).slice(0, -1));
    }
    const tokenIsList = isList(token);
    if (tokenIsList && last.type === 'dot' && at(token, 0).type === 'cfws') res.push(plainList(token.items.slice(1)));
    else res.push(token);
    last = res[res.length - 1] ?? DOT;
    lastIsList = tokenIsList;
  }
  return tokenValue(plainList(res.slice(1, -1)));
}

const itemsOf = (token: Token): Token[] => (isList(token) ? token.items : []);

// Address rules.

/** angle-addr = [CFWS] "<" [obs-route] addr-spec ">" [CFWS], and smtpd's "<>". */
function getAngleAddr(value: string): [TokenList, string] {
  const angleAddr = tokenList('angle-addr');
  let token: TokenList;
  if (CFWS_LEADER.includes(first(value))) {
    [token, value] = getCfws(value);
    angleAddr.items.push(token);
  }
  if (!value.startsWith('<')) throw new HeaderParseError(`expected angle-addr but found '${value}'`);
  angleAddr.items.push(valueTerminal('<', 'angle-addr-start'));
  value = value.slice(1);
  if (first(value) === '>') {
    angleAddr.items.push(valueTerminal('>', 'angle-addr-end'));
    return [angleAddr, value.slice(1)];
  }
  try {
    [token, value] = getAddrSpec(value, 1);
  } catch (error) {
    if (!(error instanceof HeaderParseError)) throw error;
    value = getObsRoute(value); // its HeaderParseError is re-raised, reworded
    [token, value] = getAddrSpec(value, 1);
  }
  angleAddr.items.push(token);
  // A missing '>' is only a defect.
  if (value.startsWith('>')) value = value.slice(1);
  angleAddr.items.push(valueTerminal('>', 'angle-addr-end'));
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    angleAddr.items.push(token);
  }
  return [angleAddr, value];
}

/**
 * obs-route = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]) ":"
 * AngleAddr.addr_spec never reads the route, so only the rest of the input is kept.
 */
function getObsRoute(value: string): string {
  while (startsWithOneOf(value, `,${CFWS_LEADER}`)) value = value.startsWith(',') ? value.slice(1) : getCfws(value)[1];
  if (!value.startsWith('@')) throw new HeaderParseError(`expected obs-route domain but found '${value}'`);
  value = getDomain(value.slice(1))[1];
  while (value.startsWith(',')) {
    value = value.slice(1);
    if (value === '') break;
    if (CFWS_LEADER.includes(first(value))) value = getCfws(value)[1];
    if (first(value) === '@') value = getDomain(value.slice(1))[1];
  }
  if (!value.startsWith(':')) throw new HeaderParseError(`expected ':' marking end of obs-route but found '${value}'`);
  return value.slice(1);
}

/**
 * addr-spec = local-part ["@" domain]: a missing domain is only a defect.
 * `depth` is the number of Python frames between _getaddr and here (1 inside get_angle_addr).
 */
function getAddrSpec(value: string, depth: number): [TokenList, string] {
  const addrSpec = tokenList('addr-spec');
  let token: TokenList;
  [token, value] = getLocalPart(value, depth);
  addrSpec.items.push(token);
  if (!value.startsWith('@')) return [addrSpec, value];
  addrSpec.items.push(valueTerminal('@', 'address-at-symbol'));
  [token, value] = getDomain(value.slice(1));
  addrSpec.items.push(token);
  return [addrSpec, value];
}

/**
 * Frames left for `str(local_part)` in get_local_part when _getaddr calls get_addr_spec directly,
 * under `python -m smtpd` (recursion limit 1000). Measured against smtpd 3.11.7: it drops the
 * connection for "MAIL FROM:a" + 244 * "(" + 244 * ")" + "b@c" and not for 243.
 */
const PY_STR_FRAMES = 982;

/** local-part = dot-atom / quoted-string / obs-local-part */
function getLocalPart(value: string, depth: number): [TokenList, string] {
  const localPart = tokenList('local-part');
  let leader: TokenList | undefined;
  if (CFWS_LEADER.includes(first(value))) [leader, value] = getCfws(value);
  if (value === '') throw new HeaderParseError(`expected local-part but found '${value}'`);
  let token: TokenList;
  try {
    [token, value] = getDotAtom(value);
  } catch (error) {
    if (!(error instanceof HeaderParseError)) throw error;
    try {
      [token, value] = getWord(value);
    } catch (wordError) {
      if (!(wordError instanceof HeaderParseError) || (value[0] !== '\\' && PHRASE_ENDS.includes(first(value)))) {
        throw wordError;
      }
      token = plainList([]);
    }
  }
  if (leader) token.items.unshift(leader);
  localPart.items.push(token);
  // Anything left that may continue a local part: reparse all of it, as text, as obs-local-part.
  if (value !== '' && (value[0] === '\\' || !PHRASE_ENDS.includes(first(value)))) {
    if (depth + strFrames(localPart) > PY_STR_FRAMES)
      throw new PythonError('RecursionError: maximum recursion depth exceeded');
    [token, value] = getObsLocalPart(tokenStr(localPart) + value);
    localPart.items[0] = token;
  }
  return [localPart, value];
}

/** obs-local-part = word *("." word), taking stray dots, backslashes and CFWS as defects. */
function getObsLocalPart(value: string): [TokenList, string] {
  const obsLocalPart = tokenList('obs-local-part');
  let token: Token;
  while (value !== '' && (value[0] === '\\' || !PHRASE_ENDS.includes(first(value)))) {
    if (value[0] === '.' || value[0] === '\\') {
      obsLocalPart.items.push(value[0] === '.' ? DOT : valueTerminal('\\', 'misplaced-special'));
      value = value.slice(1);
      continue;
    }
    try {
      [token, value] = getWord(value);
    } catch (error) {
      if (!(error instanceof HeaderParseError) || !CFWS_LEADER.includes(first(value))) throw error;
      [token, value] = getCfws(value);
    }
    obsLocalPart.items.push(token);
  }
  // Python then checks for a leading or trailing dot, reading [0], [1], [-1], [-2] as it goes.
  if (at(obsLocalPart, 0).type === 'cfws') at(obsLocalPart, 1);
  if (at(obsLocalPart, -1).type === 'cfws') at(obsLocalPart, -2);
  return [obsLocalPart, value];
}

/** domain = dot-atom / domain-literal / obs-domain, obs-domain = atom *("." atom) */
function getDomain(value: string): [TokenList, string] {
  const domain = tokenList('domain');
  let leader: TokenList | undefined;
  let token: TokenList;
  if (CFWS_LEADER.includes(first(value))) [leader, value] = getCfws(value);
  if (value === '') throw new HeaderParseError(`expected domain but found '${value}'`);
  if (value.startsWith('[')) {
    [token, value] = getDomainLiteral(value);
    if (leader) token.items.unshift(leader);
    domain.items.push(token);
    return [domain, value];
  }
  try {
    [token, value] = getDotAtom(value);
  } catch (error) {
    if (!(error instanceof HeaderParseError)) throw error;
    [token, value] = getAtom(value);
  }
  if (value.startsWith('@')) throw new HeaderParseError('Invalid Domain');
  if (leader) token.items.unshift(leader);
  domain.items.push(token);
  if (value.startsWith('.')) {
    const head = at(domain, 0);
    if (head.type === 'dot-atom') domain.items = [...itemsOf(head)];
    while (value.startsWith('.')) {
      domain.items.push(DOT);
      [token, value] = getAtom(value.slice(1));
      domain.items.push(token);
    }
  }
  return [domain, value];
}

/** domain-literal = [CFWS] "[" *([FWS] dtext) [FWS] "]" [CFWS]; it may end with the input. */
function getDomainLiteral(value: string): [TokenList, string] {
  const domainLiteral = tokenList('domain-literal');
  let token: Token;
  if (CFWS_LEADER.includes(first(value))) {
    [token, value] = getCfws(value);
    domainLiteral.items.push(token);
  }
  if (!value.startsWith('['))
    throw new HeaderParseError(`expected '[' at start of domain-literal but found '${value}'`);
  value = value.slice(1);
  if (endsEarly(value, domainLiteral)) return [domainLiteral, value];
  domainLiteral.items.push(valueTerminal('[', 'domain-literal-start'));
  if (WSP.includes(first(value))) {
    [token, value] = getFws(value);
    domainLiteral.items.push(token);
  }
  const [dtext, afterDtext] = ptextToEndchars(value, '[]');
  domainLiteral.items.push(valueTerminal(dtext, 'ptext'));
  value = afterDtext;
  if (endsEarly(value, domainLiteral)) return [domainLiteral, value];
  if (WSP.includes(first(value))) {
    [token, value] = getFws(value);
    domainLiteral.items.push(token);
  }
  if (endsEarly(value, domainLiteral)) return [domainLiteral, value];
  if (!value.startsWith(']')) throw new HeaderParseError(`expected ']' at end of domain-literal but found '${value}'`);
  domainLiteral.items.push(valueTerminal(']', 'domain-literal-end'));
  value = value.slice(1);
  if (startsWithOneOf(value, CFWS_LEADER)) {
    [token, value] = getCfws(value);
    domainLiteral.items.push(token);
  }
  return [domainLiteral, value];
}

/**
 * `_check_for_early_dl_end`. Python appends the defect object itself to the token list, so
 * reading the domain's value later raises AttributeError: smtpd crashes on "<a@[x".
 */
function endsEarly(value: string, domainLiteral: TokenList): boolean {
  if (value !== '') return false;
  const defect: Defect = { kind: 'defect', type: 'defect', text: 'end of input inside domain-literal' };
  domainLiteral.items.push(defect, valueTerminal(']', 'domain-literal-end'));
  return true;
}
