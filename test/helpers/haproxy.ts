/**
 * Debian's HAProxy (`apt-get install haproxy`) as a TCP load balancer in
 * front of sink instances on loopback, each sent a PROXY protocol v2
 * header (`send-proxy-v2`), round robin; or as a reverse proxy that hosts
 * the inbox at a sub-path. Started in the foreground by
 * its PID with a config in a temporary folder, and stopped by it. Tests
 * skip with HAPROXY_SKIP where it is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { until } from './until.js';

const BIN = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();

export const HAPROXY_SKIP: string | false = BIN ? false : 'HAProxy is not installed (apt-get install haproxy)';

export class Balancer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  /** A balancer on a free loopback port in front of `backends` (SMTP ports on 127.0.0.1). */
  static async start(backends: readonly number[]): Promise<Balancer> {
    const port = await freePort();
    return Balancer.run(port, [
      'global',
      '  maxconn 256',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      // A connection to an instance that just died goes to another (as a deployment would have it).
      '  retries 3',
      '  option redispatch',
      'listen smtp',
      `  bind 127.0.0.1:${port}`,
      '  balance roundrobin',
      // A dead instance is noticed within a second and skipped.
      ...backends.map(
        (b, i) => `  server sink${i} 127.0.0.1:${b} send-proxy-v2 check check-send-proxy inter 500ms fall 1 rise 1`,
      ),
    ]);
  }

  /**
   * A reverse proxy in HTTP mode on a free loopback port that sends paths
   * under `prefix` (`/mail/`), unchanged, to the HTTP server on `backend`
   * and answers anything else 404 itself, as a site that hosts the inbox
   * at a sub-path would. WebSocket upgrades pass through.
   */
  static async httpPrefix(prefix: string, backend: number): Promise<Balancer> {
    const port = await freePort();
    return Balancer.run(port, [
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  timeout tunnel 30s',
      'frontend site',
      `  bind 127.0.0.1:${port}`,
      `  acl inbox path_beg ${prefix.slice(0, -1)}`,
      '  use_backend sink if inbox',
      '  http-request return status 404 content-type text/plain string "not the inbox" if !inbox',
      'backend sink',
      `  server sink 127.0.0.1:${backend}`,
    ]);
  }

  /** Runs HAProxy with `config` (lines), and waits until it takes connections on `port`. */
  private static async run(port: number, config: readonly string[]): Promise<Balancer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smtpd-ts-haproxy-'));
    writeFileSync(path.join(dir, 'haproxy.cfg'), [...config, ''].join('\n'));
    const child = spawn(BIN, ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    const balancer = new Balancer(port, child, dir);
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          if (child.exitCode !== null) throw new Error(`haproxy exited: ${err}`);
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        }),
      10_000,
      'HAProxy to listen',
    );
    return balancer;
  }

  /** HAProxy's process id (the bench counts its CPU). */
  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
