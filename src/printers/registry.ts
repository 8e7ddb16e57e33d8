/**
 * The formats `--format` names. Adding one is a printer module and a line
 * here; the CLI's help and validation read this table.
 */
import { printHeaders } from './headers.js';
import { printJson } from './json.js';
import { printParsed } from './parsed.js';
import type { Format } from './printer.js';
import { printRaw } from './raw.js';
import { printHeadersParts, printRawParts } from './raw-parts.js';

/** Every built-in format by name; `raw` is the default. */
export const FORMATS = {
  raw: { name: 'raw', print: printRaw, printParts: printRawParts, parses: false, human: true },
  headers: { name: 'headers', print: printHeaders, printParts: printHeadersParts, parses: false, human: true },
  parsed: { name: 'parsed', print: printParsed, parses: true, human: true },
  json: { name: 'json', print: printJson, parses: true, human: false },
} as const satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;

export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

/** Whether `name` is a built-in format. */
export function isFormatName(name: string): name is FormatName {
  return Object.hasOwn(FORMATS, name);
}
