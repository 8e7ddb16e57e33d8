/**
 * The benchmark's smoke mode, so that the harness cannot rot: every
 * scenario at a few hundred messages against smtpd-ts (raw and `-f json`)
 * and smtp-server, plus Python's smtpd where it is installed. It asserts
 * that every reply code was right and the report printed; never a timing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/temp-dir.js';
import { runBench, type BenchReport } from './bench.js';
import { LoadRun } from './load-generator.js';
import { makeMessage } from './messages.js';
import { runningPids } from './processes.js';
import { formatReport } from './report.js';
import { SCENARIO_IDS } from './scenarios.js';
import { buildProblem, findServer } from './servers.js';

describe('bench harness (smoke mode)', () => {
  const tmp = tempDir('bench-smoke');

  it('builds messages of the exact size with no line starting with a dot', () => {
    for (const size of [1024, 70_000, 1024 * 1024 + 1]) {
      const m = makeMessage(size);
      assert.equal(m.length, size);
      assert.ok(m.subarray(-2).equals(Buffer.from('\r\n')));
      assert.equal(m.includes('\r\n.'), false);
    }
  });

  it('fails a run on a wrong reply code and says which', async () => {
    // A server that answers every MAIL with 451.
    const server = net.createServer((socket) => {
      socket.write('220 test\r\n');
      socket.on('data', (chunk: Buffer) => {
        for (const line of chunk
          .toString('latin1')
          .split('\r\n')
          .filter((l) => l !== '')) {
          socket.write(
            line.startsWith('MAIL') ? '451 try later\r\n' : line.startsWith('QUIT') ? '221 bye\r\n' : '250 ok\r\n',
          );
        }
      });
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as net.AddressInfo;
      const result = await LoadRun.run({
        host: '127.0.0.1',
        port,
        mode: 'lockstep',
        connections: 2,
        messages: 10,
        messageSize: 1024,
        warmup: 0,
        timeoutMs: 5000,
      });
      assert.equal(result.ok, false);
      assert.equal(result.messages, 0);
      assert.match(result.error ?? '', /expected 250 after MAIL, got "451 try later"/);
    } finally {
      server.close();
    }
  });

  it(
    'runs every scenario against smtpd-ts and smtp-server with every reply code right, and prints the report',
    { timeout: 120_000 },
    async (t) => {
      const servers = ['smtpd-ts', 'smtpd-ts-json', 'smtp-server'];
      const python = findServer('python-smtpd')!;
      const pythonMissing = python.unavailable({ tmpDir: tmp.path, smtpdFrom: 'build', smtpdNodeArgs: [] });
      if (pythonMissing) t.diagnostic(`python-smtpd left out: ${pythonMissing}`);
      else servers.push('python-smtpd');
      const lines: string[] = [];
      const report: BenchReport = await runBench({
        rounds: 1,
        scenarios: SCENARIO_IDS,
        servers,
        smoke: true,
        timeoutMs: 20_000,
        generator: 'node',
        tmpDir: tmp.path,
        // The sources, so that the smoke needs no fresh build; the bench itself measures dist/.
        smtpdFrom: buildProblem() ? 'source' : 'build',
        smtpdNodeArgs: [],
        log: (line) => lines.push(line),
      });
      const problems = report.samples
        .filter((s) => s.outcome !== 'ok')
        .map((s) => `${s.scenario} ${s.server}: ${s.outcome}: ${s.error}`);
      assert.deepEqual(problems, [], lines.join('\n'));
      assert.deepEqual(report.failures, []);
      assert.deepEqual(
        report.servers.filter((s) => s.skipped).map((s) => `${s.name}: ${s.skipped}`),
        [],
      );
      assert.equal(report.samples.length, servers.length * SCENARIO_IDS.length);
      const text = formatReport(report, { command: 'smoke' });
      assert.match(text, /^\| server \| S1 msg\/s \|/m);
      assert.match(text, /^\| smtpd-ts \/ smtp-server \|/m);
      assert.match(text, /^\| S2 msg\/s at least 1.2x smtp-server \(draining\) \| [0-9.]+x \| (met|MISSED) \|$/m);
      for (const name of servers) assert.match(text, new RegExp(`^\\| ${name} \\| [0-9,]`, 'm'));
      assert.deepEqual(runningPids(), [], 'every process the bench started has exited');
    },
  );
});
