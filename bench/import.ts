/**
 * Import benchmark: 1 M generated facility records as CSV and as GeoJSON, validated and written into a fresh
 * SQLite project and into PostGIS, each in its own process (peak RSS is the import's own). Also a 250 k
 * file, to show memory does not grow with the file (streaming). Target: ≥ 100,000 records/s into SQLite.
 *   npm run bench:import [-- --records 1000000]
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PostgisStore } from '../src/store/postgis.ts';
import { fmtRate, machineLine, mb, mulberry32, row, section } from './lib.ts';

const args = parseArgs({ options: { records: { type: 'string', default: '1000000' } } }).values;
const N = Number(args.records);
const work = join(tmpdir(), 'lifecircle-bench');
mkdirSync(work, { recursive: true });
const PG_URL = process.env.LIFECIRCLE_PG_URL ?? 'postgres://lifecircle:lifecircle@127.0.0.1:5432/lifecircle';
const CATEGORIES = ['kindergarten', 'primary_school', 'community_health_station', 'elderly_canteen', 'bus_stop', 'supermarket'];

async function writeFile(path: string, n: number, format: 'csv' | 'geojson'): Promise<void> {
  if (existsSync(path)) return;
  const rand = mulberry32(7);
  const out = createWriteStream(path);
  const put = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await put(format === 'csv' ? 'id,name,category,lon,lat,capacity,status\n' : '{"type":"FeatureCollection","features":[\n');
  for (let i = 0; i < n; i++) {
    const lon = (121.0 + rand() * 0.9).toFixed(6);
    const lat = (30.9 + rand() * 0.8).toFixed(6);
    const cat = CATEGORIES[i % CATEGORIES.length];
    const cap = Math.floor(rand() * 300);
    if (format === 'csv') await put(`F${i},设施${i},${cat},${lon},${lat},${cap},existing\n`);
    else await put(`${i ? ',\n' : ''}{"type":"Feature","id":"F${i}","properties":{"name":"设施${i}","category":"${cat}","capacity":${cap},"status":"existing"},"geometry":{"type":"Point","coordinates":[${lon},${lat}]}}`);
  }
  await put(format === 'csv' ? '' : '\n]}\n');
  out.end();
  await once(out, 'finish');
}

function run(project: string, file: string) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', new URL('./import-child.ts', import.meta.url).pathname, project, file, 'facilities'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as { ok: boolean; records: number; inserted: number; seconds: number; peakRssBytes: number };
}

process.stdout.write(`lifecircle import benchmark\nmachine: ${machineLine()}\n`);
const pgOk = await PostgisStore.connect(`${PG_URL}?schema=lc_bench_probe`).then(async (s) => (await s.close(), true)).catch(() => false);
for (const format of ['csv', 'geojson'] as const) {
  section(`${N.toLocaleString('en')} facilities, ${format.toUpperCase()}`);
  const file = join(work, `facilities-${N}.${format}`);
  await writeFile(file, N, format);
  const small = join(work, `facilities-${N / 4}.${format}`);
  await writeFile(small, N / 4, format);
  row('file size', `${mb(statSync(file).size)} (and ${mb(statSync(small).size)} for ${(N / 4).toLocaleString('en')})`);
  for (const [label, f] of [['SQLite', file], ['SQLite, quarter file', small]] as const) {
    const project = join(work, `bench-${format}-${label.length}.sqlite`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(project + suffix, { force: true });
    const r = run(project, f);
    const rate = r.inserted / r.seconds;
    row(`${label}: validate + write`, `${fmtRate(rate)} records (${r.seconds.toFixed(1)} s), peak RSS ${mb(r.peakRssBytes)}`, label === 'SQLite' ? { text: '≥ 100,000/s', ok: rate >= 100_000 } : undefined);
  }
  if (pgOk) {
    const schema = `lc_bench_${format}`;
    const url = `${PG_URL}?schema=${schema}`;
    const drop = await PostgisStore.connect(url);
    await drop.dropProject();
    await drop.close();
    const r = run(url, file);
    row('PostGIS: validate + write', `${fmtRate(r.inserted / r.seconds)} records (${r.seconds.toFixed(1)} s), peak RSS ${mb(r.peakRssBytes)}`);
    const clean = await PostgisStore.connect(url);
    await clean.dropProject();
    await clean.close();
  } else row('PostGIS', 'not run: server not reachable (bash scripts/setup-postgres.sh)');
}
