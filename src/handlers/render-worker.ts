/**
 * The render worker: formats large messages off the server's thread, so
 * that parsing and printing 30 MiB of hostile text (mailparser, escaping,
 * JSON) never holds up other clients. It gets a RenderJob, runs the same
 * code as the server's thread (render.ts) and answers with each output's
 * text as one buffer, transferred, not copied.
 */
import type { Message } from '../message.js';
import { briefParse, toWire } from '../mime/parse-message.js';
import { FORMATS } from '../printers/registry.js';
import { loadColorStyle, PLAIN, type Style } from '../printers/style.js';
import type { RenderJob, RenderReply } from './render-pool.js';
import { prepare, renderOutput } from './render.js';
import { inPlace, serveJobs } from '../worker-pool.js';

let color: Promise<Style> | undefined;

async function run(job: RenderJob): Promise<{ reply: RenderReply; transfer: ArrayBuffer[] }> {
  const message: Message = { ...job.message, data: inPlace(job.message.data) };
  const context = await prepare(message, job.extra, job.settings);
  const rendered: Uint8Array[] = [];
  for (const output of job.outputs) {
    const style = output.colored ? await (color ??= loadColorStyle()) : PLAIN;
    const parts = await renderOutput(FORMATS[output.format], style, message, context, job.settings);
    const buffers = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
    // One buffer of its own per output (never a slice of Node's shared pool), so it can be transferred.
    const whole = Buffer.allocUnsafeSlow(buffers.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of buffers) at += Buffer.from(b.buffer, b.byteOffset, b.byteLength).copy(whole, at);
    rendered.push(whole);
  }
  const wire = job.wantParsed && context.parsed ? toWire(context.parsed) : null;
  const reply: RenderReply = {
    rendered,
    ...(context.lint ? { lint: context.lint } : {}),
    ...(context.parseError !== undefined ? { parseError: context.parseError } : {}),
    ...(wire ? { parsed: wire.parsed } : {}),
    ...(job.wantBrief && !job.wantParsed && context.parsed ? { brief: briefParse(context.parsed) } : {}),
  };
  return { reply, transfer: [...rendered.map((r) => r.buffer as ArrayBuffer), ...(wire?.transfer ?? [])] };
}

serveJobs(run);
