/**
 * The data commands end to end as a user runs them: init, import (with --dry-run, --lang zh, a refused
 * batch), status, export to GeoJSON / CSV / GeoPackage — the GeoPackage opened by GDAL's ogrinfo.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/util/data-dir.ts';

const CI = process.env.CI === 'true';
const work = mkdtempSync(join(tmpdir(), 'lifecircle-cli-project-'));
after(() => rmSync(work, { recursive: true, force: true }));
const project = join(work, 'p.sqlite');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'lifecircle.mjs'), ...args], { encoding: 'utf8', cwd: work });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('init, import, status, export: a session as a planner runs it', () => {
  assert.equal(cli('init', '-p', project, '--name', '黄浦试点').code, 0);
  writeFileSync(join(work, 'units.csv'), 'code,name\n310101,黄浦区\n310101002,南京东路街道\n');
  writeFileSync(join(work, 'kg.csv'), 'id,名称,经度,纬度,学位\nK1,一幼,121.4737,31.2304,240\nK2,二幼,121.48,31.24,180\n');
  assert.equal(cli('import', 'units', join(work, 'units.csv'), '-p', project, '--source', 'nbs-2023').code, 0);
  const dry = cli('import', 'facilities', join(work, 'kg.csv'), '-p', project, '--category', 'kindergarten', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /valid \(--dry-run: nothing written\)/);
  const real = cli('import', 'facilities', join(work, 'kg.csv'), '-p', project, '--category', 'kindergarten', '--source', 'edu-2025', '--attribution', '区教育局 2025', '--json');
  assert.equal(real.code, 0, real.stderr);
  assert.equal(JSON.parse(real.stdout).batch.inserted, 2);
  writeFileSync(join(work, 'bad.csv'), 'id,名称,经度,纬度,学位\nK3,三幼,31.23,121.47,n/a\n');
  const bad = cli('import', 'facilities', join(work, 'bad.csv'), '-p', project, '--category', 'kindergarten', '--lang', 'zh');
  assert.equal(bad.code, 3, 'a refused batch exits with code 3');
  assert.match(bad.stdout, /发现 \d+ 个问题，未写入任何数据/);
  assert.match(bad.stdout, /经纬度可能颠倒/);
  assert.match(bad.stdout, /不是数字，实际为 "n\/a"/);
  const status = cli('status', '-p', project, '--json');
  const s = JSON.parse(status.stdout);
  assert.deepEqual(s.counts, { units: 2, facilities: 2, sites: 0, population: 0 });
  assert.equal(s.project.name, '黄浦试点');

  const gj = join(work, 'kg.geojson');
  assert.equal(cli('export', 'facilities', '-o', gj, '-p', project).code, 0);
  const fc = JSON.parse(readFileSync(gj, 'utf8'));
  assert.equal(fc.attribution, '区教育局 2025');
  assert.deepEqual(fc.features.map((f: { properties: { id: string; capacity: number } }) => [f.properties.id, f.properties.capacity]), [['K1', 240], ['K2', 180]]);
  const csv = join(work, 'kg.csv.out.csv');
  assert.equal(cli('export', 'facilities', '-o', csv, '-p', project).code, 0);
  assert.match(readFileSync(csv, 'utf8'), /^\uFEFFid,category,name,lon,lat/);
  const gpkg = join(work, 'kg.gpkg');
  assert.equal(cli('export', 'facilities', '-o', gpkg, '-p', project).code, 0);
  const info = spawnSync('ogrinfo', ['-ro', '-so', gpkg, 'facilities'], { encoding: 'utf8' });
  if (info.error) {
    if (CI) assert.fail('ogrinfo (gdal-bin) required under CI=true');
    return;
  }
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /Geometry: Point/);
  assert.match(info.stdout, /Feature Count: 2/);
  assert.match(info.stdout, /DESCRIPTION=区教育局 2025/);
  assert.doesNotMatch(info.stderr, /ERROR|Warning/);
});

test('a project that does not exist, an unknown kind: clear errors', () => {
  const none = cli('status', '-p', join(work, 'none.sqlite'));
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no project here; create one with: lifecircle init/);
  const kind = cli('import', 'schools', join(work, 'units.csv'), '-p', project);
  assert.notEqual(kind.code, 0);
  assert.match(kind.stderr, /unknown kind "schools"; expected one of units, facilities, sites, population/);
});
