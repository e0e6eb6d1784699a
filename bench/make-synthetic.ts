/**
 * Writes a synthetic Shanghai-like street network (src/network/synthetic.ts) as OSM XML and prints its stats
 * as JSON on stdout (the time taken goes to stderr).
 *
 *   node --import tsx bench/make-synthetic.ts --nodes 1200000 --seed 42 -o /tmp/x.osm
 *
 * Options: --nodes N (target node count, default 1200000), --seed S (default 42), -o/--output PATH (required),
 * --origin-lon / --origin-lat (south-west corner, default 121.30 / 31.05).
 */
import { parseArgs } from 'node:util';
import { writeSyntheticCityOsm } from '../src/network/synthetic.ts';
import { LifecircleError } from '../src/errors.ts';

const USAGE = 'usage: node --import tsx bench/make-synthetic.ts --nodes 1200000 --seed 42 -o /tmp/x.osm [--origin-lon 121.30] [--origin-lat 31.05]';

function number(name: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new LifecircleError('ARGUMENT_INVALID', `--${name}: expected a number, got "${value}"`, { field: name });
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '1200000' },
      seed: { type: 'string', default: '42' },
      output: { type: 'string', short: 'o' },
      'origin-lon': { type: 'string' },
      'origin-lat': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.output) throw new LifecircleError('ARGUMENT_INVALID', `-o/--output is required\n${USAGE}`, { field: 'output' });
  const t0 = performance.now();
  const stats = await writeSyntheticCityOsm(values.output, {
    seed: number('seed', values.seed)!,
    targetNodes: number('nodes', values.nodes)!,
    originLon: number('origin-lon', values['origin-lon']),
    originLat: number('origin-lat', values['origin-lat']),
  });
  process.stderr.write(`wrote ${values.output} in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`);
  process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  const usage = e instanceof LifecircleError || String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
  process.exitCode = usage ? 2 : 1;
});
