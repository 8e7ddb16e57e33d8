// nodemailer's smtp-server as a sink, one of the bench's peers: it accepts
// every message and throws the bytes away. Plain JavaScript, so it starts
// in plain node as every other server does (a TypeScript file would need
// the tsx loader, which would add to its start-up time in S5).
//
// Prints `smtp-server sink listening on 127.0.0.1:PORT` on stderr and exits
// on SIGTERM or SIGINT. Usage: node test/bench/smtp-server-sink.mjs [PORT]
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  onData(stream, session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => callback());
  },
});
server.on('error', (err) => process.stderr.write(`smtp-server sink: ${err.message}\n`));
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { address, port } = server.server.address();
  process.stderr.write(`smtp-server sink listening on ${address}:${port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
