import { spawn } from 'node:child_process';
import net from 'node:net';
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir=/tmp/prof', 'bin/smtpd-ts.js', '127.0.0.1:0', ...process.argv.slice(2)], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = ''; child.stderr.on('data', (d) => (err += d));
while (!/listening on [\d.]+:(\d+)/.test(err)) await new Promise((r) => setTimeout(r, 20));
const port = Number(/listening on [\d.]+:(\d+)/.exec(err)![1]);
for (let i = 0; i < 2; i++) {
const s = net.connect(port, '127.0.0.1'); let txt = ''; s.on('data', (d) => (txt += d));
await new Promise((r) => s.once('connect', r));
s.write('HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n');
s.write(Buffer.concat([Buffer.from('Subject: c\r\n\r\n'), Buffer.alloc(30 << 20, 0x1b), Buffer.from('\r\n.\r\n')]));
while (!/250 OK\r\n$/.test(txt)) await new Promise((r) => setTimeout(r, 20));
s.destroy();
}
child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r));
