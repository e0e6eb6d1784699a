/**
 * src/import/crs.ts against numbers that do not come from it: real Shanghai data sets whose WGS84 columns
 * were produced elsewhere, point pairs published by other projects and vendors, textbook projection formulas
 * evaluated here, and GDAL's gdaltransform (PROJ).
 *
 *   node --import tsx --test test/import/crs.test.ts
 *
 * Data: ../shared/data beside the repository (or $LIFECIRCLE_DATA): sh-elderly-care-facilities and
 * sh-residential-addresses-2022 (see their PROVENANCE.md). Tests needing gdaltransform (gdal-bin) are skipped
 * with the reason when it is absent, except with CI=true, where they fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRS_METHODS, CRS_NAMES, fromWgs84, outOfChina, parseCrs, toWgs84, type CrsName } from '../../src/import/crs.ts';
import { splitCsvLine } from '../../src/import/points.ts';
import { LifecircleError } from '../../src/errors.ts';
import { haversineM } from '../../src/geo.ts';
import { mulberry32 } from '../../src/util/random.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const DATA = process.env.LIFECIRCLE_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
const ELDERLY = path.join(DATA, 'sh-elderly-care-facilities', 'sh_elderly_care_facilities.csv');
const RESIDENTIAL = path.join(DATA, 'sh-residential-addresses-2022', 'sh_residential_addresses_dedup.csv');
const CI = process.env.CI === 'true';
const HAVE_GDAL = !spawnSync('gdaltransform', ['--version']).error;
const gdalSkip = !HAVE_GDAL && !CI ? 'gdaltransform not installed (apt-get install gdal-bin); comparison with PROJ skipped' : false;

const gcjToWgs = toWgs84('GCJ-02');
const wgsToGcj = fromWgs84('GCJ-02');
const bdToWgs = toWgs84('BD-09');
const wgsToBd = fromWgs84('BD-09');

/** Largest per-axis difference in degrees. */
function degDiff(a: readonly number[], b: readonly number[]): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
}

interface PairRow {
  gcj: [number, number];
  wgs: [number, number];
}

/** Rows of a CSV with GCJ-02 and WGS84 columns; rows without coordinates (empty/null cells) are skipped and counted. */
function readPairs(file: string, cols: [string, string, string, string]): { rows: PairRow[]; skipped: number } {
  assert.ok(fs.existsSync(file), `data file ${file} missing (put the shared data at ../shared/data or set LIFECIRCLE_DATA)`);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = splitCsvLine(lines[0]);
  const idx = cols.map((c) => header.indexOf(c));
  assert.ok(idx.every((i) => i >= 0), `${file}: columns ${cols.join(', ')} expected in header ${header.join(',')}`);
  const rows: PairRow[] = [];
  let skipped = 0;
  for (const line of lines.slice(1)) {
    const cells = splitCsvLine(line);
    const raw = idx.map((i) => (cells[i] ?? '').trim());
    const v = raw.map(Number);
    if (raw.some((s) => s === '' || s === 'null') || v.some((x) => !Number.isFinite(x))) {
      skipped++;
      continue;
    }
    rows.push({ gcj: [v[0], v[1]], wgs: [v[2], v[3]] });
  }
  return { rows, skipped };
}

interface Deviation {
  n: number;
  maxM: number;
  meanM: number;
  /** Largest per-axis |forward(ours) − gcj| in degrees: how exactly our WGS84 maps back onto the input. */
  oursResidualDeg: number;
  /** Largest |forward(theirs) − gcj| in metres: how far the file's WGS84 column is from an exact inverse. */
  theirsResidualMaxM: number;
}

function deviation(rows: PairRow[]): Deviation {
  let maxM = 0;
  let sum = 0;
  let oursResidualDeg = 0;
  let theirsResidualMaxM = 0;
  for (const { gcj, wgs } of rows) {
    const ours = gcjToWgs(gcj[0], gcj[1]);
    const d = haversineM(ours[0], ours[1], wgs[0], wgs[1]);
    sum += d;
    if (d > maxM) maxM = d;
    oursResidualDeg = Math.max(oursResidualDeg, degDiff(wgsToGcj(ours[0], ours[1]), gcj));
    const back = wgsToGcj(wgs[0], wgs[1]);
    theirsResidualMaxM = Math.max(theirsResidualMaxM, haversineM(back[0], back[1], gcj[0], gcj[1]));
  }
  return { n: rows.length, maxM, meanM: sum / rows.length, oursResidualDeg, theirsResidualMaxM };
}

// -----------------------------------------------------------------------------------------------------------
// 1a. Real Shanghai data with WGS84 columns produced elsewhere
// -----------------------------------------------------------------------------------------------------------

test('real data: sh_elderly_care_facilities (WGS84 by an iterative inverse, 6 decimals) agrees within the rounding', (t) => {
  const { rows, skipped } = readPairs(ELDERLY, ['lng_gcj02', 'lat_gcj02', 'lng_wgs84', 'lat_wgs84']);
  // PROVENANCE.md: 3,821 rows, 44 without coordinates; WGS84 added by the "iterative inverse of the public GCJ-02
  // forward formula, converged < 1e-9°", written with 6 decimals. So the only expected difference is the rounding:
  // at most half a unit of 1e-6° on each axis, i.e. this many metres at the southernmost row (lat 30.71).
  assert.equal(rows.length + skipped, 3821);
  assert.equal(skipped, 44);
  const roundingBoundM = haversineM(121, 30.7, 121 + 5e-7, 30.7 + 5e-7);
  const dev = deviation(rows);
  t.diagnostic(
    `elderly-care: n=${dev.n} (skipped ${skipped}), max ${dev.maxM.toFixed(4)} m, mean ${dev.meanM.toFixed(4)} m ` +
      `(rounding bound ${roundingBoundM.toFixed(4)} m); forward(ours) − gcj max ${dev.oursResidualDeg.toExponential(2)}°`,
  );
  assert.ok(dev.maxM <= roundingBoundM + 1e-3, `max deviation ${dev.maxM} m exceeds the 6-decimal rounding bound ${roundingBoundM} m`);
  assert.ok(dev.oursResidualDeg < 1e-9, `forward(inverse(p)) − p = ${dev.oursResidualDeg}°`);
});

test('real data: sh_residential_addresses (author\'s one-step WGS84) agrees within 3 m; ours is the exact inverse', (t) => {
  const { rows, skipped } = readPairs(RESIDENTIAL, ['gcj02_lng', 'gcj02_lat', 'wgs84_lng', 'wgs84_lat']);
  // PROVENANCE.md: 20,723 rows, WGS84 "computed by the author", found there to equal an inverse within 2.3 m.
  // The 1–2 m pattern is the error of the common one-step inverse (gcj − offset(gcj)); an exact inverse
  // differs from it by up to ~2.3 m in Shanghai, hence the 3 m bound.
  assert.equal(rows.length + skipped, 20723);
  const dev = deviation(rows);
  t.diagnostic(
    `residential: n=${dev.n} (skipped ${skipped}), max ${dev.maxM.toFixed(3)} m, mean ${dev.meanM.toFixed(3)} m; ` +
      `their WGS84 re-projected to GCJ-02 misses the input by up to ${dev.theirsResidualMaxM.toFixed(3)} m, ` +
      `ours by ${dev.oursResidualDeg.toExponential(2)}°`,
  );
  assert.ok(dev.maxM < 3, `max deviation ${dev.maxM} m`);
  assert.ok(dev.meanM > 0.5 && dev.meanM < 2, `mean deviation ${dev.meanM} m: expected the one-step error scale (0.5–2 m)`);
  // Their column is not an exact inverse (the forward transform does not give the input back), ours is.
  assert.ok(dev.theirsResidualMaxM > 0.5, `their residual ${dev.theirsResidualMaxM} m`);
  assert.ok(dev.oursResidualDeg < 1e-9, `forward(inverse(p)) − p = ${dev.oursResidualDeg}°`);
});

// -----------------------------------------------------------------------------------------------------------
// 1b. Published point pairs
// -----------------------------------------------------------------------------------------------------------

/**
 * googollee/eviltransform, go/transform_test.go and javascript/test.js: `tests` = {wgsLat, wgsLng, gcjLat, gcjLng}
 * (Shanghai, Shenzhen, Beijing). The GCJ-02 values are printed to 14–15 significant digits.
 */
const EVILTRANSFORM: { name: string; wgs: [number, number]; gcj: [number, number] }[] = [
  { name: 'shanghai', wgs: [121.5272106, 31.1774276], gcj: [121.531541859215, 31.17530398364597] },
  { name: 'shenzhen', wgs: [113.912316, 22.543847], gcj: [113.9171764808363, 22.540796131694766] },
  { name: 'beijing', wgs: [116.377817, 39.911954], gcj: [116.38404722455657, 39.91334545536069] },
];

test('published pairs: WGS84 → GCJ-02 matches eviltransform\'s test table and coordtransform\'s README', () => {
  for (const p of EVILTRANSFORM) {
    const got = wgsToGcj(p.wgs[0], p.wgs[1]);
    assert.ok(degDiff(got, p.gcj) < 1e-9, `${p.name}: got ${got}, eviltransform ${p.gcj}`);
    // Exact inverse: the table's GCJ-02 value maps back to its WGS84 value (eviltransform's own exact test allows 0.5 m).
    const back = gcjToWgs(p.gcj[0], p.gcj[1]);
    assert.ok(degDiff(back, p.wgs) < 1e-9, `${p.name}: GCJ-02 → WGS84 got ${back}, expected ${p.wgs}`);
  }
  // wandergis/coordtransform README / test/app.js: wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164].
  assert.ok(degDiff(wgsToGcj(116.404, 39.915), [116.41024449916938, 39.91640428150164]) < 1e-9);
  // Same source, gcj02towgs84(116.404, 39.915) = [116.39775550083061, 39.91359571849836] is the one-step inverse;
  // the exact inverse lies within a few metres of it, and (unlike it) maps back onto the input.
  const exact = gcjToWgs(116.404, 39.915);
  const oneStep: [number, number] = [116.39775550083061, 39.91359571849836];
  const d = haversineM(exact[0], exact[1], oneStep[0], oneStep[1]);
  assert.ok(d > 0.05 && d < 3, `exact vs one-step inverse: ${d} m`);
  assert.ok(degDiff(wgsToGcj(exact[0], exact[1]), [116.404, 39.915]) < 1e-9);
});

/**
 * hujiulong/gcoord, test/fixtures/china-cities.json: per city GCJ02 and BD09 (7 decimals). Four cities nearest
 * Shanghai plus two far ones.
 */
const GCOORD_CITIES: { name: string; gcj: [number, number]; bd: [number, number] }[] = [
  { name: '驻马店市', gcj: [114.022306, 33.0115324], bd: [114.0287781, 33.0176697] },
  { name: '邵阳市', gcj: [111.4677938, 27.2388981], bd: [111.4742271, 27.2451662] },
  { name: '泰州市', gcj: [119.9231242, 32.4557802], bd: [119.9296902, 32.4615531] },
  { name: '铜陵市', gcj: [117.8112693, 30.9455211], bd: [117.8177498, 30.9515411] },
  { name: '金华市', gcj: [119.6474509, 29.0790641], bd: [119.6538875, 29.0854003] },
  { name: '沈阳市', gcj: [123.4314787, 41.8057023], bd: [123.438095, 41.8114013] },
];

test('published pairs: BD-09 ↔ GCJ-02 (coordtransform README, gcoord fixtures, Alibaba Cloud documentation)', () => {
  const gcjToBd = (lon: number, lat: number) => wgsToBd(...gcjToWgs(lon, lat));
  const bdToGcj = (lon: number, lat: number) => wgsToGcj(...bdToWgs(lon, lat));

  // wandergis/coordtransform README: gcj02tobd09(116.404, 39.915) = [116.41036949371029, 39.92133699351021].
  assert.ok(degDiff(gcjToBd(116.404, 39.915), [116.41036949371029, 39.92133699351021]) < 1e-9);
  // Same source, bd09togcj02(116.404, 39.915) = [116.39762729119315, 39.90865673957631] is the published one-step
  // inverse; the exact inverse is within centimetres of it and maps back exactly.
  const exact = bdToGcj(116.404, 39.915);
  assert.ok(haversineM(exact[0], exact[1], 116.39762729119315, 39.90865673957631) < 0.1);
  assert.ok(degDiff(gcjToBd(exact[0], exact[1]), [116.404, 39.915]) < 1e-9);

  // hujiulong/gcoord test/fixtures/china-cities.json (7 decimals, so within 1e-7° both ways).
  for (const c of GCOORD_CITIES) {
    assert.ok(degDiff(gcjToBd(c.gcj[0], c.gcj[1]), c.bd) < 1e-7, `${c.name}: GCJ-02 → BD-09 ${gcjToBd(...c.gcj)} vs ${c.bd}`);
    assert.ok(degDiff(bdToGcj(c.bd[0], c.bd[1]), c.gcj) < 1e-7, `${c.name}: BD-09 → GCJ-02 ${bdToGcj(...c.bd)} vs ${c.gcj}`);
  }

  // Alibaba Cloud, Address Purification API "TransferCoord" documentation example (Hangzhou, 6 decimals):
  // GCJ02 120.026268,30.279164 → BD09 120.032768,30.285238, WGS84 120.021519,30.281543.
  assert.ok(degDiff(gcjToBd(120.026268, 30.279164), [120.032768, 30.285238]) < 1e-6);
  // Their WGS84 is the one-step inverse (it equals gcj − offset(gcj) to the 6 decimals); ours, exact, is 1–2 m away.
  const w = gcjToWgs(120.026268, 30.279164);
  const dw = haversineM(w[0], w[1], 120.021519, 30.281543);
  assert.ok(dw < 3, `Alibaba Cloud WGS84 vs ours: ${dw} m`);
  // BD-09 → WGS84 of their BD value lands on ours for their GCJ value (BD rounded to 1e-6° ≈ 0.1 m).
  const wb = bdToWgs(120.032768, 30.285238);
  assert.ok(haversineM(wb[0], wb[1], w[0], w[1]) < 0.15);

  // geoChina R package (Jun Cai, cran/geoChina), conv() example, Beijing railway station read off the three maps
  // to 5 decimals: WGS-84 (39.90105, 116.42079), GCJ-02 (39.90245, 116.42703), BD-09 (39.90851, 116.43351).
  const bjWgs: [number, number] = [116.42079, 39.90105];
  const bjGcj: [number, number] = [116.42703, 39.90245];
  const bjBd: [number, number] = [116.43351, 39.90851];
  const g = wgsToGcj(...bjWgs);
  const b = wgsToBd(...bjWgs);
  assert.ok(haversineM(g[0], g[1], ...bjGcj) < 2, `Beijing station GCJ-02: ${haversineM(g[0], g[1], ...bjGcj)} m`);
  assert.ok(haversineM(b[0], b[1], ...bjBd) < 2, `Beijing station BD-09: ${haversineM(b[0], b[1], ...bjBd)} m`);
  const wbj = bdToWgs(...bjBd);
  assert.ok(haversineM(wbj[0], wbj[1], ...bjWgs) < 2);
});

// -----------------------------------------------------------------------------------------------------------
// 2. Round trips over Shanghai
// -----------------------------------------------------------------------------------------------------------

/** 2,000 seeded random points plus a 10 × 10 regular grid over lon 120.85–122.2, lat 30.67–31.88. */
function shanghaiPoints(): [number, number][] {
  const rnd = mulberry32(20240515);
  const pts: [number, number][] = [];
  for (let i = 0; i < 2000; i++) pts.push([120.85 + rnd() * 1.35, 30.67 + rnd() * 1.21]);
  for (let i = 0; i <= 9; i++) for (let j = 0; j <= 9; j++) pts.push([120.85 + (i * 1.35) / 9, 30.67 + (j * 1.21) / 9]);
  return pts;
}

test('round trips: fromWgs84 then toWgs84 returns every Shanghai point (1e-9°; proj4 systems 1e-8°)', (t) => {
  const pts = shanghaiPoints();
  for (const crs of CRS_NAMES) {
    const fwd = fromWgs84(crs);
    const inv = toWgs84(crs);
    const tol = crs === 'EPSG:3857' || crs === 'EPSG:32651' ? 1e-8 : 1e-9;
    let worst = 0;
    for (const p of pts) {
      const q = fwd(p[0], p[1]);
      assert.ok(Number.isFinite(q[0]) && Number.isFinite(q[1]), `${crs}: ${p} → ${q}`);
      worst = Math.max(worst, degDiff(inv(q[0], q[1]), p));
    }
    t.diagnostic(`${crs}: worst round trip ${worst.toExponential(2)}° over ${pts.length} points`);
    assert.ok(worst < tol, `${crs}: round trip error ${worst}° ≥ ${tol}°`);
  }
});

test('round trips the other way: GCJ-02 and BD-09 inputs over Shanghai come back through WGS84 within 1e-9°', () => {
  for (const crs of ['GCJ-02', 'BD-09'] as const) {
    const inv = toWgs84(crs);
    const fwd = fromWgs84(crs);
    for (const p of shanghaiPoints()) {
      const w = inv(p[0], p[1]);
      const back = fwd(w[0], w[1]);
      assert.ok(degDiff(back, p) < 1e-9, `${crs}: ${p} → ${w} → ${back}`);
      // and the obfuscation is really there: 300–700 m (GCJ-02) / 700–1,300 m (BD-09) in Shanghai
      const d = haversineM(w[0], w[1], p[0], p[1]);
      assert.ok(crs === 'GCJ-02' ? d > 300 && d < 700 : d > 700 && d < 1300, `${crs}: offset ${d} m at ${p}`);
    }
  }
});

// -----------------------------------------------------------------------------------------------------------
// 3. Web Mercator and UTM 51N against textbook formulas and GDAL
// -----------------------------------------------------------------------------------------------------------

const R_MERC = 6378137;
const RAD = Math.PI / 180;

/** Spherical (pseudo-)Mercator: x = R·λ, y = R·ln(tan(π/4 + φ/2)). */
function mercatorTextbook(lon: number, lat: number): [number, number] {
  return [R_MERC * lon * RAD, R_MERC * Math.log(Math.tan(Math.PI / 4 + (lat * RAD) / 2))];
}

/**
 * UTM by Krüger's n-series (as in Karney 2011, "Transverse Mercator with an accuracy of a few nanometres", and the
 * Wikipedia UTM article), WGS84 ellipsoid, zone 51N: λ0 = 123°, k0 = 0.9996, E0 = 500 km, N0 = 0. Terms to n³:
 * truncation error of order n⁴·a ≈ 0.02 mm.
 */
function utm51Textbook(lon: number, lat: number): [number, number] {
  const a = 6378137;
  const f = 1 / 298.257223563;
  const n = f / (2 - f);
  const A = (a / (1 + n)) * (1 + (n * n) / 4 + (n * n * n * n) / 64);
  const alpha = [(n / 2) - (2 * n * n) / 3 + (5 * n * n * n) / 16, (13 * n * n) / 48 - (3 * n * n * n) / 5, (61 * n * n * n) / 240];
  const k0 = 0.9996;
  const phi = lat * RAD;
  const dl = (lon - 123) * RAD;
  const c = (2 * Math.sqrt(n)) / (1 + n);
  const tt = Math.sinh(Math.atanh(Math.sin(phi)) - c * Math.atanh(c * Math.sin(phi)));
  const xi = Math.atan2(tt, Math.cos(dl));
  const eta = Math.atanh(Math.sin(dl) / Math.sqrt(1 + tt * tt));
  let e = eta;
  let nn = xi;
  for (let j = 1; j <= 3; j++) {
    e += alpha[j - 1] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
    nn += alpha[j - 1] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
  }
  return [500000 + k0 * A * e, k0 * A * nn];
}

test('Web Mercator and UTM 51N agree with the textbook formulas over Shanghai (1 mm)', (t) => {
  const merc = fromWgs84('EPSG:3857');
  const utm = fromWgs84('EPSG:32651');
  let worstMerc = 0;
  let worstUtm = 0;
  for (const [lon, lat] of shanghaiPoints()) {
    const m = merc(lon, lat);
    const mt = mercatorTextbook(lon, lat);
    worstMerc = Math.max(worstMerc, Math.abs(m[0] - mt[0]), Math.abs(m[1] - mt[1]));
    const u = utm(lon, lat);
    const ut = utm51Textbook(lon, lat);
    worstUtm = Math.max(worstUtm, Math.abs(u[0] - ut[0]), Math.abs(u[1] - ut[1]));
  }
  t.diagnostic(`EPSG:3857 vs spherical formula: ${worstMerc.toExponential(2)} m; EPSG:32651 vs Krüger series: ${worstUtm.toExponential(2)} m`);
  assert.ok(worstMerc < 1e-3, `Web Mercator off by ${worstMerc} m`);
  assert.ok(worstUtm < 1e-3, `UTM 51N off by ${worstUtm} m`);
  // Spot values worked by hand: People's Square, and the origin of Web Mercator.
  const origin = merc(0, 0);
  assert.ok(Math.abs(origin[0]) < 1e-9 && Math.abs(origin[1]) < 1e-9, `origin → ${origin}`);
  const [psX, psY] = mercatorTextbook(121.4737, 31.2304);
  assert.ok(degDiff(toWgs84('EPSG:3857')(psX, psY), [121.4737, 31.2304]) < 1e-9);
});

/** Run gdaltransform over "x y" lines; returns one [a, b] per input line (NaN pair for "transformation failed"). */
function gdaltransform(src: string, dst: string, pts: readonly (readonly [number, number])[]): [number, number][] {
  const input = pts.map((p) => `${p[0]} ${p[1]}`).join('\n') + '\n'; // shortest exact decimal of each double
  const r = spawnSync('gdaltransform', ['-s_srs', src, '-t_srs', dst, '-output_xy'], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `gdaltransform failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim().length > 0);
  return lines.map((l) => {
    const f = l.trim().split(/\s+/).map(Number);
    return f.length >= 2 && Number.isFinite(f[0]) && Number.isFinite(f[1]) ? [f[0], f[1]] : [NaN, NaN];
  });
}

/**
 * GDAL ≥ 3 gdaltransform reads and writes EPSG:4326 in the traditional GIS lon/lat order (it sets
 * OAMS_TRADITIONAL_GIS_ORDER); older builds or other settings use the authority order lat/lon. Find out with a
 * probe (People's Square) instead of assuming.
 */
function gdalLonLatOrder(): boolean {
  const [lonFirst] = gdaltransform('EPSG:4326', 'EPSG:32651', [[121.4737, 31.2304]]);
  if (lonFirst && lonFirst[0] > 300000 && lonFirst[0] < 400000 && lonFirst[1] > 3400000 && lonFirst[1] < 3500000) return true;
  const [latFirst] = gdaltransform('EPSG:4326', 'EPSG:32651', [[31.2304, 121.4737]]);
  assert.ok(latFirst && latFirst[0] > 300000 && latFirst[0] < 400000, `gdaltransform gives neither order sensible results: ${lonFirst} / ${latFirst}`);
  return false;
}

test('EPSG:32651 and EPSG:3857 agree with gdaltransform (PROJ) both ways over Shanghai', { skip: gdalSkip }, (t) => {
  assert.ok(HAVE_GDAL, 'gdaltransform is required under CI=true (apt-get install gdal-bin)');
  const lonLat = gdalLonLatOrder();
  const pts = shanghaiPoints().slice(0, 500);
  const order = (p: readonly [number, number]): [number, number] => (lonLat ? [p[0], p[1]] : [p[1], p[0]]);
  for (const crs of ['EPSG:32651', 'EPSG:3857'] as const) {
    const fwd = fromWgs84(crs);
    const inv = toWgs84(crs);
    const projected = gdaltransform('EPSG:4326', crs, pts.map(order));
    assert.equal(projected.length, pts.length);
    let worstM = 0;
    let worstDeg = 0;
    for (let i = 0; i < pts.length; i++) {
      const ours = fwd(pts[i][0], pts[i][1]);
      worstM = Math.max(worstM, Math.abs(ours[0] - projected[i][0]), Math.abs(ours[1] - projected[i][1]));
    }
    const back = gdaltransform(crs, 'EPSG:4326', projected).map(order); // order() swaps back if needed
    for (let i = 0; i < pts.length; i++) {
      const ours = inv(projected[i][0], projected[i][1]);
      worstDeg = Math.max(worstDeg, degDiff(ours, back[i]));
    }
    t.diagnostic(`${crs} vs gdaltransform (${lonLat ? 'lon/lat' : 'lat/lon'} order): forward ${worstM.toExponential(2)} m, inverse ${worstDeg.toExponential(2)}°`);
    assert.ok(worstM < 1e-3, `${crs}: forward differs from PROJ by ${worstM} m`);
    assert.ok(worstDeg < 1e-8, `${crs}: inverse differs from PROJ by ${worstDeg}°`);
  }
  // The brief's own example: People's Square area 121.47 E 31.23 N in UTM 51N (gdaltransform: 354280.604 3456101.065).
  const ps = gdaltransform('EPSG:4326', 'EPSG:32651', [order([121.47, 31.23])])[0];
  const ours = fromWgs84('EPSG:32651')(121.47, 31.23);
  assert.ok(Math.abs(ps[0] - ours[0]) < 1e-3 && Math.abs(ps[1] - ours[1]) < 1e-3, `${ps} vs ${ours}`);
});

// -----------------------------------------------------------------------------------------------------------
// 4. Names, the China box, and the method texts
// -----------------------------------------------------------------------------------------------------------

test('parseCrs accepts the aliases, case-insensitively', () => {
  const cases: [string, CrsName][] = [
    ['wgs84', 'EPSG:4326'], ['WGS84', 'EPSG:4326'], ['4326', 'EPSG:4326'], ['EPSG:4326', 'EPSG:4326'], ['epsg:4326', 'EPSG:4326'],
    ['cgcs2000', 'EPSG:4490'], ['CGCS2000', 'EPSG:4490'], ['4490', 'EPSG:4490'], ['EPSG:4490', 'EPSG:4490'],
    ['webmercator', 'EPSG:3857'], ['WebMercator', 'EPSG:3857'], ['3857', 'EPSG:3857'], ['EPSG:3857', 'EPSG:3857'],
    ['utm51n', 'EPSG:32651'], ['UTM51N', 'EPSG:32651'], ['32651', 'EPSG:32651'], ['EPSG:32651', 'EPSG:32651'],
    ['gcj02', 'GCJ-02'], ['gcj-02', 'GCJ-02'], ['GCJ-02', 'GCJ-02'], ['amap', 'GCJ-02'], ['AMap', 'GCJ-02'], ['gaode', 'GCJ-02'],
    ['bd09', 'BD-09'], ['BD-09', 'BD-09'], ['baidu', 'BD-09'], ['Baidu', 'BD-09'], [' gcj02 ', 'GCJ-02'],
  ];
  for (const [input, want] of cases) assert.equal(parseCrs(input), want, input);
  for (const crs of CRS_NAMES) assert.equal(parseCrs(crs), crs);
});

test('parseCrs rejects EPSG:9999 with ARGUMENT_INVALID, listing the accepted names', () => {
  for (const bad of ['EPSG:9999', '', 'gcj', 'wgs 1984x']) {
    assert.throws(
      () => parseCrs(bad),
      (e: unknown) => {
        assert.ok(e instanceof LifecircleError);
        assert.equal(e.key, 'ARGUMENT_INVALID');
        assert.equal(e.code, 900);
        for (const name of CRS_NAMES) assert.ok(e.message.includes(name), `message names ${name}: ${e.message}`);
        for (const alias of ['wgs84', 'cgcs2000', 'webmercator', 'utm51n', 'gcj02', 'amap', 'gaode', 'bd09', 'baidu']) {
          assert.ok(e.message.includes(alias), `message names ${alias}: ${e.message}`);
        }
        if (bad !== '') assert.ok(e.message.includes(bad), e.message);
        return true;
      },
    );
  }
});

test('outOfChina follows the published rough box: Tokyo out, Shanghai and Hong Kong in; GCJ-02 = WGS84 outside', () => {
  // googollee/eviltransform outOfChina: out when lon < 72.004 or > 137.8347 or lat < 0.8293 or > 55.8271.
  const tokyo: [number, number] = [139.6917, 35.6895];
  const shanghai: [number, number] = [121.4737, 31.2304];
  const hongKong: [number, number] = [114.1694, 22.3193];
  assert.equal(outOfChina(...tokyo), true);
  assert.equal(outOfChina(...shanghai), false);
  assert.equal(outOfChina(...hongKong), false); // a box, not a border: Hong Kong is inside it
  assert.equal(outOfChina(72.0, 40), true);
  assert.equal(outOfChina(100, 56), true);
  assert.deepEqual(wgsToGcj(...tokyo), tokyo);
  assert.deepEqual(gcjToWgs(...tokyo), tokyo);
  assert.ok(haversineM(...wgsToGcj(...hongKong), ...hongKong) > 100, 'Hong Kong is shifted like the rest of the box');
  // gcoord (test/unit/crs/GCJ02.spec.ts): GCJ02 → WGS84 of [183, 45] (not in China) is unchanged.
  assert.deepEqual(gcjToWgs(183, 45), [183, 45]);
  // Non-finite input passes through rather than looping.
  assert.ok(gcjToWgs(NaN, 31).every((v, i) => (i === 0 ? Number.isNaN(v) : v === 31)));
});

test('CRS_METHODS has one non-trivial paragraph per CRS; identity systems convert as identity', () => {
  assert.deepEqual(Object.keys(CRS_METHODS).sort(), [...CRS_NAMES].sort());
  for (const crs of CRS_NAMES) assert.ok(CRS_METHODS[crs].length > 40, crs);
  assert.match(CRS_METHODS['EPSG:4490'], /centimetre/);
  assert.match(CRS_METHODS['GCJ-02'], /iterat/i);
  for (const crs of ['EPSG:4326', 'EPSG:4490'] as const) {
    assert.deepEqual(toWgs84(crs)(121.4737, 31.2304), [121.4737, 31.2304]);
    assert.deepEqual(fromWgs84(crs)(121.4737, 31.2304), [121.4737, 31.2304]);
  }
  assert.throws(() => toWgs84('EPSG:9999' as CrsName), LifecircleError);
});
