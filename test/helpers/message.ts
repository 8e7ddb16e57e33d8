/** Builds Message values for unit tests of printers, outputs and handlers. */
import { countBareLineEndings } from '../../src/channel/data-decoder.js';
import type { Message } from '../../src/message.js';

/** A message with `data` (string: UTF-8, LF turned into CRLF) and a plausible envelope. */
export function makeMessage(data: string | Buffer, overrides: Partial<Message> = {}): Message {
  const bytes = typeof data === 'string' ? Buffer.from(data.replace(/\r?\n/g, '\r\n'), 'utf8') : data;
  return {
    id: '1234.1',
    receivedAt: new Date('2024-01-01T12:00:00.000Z'),
    peer: { address: '127.0.0.1', port: 40000 },
    local: { address: '127.0.0.1', port: 1025 },
    helo: 'client.test',
    extended: true,
    mailFrom: 'sender@example.com',
    rcptTos: ['rcpt@example.com'],
    mailOptions: [],
    rcptOptions: [],
    data: bytes,
    bareLineEndings: countBareLineEndings(bytes),
    ...overrides,
  };
}
