/**
 * The `json` format's schema as data (JSON Schema 2020-12), kept next to the
 * printer and checked against real CLI output by test/formats-json.test.ts.
 * README.md ("JSON output") documents the same fields for people.
 */
import { LINT_CODES } from '../lint/findings.js';
import { JSON_SCHEMA_VERSION } from './json.js';

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: string } as const;

const endpoint = {
  type: 'object',
  required: ['address', 'port'],
  additionalProperties: false,
  properties: { address: string, port: { type: 'integer', minimum: 0, maximum: 65535 } },
} as const;

const addresses = {
  type: 'array',
  items: {
    type: 'object',
    required: ['name', 'address'],
    additionalProperties: false,
    properties: { name: string, address: string },
  },
} as const;

const properties = {
  type: { const: 'message' },
  schemaVersion: { const: JSON_SCHEMA_VERSION },
  id: string,
  /** The inbox's ID, with `--store` (assigned before the outputs are written): src/envelope.ts. */
  inboxId: string,
  receivedAt: { type: 'string', format: 'date-time' },
  peer: endpoint,
  local: endpoint,
  helo: string,
  esmtp: { type: 'boolean' },
  tls: {
    type: ['object', 'null'],
    required: ['protocol', 'cipher'],
    additionalProperties: false,
    properties: { protocol: string, cipher: string },
  },
  authUser: nullableString,
  mailbox: nullableString,
  mailFrom: string,
  rcptTo: strings,
  mailOptions: strings,
  rcptOptions: strings,
  size: { type: 'integer', minimum: 0 },
  savedAs: nullableString,
  parseError: nullableString,
  messageId: nullableString,
  subject: nullableString,
  from: addresses,
  to: addresses,
  cc: addresses,
  bcc: addresses,
  date: { type: ['string', 'null'], format: 'date-time' },
  headers: {
    type: 'array',
    items: {
      type: 'object',
      required: ['name', 'value'],
      additionalProperties: false,
      properties: { name: string, value: string },
    },
  },
  text: nullableString,
  html: nullableString,
  attachments: {
    type: 'array',
    items: {
      type: 'object',
      required: ['filename', 'contentType', 'size', 'sha256', 'disposition', 'contentId'],
      additionalProperties: false,
      properties: {
        filename: nullableString,
        contentType: string,
        size: { type: 'integer', minimum: 0 },
        sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        disposition: nullableString,
        contentId: nullableString,
      },
    },
  },
  lint: {
    type: 'array',
    items: {
      type: 'object',
      required: ['code', 'severity', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: `^(${LINT_CODES.join('|')})$` },
        severity: { type: 'string', pattern: '^(error|warning|note)$' },
        message: string,
      },
    },
  },
  relay: {
    type: 'object',
    required: ['upstream', 'accepted', 'refused'],
    additionalProperties: false,
    properties: {
      upstream: nullableString,
      accepted: strings,
      refused: {
        type: 'array',
        items: {
          type: 'object',
          required: ['address', 'code', 'message'],
          additionalProperties: false,
          properties: { address: string, code: { type: 'integer', minimum: 400, maximum: 599 }, message: string },
        },
      },
    },
  },
  rules: strings,
  raw: { type: 'string', contentEncoding: 'base64' },
} as const;

/** JSON Schema of one line of `--format json` output. */
export const JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://github.com/smtpd-ts/smtpd-ts/schema/message-v${JSON_SCHEMA_VERSION}.json`,
  title: 'smtpd-ts message',
  type: 'object',
  required: Object.keys(properties).filter((k) => !['inboxId', 'raw', 'relay', 'rules'].includes(k)),
  additionalProperties: false,
  properties,
} as const;

const tlsInfo = properties.tls;

/** JSON Schema of a `session` line (`--transcript`), beside the message lines. */
export const SESSION_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://github.com/smtpd-ts/smtpd-ts/schema/session-v${JSON_SCHEMA_VERSION}.json`,
  title: 'smtpd-ts session',
  type: 'object',
  required: [
    'type',
    'schemaVersion',
    'id',
    'startedAt',
    'endedAt',
    'peer',
    'local',
    'tls',
    'end',
    'messages',
    'rules',
    'dialogue',
    'omittedLines',
  ],
  additionalProperties: false,
  properties: {
    type: { const: 'session' },
    schemaVersion: { const: JSON_SCHEMA_VERSION },
    id: string,
    startedAt: { type: 'string', format: 'date-time' },
    endedAt: { type: 'string', format: 'date-time' },
    peer: endpoint,
    local: endpoint,
    tls: tlsInfo,
    end: { type: 'string', pattern: '^(quit|client-closed|server-closed|timeout|drop|shutdown|error)$' },
    messages: strings,
    rules: strings,
    dialogue: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'dir', 'text'],
        additionalProperties: false,
        properties: {
          at: { type: 'string', format: 'date-time' },
          dir: { type: 'string', pattern: '^(client|server|event)$' },
          text: string,
        },
      },
    },
    omittedLines: { type: 'integer', minimum: 0 },
  },
} as const;

/** JSON Schema of a `withdrawn` line: the message with this id, written above, got 451 after all. */
export const WITHDRAWN_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://github.com/smtpd-ts/smtpd-ts/schema/withdrawn-v${JSON_SCHEMA_VERSION}.json`,
  title: 'smtpd-ts withdrawn message',
  type: 'object',
  required: ['type', 'schemaVersion', 'id', 'reason'],
  additionalProperties: false,
  properties: {
    type: { const: 'withdrawn' },
    schemaVersion: { const: JSON_SCHEMA_VERSION },
    id: string,
    reason: string,
  },
} as const;

/** JSON Schema of a `refusal` line (`--json-refusals`): a refused command, connection or TLS handshake. */
export const REFUSAL_JSON_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `https://github.com/smtpd-ts/smtpd-ts/schema/refusal-v${JSON_SCHEMA_VERSION}.json`,
  title: 'smtpd-ts refusal',
  type: 'object',
  required: ['type', 'schemaVersion', 'time', 'peer', 'command', 'code', 'enhanced', 'text', 'reason'],
  additionalProperties: false,
  properties: {
    type: { const: 'refusal' },
    schemaVersion: { const: JSON_SCHEMA_VERSION },
    time: { type: 'string', format: 'date-time' },
    peer: {
      type: 'object',
      required: ['address', 'port'],
      additionalProperties: false,
      properties: { address: string, port: { type: 'integer' } },
    },
    command: string,
    code: { type: ['integer', 'null'], minimum: 400, maximum: 599 },
    enhanced: { type: ['string', 'null'] },
    text: string,
    reason: { type: ['string', 'null'] },
  },
} as const;
