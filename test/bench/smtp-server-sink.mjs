// nodemailer's smtp-server as a sink, one of the bench's peers: it accepts
// every message and throws the bytes away, or, with --write, keeps each
// message whole and writes it to stdout before answering 250, as smtpd-ts
// does with what it prints (like for like). Plain JavaScript, so it starts
// in plain node as every other server does (a TypeScript file would need
// the tsx loader, which would add to its start-up time in S5).
//
// Prints `smtp-server sink listening on 127.0.0.1:PORT` on stderr and exits
// on SIGTERM or SIGINT. Usage: node test/bench/smtp-server-sink.mjs [--write] [PORT]
import { Buffer } from 'node:buffer';
import { SMTPServer } from 'smtp-server';

const args = process.argv.slice(2);
const write = args.includes('--write');
const port = Number(args.find((a) => a !== '--write') ?? 0);

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  onData(stream, session, callback) {
    if (!write) {
      stream.on('data', () => {});
      stream.on('end', () => callback());
      return;
    }
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => process.stdout.write(Buffer.concat(chunks), () => callback()));
  },
});
server.on('error', (err) => process.stderr.write(`smtp-server sink: ${err.message}\n`));
server.listen(port, '127.0.0.1', () => {
  const { address, port } = server.server.address();
  process.stderr.write(`smtp-server sink listening on ${address}:${port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
