/**
 * The OpenAPI 3.1 document of the inbox's HTTP API, served at
 * `/api/v1/swagger.json` (where Mailpit serves its own) and shipped in the
 * package. One place says what each route takes and gives; the shapes are
 * Mailpit's and MailHog's, plus `SmtpdTs` (docs/http.md).
 */
import { VERSION } from '../version.js';

const text = { 'text/plain': { schema: { type: 'string' } } };
const ok = { description: 'ok', content: text };
const bad = { description: 'a bad request: one line of text', content: text };
const notFound = { description: 'no such message: one line of text', content: text };
const string = { type: 'string' };
const strings = { type: 'array', items: string };
const upstreamRefused = { description: 'the upstream refused it' };
/** A JSON object request body with these properties. */
const jsonBody = (properties: Record<string, object>) => ({
  content: { 'application/json': { schema: { type: 'object', properties } } },
});
const jsonOf = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const idParam = { name: 'ID', in: 'path', required: true, description: 'a message ID, or `latest`', schema: string };
/** A string parameter in the query. */
const inQuery = (name: string, description: string) => ({ name, in: 'query', schema: string, description });
/** With `{ID}` = `latest`: the newest message a search matches, as Mailpit's LatestID. */
const latestQuery = inQuery(
  'query',
  'with latest: the newest message this Mailpit search matches (404 when none does)',
);
/** With `latest`: hold the request until such a message arrives, and count only those newer than a message. */
const latestWait = inQuery(
  'wait',
  'with latest: wait up to this long (30s, 500ms, 2m, or seconds; at most 2 minutes) for a match',
);
const latestAfter = inQuery(
  'after',
  'with latest: only a message newer than this ID (400 when there is no such message)',
);
const paging = [
  { name: 'start', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, default: 50 } },
];
const query = {
  name: 'query',
  in: 'query',
  required: true,
  schema: { type: 'string' },
  description: 'a Mailpit search',
};

/** A GET of a message's bytes (or a part of it): 200 with them, 404 for no such message. */
const bytesOf = (summary: string, ...params: object[]) => ({
  get: { summary, parameters: [idParam, ...params], responses: { 200: { description: 'the bytes' }, 404: notFound } },
});

const address = {
  type: 'object',
  required: ['Name', 'Address'],
  properties: { Name: { type: 'string' }, Address: { type: 'string' } },
};
const addresses = { type: 'array', items: { $ref: '#/components/schemas/Address' } };
/** The fields a Message and a MessageSummary share. */
const messageFields = {
  ID: { type: 'string' },
  MessageID: { type: 'string' },
  From: { oneOf: [{ $ref: '#/components/schemas/Address' }, { type: 'null' }] },
  To: addresses,
  Cc: addresses,
  Bcc: addresses,
  ReplyTo: addresses,
  Subject: { type: 'string' },
  Username: { type: 'string' },
  Tags: { type: 'array', items: { type: 'string' } },
  Size: { type: 'integer' },
};
const attachment = {
  type: 'object',
  properties: {
    PartID: { type: 'string' },
    FileName: { type: 'string' },
    ContentType: { type: 'string' },
    ContentID: { type: 'string' },
    Size: { type: 'integer' },
    Checksums: {
      type: 'object',
      properties: { MD5: { type: 'string' }, SHA1: { type: 'string' }, SHA256: { type: 'string' } },
    },
  },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'smtpd-ts inbox',
    version: VERSION,
    description: "The messages smtpd-ts accepted, in Mailpit's API v1 and MailHog's API (`--http`).",
  },
  paths: {
    '/api/v1/messages': {
      get: {
        summary: 'List messages, newest first (Mailpit)',
        parameters: paging,
        responses: { 200: { description: 'a page', content: jsonOf('MessagesSummary') } },
      },
      put: {
        summary: 'Set the read status of messages (Mailpit); neither IDs nor Search: every message',
        requestBody: jsonBody({ IDs: strings, Read: { type: 'boolean' }, Search: { type: 'string' } }),
        responses: { 200: ok, 400: bad },
      },
      delete: {
        summary: 'Delete messages by ID, or every message without IDs (Mailpit and MailHog)',
        requestBody: jsonBody({ IDs: strings }),
        responses: { 200: { description: 'an empty body' }, 400: bad },
      },
    },
    '/api/v1/search': {
      get: {
        summary: 'Search (Mailpit)',
        parameters: [query, ...paging],
        responses: { 200: { description: 'a page', content: jsonOf('MessagesSummary') }, 400: bad },
      },
      delete: {
        summary: 'Delete what a search finds (Mailpit)',
        parameters: [query],
        responses: { 200: ok, 400: bad },
      },
    },
    '/api/v1/message/{ID}': {
      get: {
        summary: 'A message, marked read (Mailpit)',
        parameters: [idParam, latestQuery, latestWait, latestAfter],
        responses: { 200: { description: 'the message', content: jsonOf('Message') }, 404: notFound },
      },
    },
    '/api/v1/message/{ID}/headers': {
      get: {
        summary: "Its headers, as Go's mail.Header (Mailpit)",
        parameters: [idParam, latestQuery, latestWait, latestAfter],
        responses: {
          200: {
            description: 'header name -> values',
            content: {
              'application/json': {
                schema: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
          404: notFound,
        },
      },
    },
    '/api/v1/message/{ID}/raw': {
      get: {
        summary: 'The message as received; dl=1: as an attachment, {ID}.eml (Mailpit)',
        parameters: [
          idParam,
          latestQuery,
          latestWait,
          latestAfter,
          { name: 'dl', in: 'query', schema: { type: 'string', enum: ['1'] } },
        ],
        responses: { 200: { description: 'the bytes', content: text }, 404: notFound },
      },
    },
    '/api/v1/message/{ID}/release': {
      post: {
        summary: 'Send the message on to new recipients through the relay (--relay) (Mailpit)',
        parameters: [idParam],
        requestBody: jsonBody({ To: strings }),
        responses: { 200: ok, 400: bad, 404: notFound },
      },
    },
    '/api/v1/webui': {
      get: { summary: "Mailpit's web UI configuration", responses: { 200: { description: 'settings' } } },
    },
    '/api/v1/message/{ID}/part/{PartID}': bytesOf(
      'An attachment or inline part, decoded, with its content type (Mailpit)',
      { name: 'PartID', in: 'path', required: true, schema: { type: 'string' } },
      latestQuery,
      latestWait,
      latestAfter,
    ),
    '/view/{ID}.html': bytesOf(
      'The HTML body as the web UI previews it, under a sandboxing CSP; remote=1 allows remote images, CSS, fonts',
      { name: 'remote', in: 'query', schema: { type: 'string', enum: ['1'] } },
      latestQuery,
      latestWait,
      latestAfter,
    ),
    '/api/v1/tags': {
      get: {
        summary: 'Every tag, the mailboxes among them (Mailpit)',
        responses: {
          200: {
            description: 'names',
            content: { 'application/json': { schema: { type: 'array', items: { type: 'string' } } } },
          },
        },
      },
      put: {
        summary: 'Give these messages exactly these tags; none: no tags (Mailpit)',
        requestBody: jsonBody({ IDs: strings, Tags: strings }),
        responses: { 200: ok, 400: bad },
      },
    },
    '/api/v1/tags/{Tag}': {
      put: {
        summary: 'Rename a tag on every message that has it (Mailpit)',
        parameters: [{ name: 'Tag', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: jsonBody({ Name: { type: 'string' } }),
        responses: { 200: ok, 400: bad },
      },
      delete: {
        summary: 'Take a tag off every message that has it; no message is deleted (Mailpit)',
        parameters: [{ name: 'Tag', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: ok },
      },
    },
    '/view/{ID}.txt': {
      get: {
        summary: 'The text body (Mailpit)',
        parameters: [idParam, latestQuery, latestWait, latestAfter],
        responses: { 200: ok, 404: notFound },
      },
    },
    '/metrics': {
      get: {
        summary: "The sink's figures, Prometheus's text format (--metrics)",
        responses: { 200: ok, 404: notFound },
      },
    },
    '/api/v1/send': {
      post: {
        summary: 'Send a message into the sink, as if received over SMTP (Mailpit)',
        requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['From'] } } } },
        responses: {
          200: {
            description: 'its ID',
            content: { 'application/json': { schema: { type: 'object', properties: { ID: { type: 'string' } } } } },
          },
          400: { description: '{"Error": "..."}' },
        },
      },
    },
    '/api/v1/info': { get: { summary: "Mailpit's AppInformation", responses: { 200: { description: 'info' } } } },
    '/api/v1/swagger.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    '/api/events': {
      get: {
        summary: "Mailpit's WebSocket: {Type, Data} for new, update, delete, truncate, stats",
        responses: { 101: { description: 'switching to WebSocket' }, 403: { description: 'another origin' } },
      },
    },
    '/api/v2/messages': {
      get: {
        summary: 'List messages, newest first (MailHog); limit 250 at most',
        parameters: paging,
        responses: {
          200: {
            description: 'a page',
            content: { 'text/json': { schema: { $ref: '#/components/schemas/MailhogResult' } } },
          },
        },
      },
    },
    '/api/v2/search': {
      get: {
        summary: 'Search (MailHog)',
        parameters: [
          { name: 'kind', in: 'query', required: true, schema: { enum: ['from', 'to', 'containing'] } },
          query,
          ...paging,
        ],
        responses: {
          200: { description: 'a page', content: jsonOf('MailhogResult') },
          400: { description: 'bad kind or no query' },
        },
      },
    },
    '/api/v1/messages/{ID}': {
      get: {
        summary: 'A message (MailHog)',
        parameters: [idParam],
        responses: { 200: { description: 'the message' }, 404: notFound },
      },
      delete: {
        summary: 'Delete a message (MailHog)',
        parameters: [idParam],
        responses: { 200: { description: 'an empty body' }, 404: notFound },
      },
    },
    '/api/v1/messages/{ID}/download': bytesOf('The message as message/rfc822 (MailHog)'),
    '/api/v1/messages/{ID}/release': {
      post: {
        summary: "Send the message to Email through the relay's upstream, which Host and Port must name (MailHog)",
        parameters: [idParam],
        requestBody: jsonBody({ Host: string, Port: string, Email: string }),
        responses: { 200: { description: 'an empty body: sent' }, 400: bad, 404: notFound, 500: upstreamRefused },
      },
    },
    '/api/v1/messages/{ID}/mime/part/{N}/download': bytesOf("The Nth of MailHog's MIME parts, decoded (MailHog)", {
      name: 'N',
      in: 'path',
      required: true,
      schema: { type: 'integer' },
    }),
    '/api/v1/events': {
      get: {
        summary: "MailHog's server-sent events: `event: data` per new message",
        responses: { 200: { description: 'text/event-stream' } },
      },
    },
    '/livez': { get: { summary: 'Alive', responses: { 200: { description: 'empty' } } } },
    '/readyz': { get: { summary: 'Ready', responses: { 200: { description: 'empty' } } } },
  },
  components: {
    schemas: {
      Address: address,
      MessageSummary: {
        type: 'object',
        properties: {
          ...messageFields,
          Read: { type: 'boolean' },
          Created: { type: 'string', format: 'date-time' },
          Attachments: { type: 'integer' },
          Snippet: { type: 'string' },
        },
      },
      MessagesSummary: {
        type: 'object',
        properties: {
          total: { type: 'integer' },
          unread: { type: 'integer' },
          count: { type: 'integer' },
          messages_count: { type: 'integer' },
          messages_unread: { type: 'integer' },
          start: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
          messages: { type: 'array', items: { $ref: '#/components/schemas/MessageSummary' } },
        },
      },
      Attachment: attachment,
      Message: {
        type: 'object',
        properties: {
          ...messageFields,
          ReturnPath: { type: 'string' },
          Date: { type: 'string', format: 'date-time' },
          Text: { type: 'string' },
          HTML: { type: 'string' },
          Inline: { type: 'array', items: { $ref: '#/components/schemas/Attachment' } },
          Attachments: { type: 'array', items: { $ref: '#/components/schemas/Attachment' } },
          SmtpdTs: {
            type: 'object',
            description:
              'What only smtpd-ts knows: the envelope (as the JSON line spells it), the session, the lint, the relay',
            properties: {
              id: { type: 'string', description: "the SMTP side's ID: the JSON line's `id`" },
              inboxId: { type: 'string', description: 'with --store: the inbox ID, assigned before the outputs' },
              receivedAt: { type: 'string', format: 'date-time' },
              local: { type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' } } },
              esmtp: { type: 'boolean' },
              mailbox: { oneOf: [{ type: 'string' }, { type: 'null' }] },
              mailFrom: { type: 'string' },
              rcptTo: { type: 'array', items: { type: 'string' } },
              mailOptions: { type: 'array', items: { type: 'string' } },
              rcptOptions: { type: 'array', items: { type: 'string' } },
              helo: { type: 'string' },
              peer: { type: 'object', properties: { address: { type: 'string' }, port: { type: 'integer' } } },
              tls: { oneOf: [{ type: 'object' }, { type: 'null' }] },
              authUser: { oneOf: [{ type: 'string' }, { type: 'null' }] },
              lint: { type: 'array', items: { type: 'object' }, description: "the protocol lint's findings" },
              dialogue: {
                oneOf: [{ type: 'array', items: { type: 'object' } }, { type: 'null' }],
                description: 'with --transcript: the SMTP dialogue up to this message',
              },
              relay: {
                oneOf: [{ type: 'object' }, { type: 'null' }],
                description: 'relaying: who accepted the message and who refused it',
              },
              parseError: { oneOf: [{ type: 'string' }, { type: 'null' }] },
            },
          },
        },
      },
      MailhogResult: {
        type: 'object',
        properties: {
          total: { type: 'integer' },
          count: { type: 'integer' },
          start: { type: 'integer' },
          items: { type: 'array', items: { type: 'object' } },
        },
      },
    },
  },
} as const;
