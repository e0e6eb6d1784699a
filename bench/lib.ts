/** Small benchmark toolkit (after flatbush's bench.js): seeded PRNG, repetitions, aligned rows, a sink. */
import os from 'node:os';
export { mulberry32 } from '../src/util/random.ts';

/** Keeps results alive so the optimiser cannot drop the measured work. */
export let sink = 0;
export function consume(v: number): void {
  sink = (sink + v) | 0;
}

export interface Timing {
  minMs: number;
  meanMs: number;
  sdMs: number;
  runs: number;
}

/** Runs fn `runs` times after `warmup` runs; min and mean ± sd in milliseconds. */
export function time(fn: () => unknown, runs = 5, warmup = 1): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  const mean = samples.reduce((a, b) => a + b, 0) / runs;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / runs);
  return { minMs: Math.min(...samples), meanMs: mean, sdMs: sd, runs };
}

export async function timeAsync(fn: () => Promise<unknown>, runs = 3, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const mean = samples.reduce((a, b) => a + b, 0) / runs;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / runs);
  return { minMs: Math.min(...samples), meanMs: mean, sdMs: sd, runs };
}

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function fmtMs(t: Timing): string {
  return `${t.minMs.toFixed(1)} ms (mean ${t.meanMs.toFixed(1)} ± ${t.sdMs.toFixed(1)}, n=${t.runs})`;
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k/s`;
  return `${n.toFixed(1)} /s`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** One aligned result row: label, figure, target verdict. */
export function row(label: string, figure: string, target?: { text: string; ok: boolean }): void {
  const verdict = target ? `${target.ok ? 'PASS' : 'MISS'} (target ${target.text})` : '';
  process.stdout.write(`  ${label.padEnd(60)} ${figure.padEnd(50)} ${verdict}\n`);
}

export function section(title: string): void {
  process.stdout.write(`\n${title}\n${'-'.repeat(title.length)}\n`);
}
