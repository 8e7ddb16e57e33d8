/**
 * A port for servers that cannot listen on port 0 and say which port they
 * got (Python's smtpd, the benchmark's peers): bind a node server to port 0,
 * note the port, close it. Another process may take it meanwhile, so callers
 * retry when the server then fails to bind.
 */
import { once } from 'node:events';
import net from 'node:net';

/** A port that was free a moment ago on `host` (127.0.0.1 unless told). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
