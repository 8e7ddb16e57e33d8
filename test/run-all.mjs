// `npm test`: every test file under test/, four at a time (most wait on
// sockets, not the CPU), the slowest files first. The run lasts as long as
// its last file: started late, a 40-second file kept the run going alone.
// Arguments are passed on to node (`--test-reporter=dot`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** Started first, longest first, as a CI run measured them. */
const SLOWEST = [
  'test/e2e/shared-sink.test.ts',
  'test/bench/smoke.test.ts',
  'test/e2e/inbox-hardening.test.ts',
  'test/e2e/http-inbox.test.ts',
  'test/e2e/package.test.ts',
  'test/e2e/webhook.test.ts',
  'test/web/web-ui.test.ts',
  'test/e2e/workers.test.ts',
  'test/e2e/wait.test.ts',
  'test/e2e/cli.test.ts',
  'test/e2e/http-service.test.ts',
  'test/e2e/build.test.ts',
];

function files(dir) {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(`${dir}/${e.name}`) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
    )
    .sort();
}

/** Every test file under test/, in the order `npm test` starts them. */
export function testFiles() {
  const all = files('test');
  const first = SLOWEST.filter((f) => all.includes(f));
  return [...first, ...all.filter((f) => !first.includes(f))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=4',
      '--test-reporter=spec',
      ...process.argv.slice(2),
      ...testFiles(),
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  process.exit(run.status ?? 1);
}
