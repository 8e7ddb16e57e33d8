/**
 * A minimal SMTP client over node:net for tests: it sends bytes and reads
 * complete replies (multi-line aware), each wait bounded by a timeout. It can
 * switch to TLS in place (STARTTLS) or start in TLS (implicit TLS), trusting
 * any certificate.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpReply {
  readonly code: number;
  readonly lines: string[];
}

export class SmtpClient {
  private buf = '';
  /** Lines of a multi-line reply whose last line has not arrived yet. */
  private partial: string[] = [];
  private readonly replies: SmtpReply[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', () => {});
  }

  private readonly onData = (s: string): void => {
    this.buf += s;
    this.parse();
    this.waiter?.();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.waiter?.();
  };

  /** Connects with TLS from the first byte (RFC 8314); `head` is written in the clear first (a PROXY header). */
  static async connectTls(port: number, head?: Buffer | string, timeoutMs = 5000): Promise<SmtpClient> {
    const plain = await SmtpClient.connect(port, '127.0.0.1', timeoutMs);
    if (head !== undefined) plain.write(head);
    await plain.startTls(timeoutMs);
    return plain;
  }

  /** Switches to TLS (after a 220 to STARTTLS); resolves with the negotiated protocol. */
  async startTls(timeoutMs = 5000): Promise<string> {
    const raw = this.socket;
    raw.off('data', this.onData);
    raw.off('close', this.onClose);
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'sink.test' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('TLS handshake timed out')), timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    this.socket = secure;
    this.attach(secure);
    return secure.getProtocol() ?? '';
  }

  /** Connects to host:port. */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new SmtpClient(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private parse(): void {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) return;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      // A multi-line reply may arrive over several 'data' events (smtpd sends each line apart).
      this.partial.push(line.slice(4));
      if (line[3] !== '-') {
        this.replies.push({ code: Number(line.slice(0, 3)), lines: this.partial });
        this.partial = [];
      }
    }
  }

  /** Writes raw bytes. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves with the next reply (or rejects on timeout / close). */
  read(timeoutMs = 5000): Promise<SmtpReply> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const r = this.replies.shift();
        if (r) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(r);
        } else if (this.closed) {
          clearTimeout(timer);
          this.waiter = undefined;
          reject(new Error('connection closed while waiting for a reply'));
        }
      };
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = check;
      check();
    });
  }

  /** Sends one command line (CRLF added) and reads its reply. */
  async command(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  /** Sends HELO, MAIL FROM, RCPT TO and DATA, each answered, leaving the session in DATA. */
  async enterData(): Promise<void> {
    for (const line of ['HELO x', 'MAIL FROM:<a@x>', 'RCPT TO:<b@x>', 'DATA']) await this.command(line);
  }

  /** Writes one byte every `everyMs` (a slow-loris client) until the server answers; resolves with that reply. */
  async drip(everyMs = 50, timeoutMs = 5000): Promise<SmtpReply> {
    const timer = setInterval(() => this.write('x'), everyMs);
    try {
      return await this.read(timeoutMs);
    } finally {
      clearInterval(timer);
    }
  }

  /** Resolves once the server has closed the connection. */
  waitClosed(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error('server did not close the connection')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends one whole message (greeting .. QUIT) and returns every reply code in order. */
export async function sendMail(
  port: number,
  opts: { from: string; to: string[]; data: string | Buffer; ehlo?: string; host?: string },
): Promise<number[]> {
  const c = await SmtpClient.connect(port, opts.host);
  try {
    const codes = [(await c.read()).code];
    codes.push((await c.command(`EHLO ${opts.ehlo ?? 'client.test'}`)).code);
    codes.push((await c.command(`MAIL FROM:<${opts.from}>`)).code);
    for (const to of opts.to) codes.push((await c.command(`RCPT TO:<${to}>`)).code);
    codes.push((await c.command('DATA')).code);
    c.write(opts.data);
    c.write('\r\n.\r\n');
    codes.push((await c.read()).code);
    codes.push((await c.command('QUIT')).code);
    return codes;
  } finally {
    c.close();
  }
}
