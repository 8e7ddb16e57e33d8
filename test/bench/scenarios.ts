/**
 * The benchmark scenarios, at full size and in the smoke size that
 * `npm test` runs (a few hundred messages, no timing assertions).
 */
import type { LoadMode } from './load-generator.js';

export const SCENARIO_IDS = ['S1', 'S2', 'S2p', 'S3', 'S4', 'S5'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface LoadScenario {
  readonly kind: 'load';
  readonly id: 'S1' | 'S2' | 'S2p' | 'S3';
  readonly title: string;
  readonly mode: Exclude<LoadMode, 'idle'>;
  readonly connections: number;
  readonly messages: number;
  readonly messageSize: number;
  /** Untimed messages first, on the same sessions: JIT compilers warm up, buffers and caches fill. */
  readonly warmup: number;
}

/** S4's second half: memory with many idle sessions (S4's first half is VmHWM during S3). */
export interface IdleScenario {
  readonly kind: 'idle';
  readonly id: 'S4';
  readonly title: string;
  readonly connections: number;
}

/** S5: from spawn to the listening line, and to the 250 of a first message. */
export interface StartScenario {
  readonly kind: 'start';
  readonly id: 'S5';
  readonly title: string;
  /** Starts per round (each a fresh process). */
  readonly starts: number;
  readonly messageSize: number;
}

export type Scenario = LoadScenario | IdleScenario | StartScenario;

const KiB = 1024;
const MiB = 1024 * KiB;

export function scenarios(smoke: boolean): Record<ScenarioId, Scenario> {
  const n = (full: number, small: number) => (smoke ? small : full);
  return {
    S1: {
      kind: 'load',
      id: 'S1',
      title: `1 connection, ${n(2000, 100)} messages of 1 KiB, lock-step (latency)`,
      mode: 'lockstep',
      connections: 1,
      messages: n(2000, 100),
      messageSize: KiB,
      warmup: n(200, 10),
    },
    S2: {
      kind: 'load',
      id: 'S2',
      title: `${n(50, 10)} connections, ${n(10_000, 300)} messages of 1 KiB, lock-step`,
      mode: 'lockstep',
      connections: n(50, 10),
      messages: n(10_000, 300),
      messageSize: KiB,
      warmup: n(1000, 30),
    },
    S2p: {
      kind: 'load',
      id: 'S2p',
      title: `as S2 with PIPELINING: MAIL, RCPT and DATA in one write, the data after 354`,
      mode: 'pipelined',
      connections: n(50, 10),
      messages: n(10_000, 300),
      messageSize: KiB,
      warmup: n(1000, 30),
    },
    S3: {
      kind: 'load',
      id: 'S3',
      title: `${n(4, 2)} connections, ${n(40, 4)} messages of ${n(10, 1)} MiB (throughput)`,
      mode: 'lockstep',
      connections: n(4, 2),
      messages: n(40, 4),
      messageSize: n(10, 1) * MiB,
      warmup: n(4, 2),
    },
    S4: {
      kind: 'idle',
      id: 'S4',
      title: `peak memory (VmHWM) during S3, and RSS growth with ${n(1000, 50)} idle connections (after EHLO)`,
      connections: n(1000, 50),
    },
    S5: {
      kind: 'start',
      id: 'S5',
      title: `time from spawn to listening, and to the 250 of a first 1 KiB message (${n(3, 1)} starts per round)`,
      starts: n(3, 1),
      messageSize: KiB,
    },
  };
}

export function isScenarioId(s: string): s is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(s);
}
