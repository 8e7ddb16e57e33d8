/**
 * `npm run bench:held`: what requests held by `latest?wait=` cost the sink
 * while they wait: its RSS with N of them open against without, and the
 * CPU it uses over an idle stretch with them open (no polling inside the
 * server: each waits on the inbox's `new` event). Then one message that
 * matches all of them, and how long until every one is answered.
 *
 * Usage: node --import tsx test/bench/held.ts [--held 1000] [--idle-seconds 5]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { inboxUrl, startCli } from '../helpers/cli.js';
import { sendMail } from '../helpers/smtp-client.js';
import { until } from '../helpers/until.js';
import { cpuTimes, memory } from './proc-stats.js';

const { values } = parseArgs({
  options: { held: { type: 'string', default: '1000' }, 'idle-seconds': { type: 'string', default: '5' } },
});
const held = Number(values.held);
const idleSeconds = Number(values['idle-seconds']);

const cli = await startCli(['-o', 'headers:/dev/null', '--http', '127.0.0.1:0', '127.0.0.1:0']);
const pid = cli.child.pid!;
const url = new URL(inboxUrl(cli));
const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
try {
  // A first request, so the inbox's code is loaded and warm before the baseline.
  await fetch(`${url.origin}/api/v1/messages`);
  await settle();
  const before = memory(pid).rssKiB;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let answered = 0;
  for (let i = 0; i < held; i++) {
    http
      .get(`${url.origin}/api/v1/message/latest?query=subject:held&wait=120s`, { agent }, (res) => {
        res.resume();
        res.on('end', () => answered++);
      })
      .on('error', () => {});
  }
  // The sink still answers others meanwhile; a second more lets every held request arrive.
  await until(async () => (await fetch(`${url.origin}/api/v1/info`)).ok, 10_000, 'the sink to answer');
  await settle();
  const withHeld = memory(pid).rssKiB;
  const cpu0 = cpuTimes(pid);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const cpu1 = cpuTimes(pid);
  const started = performance.now();
  await sendMail(cli.port, {
    from: 'a@example.test',
    to: ['b@example.test'],
    data: 'Subject: held\r\n\r\nfor all of them\r\n',
  });
  await until(() => answered === held, 30_000, `all ${held} answers`);
  const answerMs = performance.now() - started;
  const idleCpuMs = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) * 1000;
  process.stdout.write(
    `${JSON.stringify(
      {
        held,
        rssBeforeMiB: Math.round(before / 102.4) / 10,
        rssHeldMiB: Math.round(withHeld / 102.4) / 10,
        costMiB: Math.round((withHeld - before) / 102.4) / 10,
        idleSeconds,
        idleCpuMs: Math.round(idleCpuMs),
        allAnsweredMs: Math.round(answerMs),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await cli.stop();
}
