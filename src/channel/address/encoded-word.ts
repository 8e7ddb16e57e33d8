/**
 * RFC 2047 encoded words as the port in address.ts decodes them: Python 3.11's `get_encoded_word`
 * (email/_header_value_parser.py) and `decode` (email/_encoded_words.py), with what they lean on
 * underneath: `binascii.a2b_base64`, strict UTF-8/ASCII/Latin-1 decoding with surrogateescape,
 * and `codecs.lookup` over a table of Python's codec names.
 *
 * Why an SMTP server decodes encoded words at all: parity with Python smtpd. smtpd reads the
 * address of MAIL FROM, RCPT TO and VRFY with the email package's header parser, whose atoms,
 * dot-atoms and quoted strings decode any encoded word they meet, so `<=?utf-8?q?caf=C3=A9?=@x>`
 * is the address `café@x`, and a word's extent and charset decide what is accepted and what is
 * left over as ESMTP parameters. Keep this faithful to the Python source, as address.ts says.
 *
 * This file and tokens.ts import each other (the token model there, `getEncodedWord`
 * here). Neither touches the other's exports while loading: keep top-level code here free of them.
 */
import {
  first,
  getFws,
  HeaderParseError,
  type Terminal,
  tokenList,
  type TokenList,
  unreachable,
  valueTerminal,
  WSP,
} from './tokens.js';

/** An encoded word in a charset Python knows but this port does not decode. */
class UnsupportedCharsetError extends Error {}

const HEX = '0123456789abcdefABCDEF';
const EQUALS = 0x3d;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Python's `get_encoded_word`, which atoms, dot-atoms and quoted strings try whenever they see
 * '=?'. It may consume specials and spaces: everything up to the next '?=' belongs to the word.
 */
export function getEncodedWord(value: string): [TokenList, string] {
  if (!value.startsWith('=?')) throw new HeaderParseError(`expected encoded word but found ${value}`);
  const body = value.slice(2);
  const end = body.indexOf('?=');
  if (end < 0) throw new HeaderParseError(`expected encoded word but found ${value}`);
  let tok = body.slice(0, end);
  let rest = body.slice(end + 2);
  // The '?=' found may have been a Q-encoded '=XX' right after the encoding letter: look further.
  if (
    rest.length > 1 &&
    HEX.includes(rest.charAt(0)) &&
    HEX.includes(rest.charAt(1)) &&
    tok.split('?').length - 1 < 2
  ) {
    const end2 = rest.indexOf('?=');
    tok += `?=${end2 < 0 ? rest : rest.slice(0, end2)}`;
    rest = end2 < 0 ? '' : rest.slice(end2 + 2);
  }
  let text = decodeEncodedWord(`=?${tok}?=`);
  const ew = tokenList('encoded-word');
  while (text !== '') {
    let token: Terminal;
    if (WSP.includes(first(text))) {
      [token, text] = getFws(text);
    } else {
      const wsp = text.search(/[ \t]/);
      const end = wsp < 0 ? text.length : wsp;
      [token, text] = [valueTerminal(text.slice(0, end), 'vtext'), text.slice(end)];
    }
    ew.items.push(token);
  }
  return [ew, rest];
}

/** `_encoded_words.decode`, with get_encoded_word's conversion of ValueError/KeyError. */
function decodeEncodedWord(ew: string): string {
  const parts = ew.split('?');
  if (parts.length !== 5) throw new HeaderParseError('encoded word format invalid');
  const [, charsetAndLang = '', cte = '', encoded = ''] = parts;
  const charset = charsetAndLang.split('*')[0] ?? '';
  const lower = cte.toLowerCase();
  if (lower !== 'q' && lower !== 'b') throw new HeaderParseError('encoded word format invalid');
  const bytes = encodeAsciiSurrogateEscape(encoded);
  return decodeBytes(lower === 'q' ? decodeQ(bytes) : decodeB(bytes), charset);
}

/** `s.encode('ascii', 'surrogateescape')`; its UnicodeEncodeError is a ValueError. */
function encodeAsciiSurrogateEscape(text: string): number[] {
  return Array.from(text, (char) => {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code < 0x80) return code;
    if (char.length === 1 && code >= 0xdc80 && code <= 0xdcff) return code - 0xdc00;
    throw new HeaderParseError('encoded word format invalid');
  });
}

/** `decode_q`: '_' is a space, then each '=XX' becomes a byte. */
function decodeQ(bytes: number[]): number[] {
  const input = bytes.map((b) => (b === 0x5f ? 0x20 : b));
  const out: number[] = [];
  for (let i = 0; i < input.length; i++) {
    const hex = String.fromCharCode(input[i + 1] ?? 0, input[i + 2] ?? 0);
    if (input[i] === EQUALS && /^[0-9a-fA-F]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(input[i] ?? 0);
    }
  }
  return out;
}

/** `decode_b`: strict base64 with the padding fixed, then two lenient tries, then the raw bytes. */
function decodeB(bytes: number[]): number[] {
  const missingPadding = (4 - (bytes.length % 4)) % 4;
  return (
    a2bBase64([...bytes, ...new Array<number>(missingPadding).fill(EQUALS)], true) ??
    a2bBase64(bytes, false) ??
    a2bBase64([...bytes, EQUALS, EQUALS], false) ??
    bytes
  );
}

/** CPython 3.11's `binascii.a2b_base64` (Modules/binascii.c); undefined where it raises. */
function a2bBase64(input: number[], strict: boolean): number[] | undefined {
  if (strict && input[0] === EQUALS) return undefined; // "Leading padding not allowed"
  const out: number[] = [];
  let quadPos = 0;
  let leftChar = 0;
  let pads = 0;
  let paddingStarted = false;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] ?? 0;
    if (byte === EQUALS) {
      paddingStarted = true;
      if (strict && quadPos === 0) return undefined;
      if (quadPos >= 2 && quadPos + ++pads >= 4) {
        // Padding ends the data; strict mode wants nothing after it.
        return strict && i + 1 < input.length ? undefined : out;
      }
      continue;
    }
    const sextet = byte < 0x80 ? BASE64.indexOf(String.fromCharCode(byte)) : -1;
    if (sextet < 0) {
      if (strict) return undefined;
      continue;
    }
    if (strict && paddingStarted) return undefined;
    pads = 0;
    switch (quadPos) {
      case 0:
        leftChar = sextet;
        break;
      case 1:
        out.push((leftChar << 2) | (sextet >> 4));
        leftChar = sextet & 0x0f;
        break;
      case 2:
        out.push((leftChar << 4) | (sextet >> 2));
        leftChar = sextet & 0x03;
        break;
      default:
        out.push((leftChar << 6) | sextet);
        leftChar = 0;
    }
    quadPos = (quadPos + 1) % 4;
  }
  return quadPos === 0 ? out : undefined; // a partial quad: "Incorrect padding"
}

/** `bytes.decode(charset)`, falling back to surrogateescape as `_encoded_words.decode` does. */
function decodeBytes(bytes: number[], charset: string): string {
  // Argument parsing: a lone surrogate is a UnicodeEncodeError (an unknown charset to decode()),
  // an embedded NUL a ValueError (which makes get_encoded_word give up on the word).
  if (/\p{Cs}/u.test(charset)) return decodeAscii(bytes);
  if (charset.includes('\0')) throw new HeaderParseError('embedded null character');
  if (bytes.length === 0) return ''; // PyUnicode_Decode answers before looking the codec up
  const codec = lookupCodec(charset);
  switch (codec) {
    case 'utf-8':
      return decodeUtf8(bytes);
    case 'ascii':
      return decodeAscii(bytes);
    case 'latin-1':
      return String.fromCharCode(...bytes);
    case 'undefined':
      throw new HeaderParseError('undefined encoding'); // a UnicodeError
    case 'other':
      throw new UnsupportedCharsetError(`charset ${JSON.stringify(charset)} is not ported`);
    case undefined:
      return decodeAscii(bytes); // LookupError: "unknown-8bit" and friends
    default:
      return unreachable(codec);
  }
}

const escapeByte = (byte: number): string => String.fromCharCode(0xdc00 + byte);
const decodeAscii = (bytes: number[]): string =>
  bytes.map((b) => (b < 0x80 ? String.fromCharCode(b) : escapeByte(b))).join('');

/** Strict UTF-8 with surrogateescape: each byte of an invalid sequence becomes U+DCxx. */
function decodeUtf8(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i] ?? 0;
    const [length, secondMin, secondMax] = utf8Sequence(lead);
    const tail = bytes.slice(i + 1, i + length);
    const second = tail[0] ?? 0;
    const valid =
      length > 0 &&
      tail.length === length - 1 &&
      (length === 1 || (second >= secondMin && second <= secondMax)) &&
      tail.slice(1).every((b) => b >= 0x80 && b <= 0xbf);
    if (!valid) {
      out += escapeByte(lead);
      i += 1;
      continue;
    }
    let code = length === 1 ? lead : lead & (0xff >> (length + 1));
    for (const b of tail) code = (code << 6) | (b & 0x3f);
    out += String.fromCodePoint(code);
    i += length;
  }
  return out;
}

/** A UTF-8 lead byte's sequence length and the range its second byte must be in (0: invalid). */
function utf8Sequence(lead: number): [number, number, number] {
  if (lead < 0x80) return [1, 0, 0];
  if (lead < 0xc2) return [0, 0, 0]; // continuation bytes and overlong 2-byte forms
  if (lead < 0xe0) return [2, 0x80, 0xbf];
  if (lead === 0xe0) return [3, 0xa0, 0xbf]; // no overlongs
  if (lead === 0xed) return [3, 0x80, 0x9f]; // no surrogates
  if (lead < 0xf0) return [3, 0x80, 0xbf];
  if (lead === 0xf0) return [4, 0x90, 0xbf]; // no overlongs
  if (lead < 0xf4) return [4, 0x80, 0xbf];
  if (lead === 0xf4) return [4, 0x80, 0x8f]; // nothing past U+10FFFF
  return [0, 0, 0];
}

type Codec = 'utf-8' | 'ascii' | 'latin-1' | 'undefined' | 'other';

/**
 * Python 3.11's text codecs by name: the keys of `encodings.aliases` and the modules of the
 * `encodings` package, as `codecs.lookup` normalizes them. A '*' marks a module name that is not
 * also an alias, which `encodings.search_function` does not find through its '.'-to-'_' retry.
 * 'other' lists the codecs this port does not decode; names absent here (and the bytes-to-bytes
 * codecs such as 'hex' or 'rot13') make `bytes.decode` raise LookupError.
 */
const PY_CODECS: Record<Codec, string> = {
  'utf-8': 'cp65001 u8 utf utf8 utf8_ucs2 utf8_ucs4 utf_8*',
  ascii:
    '646 ansi_x3.4_1968 ansi_x3.4_1986 ansi_x3_4_1968 ascii* cp367 csascii ibm367 iso646_us iso_646.irv_1991 iso_ir_6 us us_ascii',
  'latin-1':
    '8859 cp819 csisolatin1 ibm819 iso8859 iso8859_1 iso_8859_1 iso_8859_1_1987 iso_ir_100 l1 latin latin1 latin_1*',
  undefined: 'undefined*',
  other: `
037 1026 1125 1140 1250 1251 1252 1253 1254 1255 1256 1257 1258 273 424 437 500 775 850 852 855
857 858 860 861 862 863 864 865 866 869 932 936 949 950 arabic asmo_708 big5* big5_hkscs big5_tw
big5hkscs* charmap* chinese cp037* cp1006* cp1026* cp1051 cp1125* cp1140* cp1250* cp1251*
cp1252* cp1253* cp1254* cp1255* cp1256* cp1257* cp1258* cp1361 cp154 cp273* cp424* cp437* cp500*
cp720* cp737* cp775* cp850* cp852* cp855* cp856* cp857* cp858* cp860* cp861* cp862* cp863*
cp864* cp865* cp866* cp866u cp869* cp874* cp875* cp932* cp936 cp949* cp950* cp_gr cp_is csbig5
csibm037 csibm1026 csibm273 csibm424 csibm500 csibm855 csibm857 csibm858 csibm860 csibm861
csibm863 csibm864 csibm865 csibm866 csibm869 csiso2022jp csiso2022kr csiso58gb231280 csisolatin2
csisolatin3 csisolatin4 csisolatin5 csisolatin6 csisolatinarabic csisolatincyrillic
csisolatingreek csisolatinhebrew cskoi8r cspc775baltic cspc850multilingual cspc862latinhebrew
cspc8codepage437 cspcp852 csptcp154 csshiftjis cyrillic cyrillic_asian ebcdic_cp_be ebcdic_cp_ca
ebcdic_cp_ch ebcdic_cp_he ebcdic_cp_nl ebcdic_cp_us ebcdic_cp_wt ecma_114 ecma_118 elot_928
euc_cn euc_jis2004 euc_jis_2004* euc_jisx0213* euc_jp* euc_kr* euccn eucgb2312_cn eucjis2004
eucjisx0213 eucjp euckr gb18030* gb18030_2000 gb2312* gb2312_1980 gb2312_80 gbk* greek greek8
hebrew hkscs hp_roman8* hz* hz_gb hz_gb_2312 hzgb ibm037 ibm039 ibm1026 ibm1051 ibm1125 ibm1140
ibm273 ibm424 ibm437 ibm500 ibm775 ibm850 ibm852 ibm855 ibm857 ibm858 ibm860 ibm861 ibm862
ibm863 ibm864 ibm865 ibm866 ibm869 idna* iso2022_jp* iso2022_jp_1* iso2022_jp_2*
iso2022_jp_2004* iso2022_jp_3* iso2022_jp_ext* iso2022_kr* iso2022jp iso2022jp_1 iso2022jp_2
iso2022jp_2004 iso2022jp_3 iso2022jp_ext iso2022kr iso8859_10* iso8859_11* iso8859_13*
iso8859_14* iso8859_15* iso8859_16* iso8859_2* iso8859_3* iso8859_4* iso8859_5* iso8859_6*
iso8859_7* iso8859_8* iso8859_9* iso_2022_jp iso_2022_jp_1 iso_2022_jp_2 iso_2022_jp_2004
iso_2022_jp_3 iso_2022_jp_ext iso_2022_kr iso_8859_10 iso_8859_10_1992 iso_8859_11
iso_8859_11_2001 iso_8859_13 iso_8859_14 iso_8859_14_1998 iso_8859_15 iso_8859_16
iso_8859_16_2001 iso_8859_2 iso_8859_2_1987 iso_8859_3 iso_8859_3_1988 iso_8859_4
iso_8859_4_1988 iso_8859_5 iso_8859_5_1988 iso_8859_6 iso_8859_6_1987 iso_8859_7 iso_8859_7_1987
iso_8859_8 iso_8859_8_1988 iso_8859_9 iso_8859_9_1989 iso_celtic iso_ir_101 iso_ir_109
iso_ir_110 iso_ir_126 iso_ir_127 iso_ir_138 iso_ir_144 iso_ir_148 iso_ir_157 iso_ir_166
iso_ir_199 iso_ir_226 iso_ir_58 jisx0213 johab* koi8_r* koi8_t* koi8_u* korean ks_c_5601
ks_c_5601_1987 ks_x_1001 ksc5601 ksx1001 kz1048* kz_1048 l10 l2 l3 l4 l5 l6 l7 l8 l9 latin10
latin2 latin3 latin4 latin5 latin6 latin7 latin8 latin9 mac_arabic* mac_centeuro mac_croatian*
mac_cyrillic* mac_farsi* mac_greek* mac_iceland* mac_latin2* mac_roman* mac_romanian*
mac_turkish* maccentraleurope maccyrillic macgreek maciceland macintosh maclatin2 macroman
macturkish ms1361 ms932 ms936 ms949 ms950 ms_kanji mskanji palmos* pt154 ptcp154* punycode* r8
raw_unicode_escape* rk1048 roman8 ruscii s_jis s_jis_2004 s_jisx0213 shift_jis* shift_jis_2004*
shift_jisx0213* shiftjis shiftjis2004 shiftjisx0213 sjis sjis_2004 sjisx0213 strk1048_2002 thai
tis620 tis_620* tis_620_0 tis_620_2529_0 tis_620_2529_1 u16 u32 u7 u_jis uhc ujis
unicode_1_1_utf_7 unicode_escape* unicodebigunmarked unicodelittleunmarked utf16 utf32 utf7
utf_16* utf_16_be* utf_16_le* utf_16be utf_16le utf_32* utf_32_be* utf_32_le* utf_32be utf_32le
utf_7* utf_8_sig* windows_1250 windows_1251 windows_1252 windows_1253 windows_1254 windows_1255
windows_1256 windows_1257 windows_1258 x_mac_japanese x_mac_korean x_mac_simp_chinese
x_mac_trad_chinese`,
};

const CODEC_BY_NAME = new Map<string, { codec: Codec; alias: boolean }>(
  Object.entries(PY_CODECS).flatMap(([codec, names]) =>
    names
      .trim()
      .split(/\s+/)
      .map((name) => [name.replace('*', ''), { codec: codec as Codec, alias: !name.endsWith('*') }] as const),
  ),
);

/** `codecs.lookup(charset)` for a text codec: C's `_Py_normalize_encoding`, then the search function. */
function lookupCodec(charset: string): Codec | undefined {
  let name = '';
  let punct = false;
  for (const byte of Buffer.from(charset, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9.]/.test(char)) {
      if (punct && name !== '') name += '_';
      name += char.toLowerCase();
      punct = false;
    } else {
      punct = true;
    }
  }
  const exact = CODEC_BY_NAME.get(name);
  if (exact) return exact.codec;
  const retry = CODEC_BY_NAME.get(name.replaceAll('.', '_'));
  return retry?.alias ? retry.codec : undefined;
}
