/** A test certificate for the TLS tests (the client side is SmtpClient's startTls and connectTls). */
import { selfSignedCredentials, type TlsCredentials } from '../../src/server/tls.js';

let credentials: Promise<TlsCredentials> | undefined;

/** One self-signed certificate per test process (generating one takes about a second). */
export function testCredentials(): Promise<TlsCredentials> {
  return (credentials ??= selfSignedCredentials('sink.test'));
}
