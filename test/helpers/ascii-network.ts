/**
 * ASCII-drawn OSM networks for tests, after Valhalla's gurka (test/gurka/gurka.cc): letters are nodes on a
 * grid of known spacing, `-` and `|` (and `/`, `\` for diagonals) draw the streets between them, and the ways
 * are given explicitly with their tags, so expected lengths and times are known by construction.
 *
 *     const net = writeAsciiOsm(`
 *       A-B-C
 *       |   |
 *       D-E-F
 *     `, { ABC: { highway: 'residential' }, AD: { highway: 'footway' }, DEF: { highway: 'steps' }, CF: {...} });
 *
 * Grid: a letter's grid position is (column / 2, row / 2) in characters of the drawing (after the common
 * indentation is removed), so `A-B` and
 *
 *     A
 *     |
 *     D
 *
 * are both one grid step (default 100 m) apart, and `A---B` is two steps. Letters should sit on even columns
 * and rows; odd positions give half steps. The drawing's first row is the northern edge; row numbers grow
 * southwards and columns eastwards. Grid metres become degrees with a local equirectangular conversion at
 * (lon0, lat0) = (121.4, 31.2) by default, on the same sphere as src/geo.ts (EARTH_RADIUS_M):
 *
 *     lon = lon0 + xM / (R · π/180 · cos(lat0)),   lat = lat0 + yM / (R · π/180)
 *
 * Along a meridian (a `|` line) and along the parallel lat0 (the first drawing row when `originRow` is 0),
 * haversine distances equal the grid metres to ~1e-12 relative. Rows south of lat0 are longer by a factor
 * cos(lat)/cos(lat0) ≈ 1 + tan(lat0)·Δy/R (≈ 9.5e-6 per 100 m of southing at 31.2°N), so tests that need
 * better than 1e-5 should compute expected values with `pathM` (haversine of the written coordinates).
 *
 * Way keys are node letters in order (`'ABC'`); append `#anything` to give two ways the same letters
 * (`'AB#2'`). Each consecutive pair must be drawn as a straight run of `-`, `|`, `/` or `\` between them
 * (so a typo fails loudly), unless `checkDrawing: false`. Ways get ids 1001, 1002, … in key order; nodes get
 * ids 1, 2, … in reading order (row by row, left to right).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EARTH_RADIUS_M, haversineM } from '../../src/geo.ts';

export type Tags = Record<string, string>;

export interface AsciiNode {
  letter: string;
  id: number;
  lon: number;
  lat: number;
  /** Grid position in metres: x east, y north of the drawing's first row / first column. */
  xM: number;
  yM: number;
  tags?: Tags;
}

export interface AsciiNetwork {
  /** The OSM XML file written. */
  path: string;
  /** Letter → node. */
  nodes: Record<string, AsciiNode>;
  /** Way key (as given) → OSM way id. */
  wayIds: Record<string, number>;
  gridM: number;
  lon0: number;
  lat0: number;
  /** Node by letter (throws on an unknown letter). */
  node(letter: string): AsciiNode;
  /** OSM id of a letter. */
  id(letter: string): number;
  /** Haversine length in metres of the polyline through the letters, e.g. pathM('ABCF'). */
  pathM(letters: string): number;
  /** lon/lat of a point given in grid metres (x east, y north of the first row / column). */
  lonLat(xM: number, yM: number): [number, number];
}

export interface AsciiOptions {
  /** Metres per grid step (two characters horizontally, two lines vertically). Default 100. */
  gridM?: number;
  lon0?: number;
  lat0?: number;
  /** Tags per node letter, e.g. { G: { barrier: 'gate', access: 'private' } }. */
  nodeTags?: Record<string, Tags>;
  /** Where to write; default a fresh temp dir (see `asciiTempDir`). */
  dir?: string;
  /** File name, default `ascii-<n>.osm`. */
  name?: string;
  /** Check that each pair of consecutive way letters is drawn as a straight connector run. Default true. */
  checkDrawing?: boolean;
}

const RAD = Math.PI / 180;
let tempDir: string | null = null;
let seq = 0;

/** A temp dir shared by the networks of one test process; removed at exit. */
export function asciiTempDir(): string {
  if (tempDir === null) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecircle-ascii-'));
    const dir = tempDir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return tempDir;
}

/** Grid metres → lon/lat with the local equirectangular conversion described above. */
export function gridToLonLat(xM: number, yM: number, lon0 = 121.4, lat0 = 31.2): [number, number] {
  return [lon0 + xM / (EARTH_RADIUS_M * RAD * Math.cos(lat0 * RAD)), lat0 + yM / (EARTH_RADIUS_M * RAD)];
}

function dedent(drawing: string): string[] {
  const lines = drawing.replace(/\t/g, '    ').split('\n');
  while (lines.length > 0 && lines[0].trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  let indent = Infinity;
  for (const l of lines) if (l.trim() !== '') indent = Math.min(indent, l.length - l.trimStart().length);
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0).trimEnd());
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Parses the drawing into letter → (row, col). */
export function parseDrawing(drawing: string): { lines: string[]; cells: Map<string, { row: number; col: number }> } {
  const lines = dedent(drawing);
  const cells = new Map<string, { row: number; col: number }>();
  lines.forEach((line, row) => {
    for (let col = 0; col < line.length; col++) {
      const ch = line[col];
      if (/[A-Za-z0-9]/.test(ch)) {
        if (cells.has(ch)) throw new Error(`ascii network: node letter "${ch}" drawn twice (row ${row}, col ${col})`);
        cells.set(ch, { row, col });
      } else if (!' -|/\\'.includes(ch)) {
        throw new Error(`ascii network: unexpected character "${ch}" at row ${row}, col ${col}`);
      }
    }
  });
  return { lines, cells };
}

function checkConnector(lines: string[], a: { row: number; col: number }, b: { row: number; col: number }, la: string, lb: string): void {
  const dr = Math.sign(b.row - a.row);
  const dc = Math.sign(b.col - a.col);
  const steps = Math.max(Math.abs(b.row - a.row), Math.abs(b.col - a.col));
  const straight = dr === 0 || dc === 0 || Math.abs(b.row - a.row) === Math.abs(b.col - a.col);
  const want = dr === 0 ? '-' : dc === 0 ? '|' : dr === dc ? '\\' : '/';
  let ok = straight && steps >= 2;
  for (let k = 1; ok && k < steps; k++) if ((lines[a.row + k * dr] ?? '')[a.col + k * dc] !== want) ok = false;
  if (!ok) throw new Error(`ascii network: way segment ${la}${lb} is not drawn as a straight run of "${want}" in the drawing`);
}

/**
 * Writes the drawing as an OSM XML 0.6 file and returns the letter → id / lon / lat mapping.
 * Coordinates are written with full double precision (String(number)), not rounded to 7 decimals.
 */
export function writeAsciiOsm(drawing: string, ways: Record<string, Tags>, options: AsciiOptions = {}): AsciiNetwork {
  const gridM = options.gridM ?? 100;
  const lon0 = options.lon0 ?? 121.4;
  const lat0 = options.lat0 ?? 31.2;
  const { lines, cells } = parseDrawing(drawing);
  const nodes: Record<string, AsciiNode> = {};
  const ordered = [...cells.entries()].sort((p, q) => p[1].row - q[1].row || p[1].col - q[1].col);
  ordered.forEach(([letter, { row, col }], i) => {
    const xM = (col / 2) * gridM;
    const yM = -(row / 2) * gridM;
    const [lon, lat] = gridToLonLat(xM, yM, lon0, lat0);
    nodes[letter] = { letter, id: i + 1, lon, lat, xM, yM, tags: options.nodeTags?.[letter] };
  });
  for (const letter of Object.keys(options.nodeTags ?? {})) {
    if (!nodes[letter]) throw new Error(`ascii network: nodeTags names "${letter}", which is not drawn`);
  }
  const wayIds: Record<string, number> = {};
  const wayXml: string[] = [];
  Object.entries(ways).forEach(([key, tags], i) => {
    const letters = key.split('#')[0];
    if (letters.length < 2) throw new Error(`ascii network: way "${key}" needs at least two letters`);
    for (const l of letters) if (!nodes[l]) throw new Error(`ascii network: way "${key}" uses "${l}", which is not drawn`);
    if (options.checkDrawing ?? true) {
      for (let k = 1; k < letters.length; k++) checkConnector(lines, cells.get(letters[k - 1])!, cells.get(letters[k])!, letters[k - 1], letters[k]);
    }
    const id = 1001 + i;
    wayIds[key] = id;
    const nds = [...letters].map((l) => `    <nd ref="${nodes[l].id}"/>`);
    const tagXml = Object.entries(tags).map(([k, v]) => `    <tag k="${escapeXml(k)}" v="${escapeXml(v)}"/>`);
    wayXml.push(`  <way id="${id}" version="1">\n${[...nds, ...tagXml].join('\n')}\n  </way>`);
  });
  const nodeXml = ordered.map(([letter]) => {
    const n = nodes[letter];
    const head = `  <node id="${n.id}" version="1" lat="${String(n.lat)}" lon="${String(n.lon)}"`;
    if (!n.tags) return `${head}/>`;
    const tagXml = Object.entries(n.tags).map(([k, v]) => `    <tag k="${escapeXml(k)}" v="${escapeXml(v)}"/>`);
    return `${head}>\n${tagXml.join('\n')}\n  </node>`;
  });
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="lifecircle ascii-network test helper">\n${nodeXml.join('\n')}\n${wayXml.join('\n')}\n</osm>\n`;
  const dir = options.dir ?? asciiTempDir();
  const file = path.join(dir, options.name ?? `ascii-${seq++}.osm`);
  fs.writeFileSync(file, xml);

  const node = (letter: string): AsciiNode => {
    const n = nodes[letter];
    if (!n) throw new Error(`ascii network: no node "${letter}"`);
    return n;
  };
  return {
    path: file,
    nodes,
    wayIds,
    gridM,
    lon0,
    lat0,
    node,
    id: (letter) => node(letter).id,
    pathM(letters: string): number {
      let m = 0;
      for (let k = 1; k < letters.length; k++) {
        const a = node(letters[k - 1]);
        const b = node(letters[k]);
        m += haversineM(a.lon, a.lat, b.lon, b.lat);
      }
      return m;
    },
    lonLat: (xM, yM) => gridToLonLat(xM, yM, lon0, lat0),
  };
}
