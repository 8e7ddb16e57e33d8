/**
 * `npm run fuzz -- --seconds 600 [--seed N]`: the channel fuzz for half the
 * time, then the message fuzz; prints the seed and what is needed to replay
 * a failure. CI runs both briefly (test/fuzz/fuzz.test.ts).
 */
import { fuzzChannel } from './fuzz-channel.js';
import { fuzzMessages } from './fuzz-message.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`fuzz: --${name} needs a non-negative number\n`);
    process.exit(2);
  }
  return value;
}

const seconds = arg('seconds', 60);
const seed = arg('seed', Date.now() % 2 ** 31);
process.stderr.write(`fuzz: channel for ${seconds / 2} s, then messages for ${seconds / 2} s, seed ${seed}\n`);
for (const [name, result] of [
  ['channel', fuzzChannel(seconds / 2, seed)],
  ['messages', await fuzzMessages(seconds / 2, seed)],
] as const) {
  if (result.failure) {
    process.stderr.write(
      `${result.failure}\nfuzz: ${name} FAILED after ${result.cases} cases (replay with --seed ${seed})\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`fuzz: ${name}: ${result.cases} cases, no failure\n`);
}
