/**
 * Deterministic, seedable generator of a large synthetic street network that looks like Shanghai, written as
 * OSM XML, for scale tests and benchmarks (1 M+ nodes). Same seed + options give a byte-identical file.
 *
 * What the city looks like (x east, y north, in metres from the south-west corner):
 *
 * - Arterial grid: straight arterials roughly every 400–600 m in both directions, alternating
 *   highway=primary / highway=secondary and named `Synthetic Rd N`. About a third of the primaries are dual
 *   carriageways: a pair of oneway=yes ways 16–24 m apart, right-hand traffic (the east carriageway of a
 *   north–south road runs north, the south carriageway of an east–west road runs east). Arterial ways are
 *   split at every arterial–arterial junction.
 * - Blocks: inside each arterial block, residential streets (about 15% tertiary, about 8% oneway) roughly every
 *   100–200 m in both directions, named `Synthetic St N`. Their positions are shared along a block column/row
 *   (so streets often continue straight across an arterial) or, for about 40% of blocks, jittered per block.
 *   About 5% of inner street segments are missing (missing links: the street stops at a T-junction and resumes
 *   at the next one) and about 6% of street ends stop short of the arterial in a cul-de-sac.
 * - Inside street cells (the areas between streets, about 100–200 m square), Shanghai-style:
 *   - about 55% are residential compounds (xiaoqu): a highway=service loop set back 15–25 m from the streets,
 *     one or two service gates onto the surrounding streets and one or two footways across the inside;
 *   - about 25% get a dead-end lane (`Synthetic Lane N`, highway=residential, a cul-de-sac), half of them with
 *     short highway=footway alleys off it like a lilong;
 *   - outside compounds, half of the cells get a straight highway=footway path across (sometimes two crossing
 *     each other; sometimes continuing across the next street, where the 16 m piece over the carriageway is a
 *     separate footway=crossing way). About 6% of footways have a 12 m highway=steps piece.
 * - Shape nodes along every street every ~25–40 m (with ~1.5 m of sideways wobble, 4 m on footways), so the
 *   graph has the degree-2 chains of real OSM. Junction nodes are shared by the ways that meet there; ways that
 *   cross without a shared node do not exist except for the expressways (which are elevated, layer=2).
 * - Rivers: 2 or 3 meandering rivers crossing the whole city edge to edge (a Huangpu-like north–south river
 *   250–400 m wide, a Suzhou-Creek-like east–west one 80–120 m wide and, for about half of the seeds, a second
 *   east–west one 90–150 m wide in the south), written as waterway=river centre lines. Streets stop at the
 *   banks; the only street links across a river are bridges: arterial pieces tagged bridge=yes layer=1, placed
 *   about one every 1.5–3 km along the river. A bridge is one way per carriageway, so a dual-carriageway bridge
 *   counts twice in {@link SyntheticCityStats.riverCrossings}. Bridges are not built where two barriers overlap.
 * - Expressways: 2 elevated expressways (`Synthetic Expressway 1`, east–west, highway=trunk; `... 2`, north–south,
 *   highway=motorway), each a pair of oneway carriageways 18 m apart tagged motorroad=yes foot=no bicycle=no
 *   bridge=viaduct layer=2, sharing no node with the streets. Surface streets are cut along a 60 m corridor under
 *   them except at a few arterial crossings about every 1–2 km (counted per carriageway in
 *   {@link SyntheticCityStats.expresswayCrossings}); every other such crossing is an interchange with
 *   oneway=yes foot=no *_link ramps between the carriageways and the crossing street. So on foot an expressway
 *   is a barrier crossed only at those points.
 * - Ids: node ids ascend from 1, way ids ascend from 1, all nodes are written before all ways, every node is
 *   used by a way and every `<nd ref>` refers to a written node. The file starts with
 *   `<osm version="0.6" generator="lifecircle synthetic">` and a `<bounds>` element (the city rectangle, which
 *   contains every node).
 * - Scale: the city is sized so that the node count is within a few percent of targetNodes (it is generated,
 *   counted and, if needed, regenerated at a corrected size); its aspect ratio is 1.15 : 1 (wider than tall).
 *   Density is about 1,100–1,150 nodes/km² (river and waterway nodes included), so 1.2 M nodes make a city of
 *   about 35 × 30 km and 20,000 nodes one of about 4.7 × 4.1 km.
 * - Coordinates are WGS84 degrees from metres by a local equirectangular projection at the origin's latitude
 *   (sphere of radius 6,371,008.8 m), printed with 7 decimals.
 * - Determinism: one seeded sfc32 stream (never Math.random); the seed is reduced to 32 bits (`seed >>> 0`
 *   after truncation), so seeds equal modulo 2^32 give the same city.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { LifecircleError } from '../errors.ts';

export interface SyntheticCityOptions {
  /** PRNG seed; reduced to an unsigned 32-bit integer. */
  seed: number;
  /** Approximate number of OSM nodes to write (the result is within ±10%, usually ±3%). */
  targetNodes: number;
  /** South-west corner longitude, default 121.30. */
  originLon?: number;
  /** South-west corner latitude, default 31.05. */
  originLat?: number;
}

export interface SyntheticCityStats {
  nodes: number;
  ways: number;
  /** [minLon, minLat, maxLon, maxLat] of the city rectangle (the `<bounds>` element). */
  bbox: [number, number, number, number];
  widthM: number;
  heightM: number;
  /** Number of bridge=yes ways (one per carriageway) carrying a street over a river. */
  riverCrossings: number;
  /** Number of street ways (one per carriageway) passing under an expressway. */
  expresswayCrossings: number;
  bytes: number;
}

/** Accepted range of targetNodes. Generation holds the whole city in memory, about 220 bytes per node. */
export const SYNTHETIC_MIN_NODES = 5_000;
export const SYNTHETIC_MAX_NODES = 20_000_000;

const EARTH_RADIUS_M = 6_371_008.8;
/** Width : height of the city rectangle. */
const ASPECT = 1.15;
/** Nodes per square metre, measured; only the first guess of the size, corrected by regeneration. */
const DENSITY_GUESS = 1140e-6;
const SIZE_TOLERANCE = 0.03;
const MAX_ATTEMPTS = 6;

const EXPRESSWAY_HALF_CORRIDOR_M = 30;
const EXPRESSWAY_CARRIAGEWAY_OFFSET_M = 9;
const EXPRESSWAY_NODE_SPACING_M = 35;
const MAX_WAY_SEGMENTS = 400;
const RAMP_REACH_M = 90;
const CROSSING_HALF_M = 8;
const STEPS_LENGTH_M = 12;
/** Height of the bands used to find junctions. */
const JUNCTION_BAND_M = 200;
/** Share of street cells that are residential compounds / lilong lanes. */
const COMPOUND_SHARE = 0.55;
const LILONG_SHARE = 0.25;
/** Spacing of the streets inside an arterial block. */
const LOCAL_MIN_M = 100;
const LOCAL_MAX_M = 200;

// Edge variants: how the piece of a line between two key points is tagged.
const VAR_NORMAL = 0;
const VAR_CROSSING = 1;
const VAR_STEPS = 2;

// ---------------------------------------------------------------------------------------------------------
// PRNG

type Rng = () => number;

/** sfc32 seeded through splitmix32, returning floats in [0, 1). */
function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

// ---------------------------------------------------------------------------------------------------------
// Growable typed arrays

class F64Vec {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

class I32Vec {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Model

/** What a street is, shared by all the lines (pieces) of one street. */
interface Style {
  /** Tag set of its ways, and of its bridge ways (arterials only, else -1). */
  tag: number;
  bridgeTag: number;
  /** 1: oneway in increasing t; -1: oneway in decreasing t (refs are written reversed); 0: two-way. */
  oneway: -1 | 0 | 1;
  arterial: boolean;
  /** Index of the arterial centre line among those of the same orientation, -1 for non-arterials. */
  center: number;
  /** Sideways wobble of shape nodes, metres. */
  wobble: number;
  /** Footway-like: gets no footway=crossing piece where another footway meets it. */
  path: boolean;
}

/** A straight piece of street: x = c for t = y in [a, b] (vertical) or y = c for t = x in [a, b]. */
class Line {
  constructor(
    readonly vertical: boolean,
    readonly c: number,
    readonly a: number,
    readonly b: number,
    readonly style: Style,
    /** Add footway=crossing pieces where this footway crosses a street. */
    readonly crossings: boolean,
    /** Start of a highway=steps piece, or NaN. */
    readonly stepsAt: number,
  ) {}
}

interface Wave {
  amp: number;
  k: number;
  phase: number;
}

interface Barrier {
  river: boolean;
  /** true: the axis is x = base + waves(y) (runs north–south); false: y = base + waves(x). */
  vertical: boolean;
  base: number;
  waves: Wave[];
  maxDev: number;
  half: number;
  bit: number;
  name: string;
  /** Expressways only: highway=motorway or trunk. */
  highway: string;
  /** Centre indices of perpendicular arterials allowed across (bridges / expressway crossings). */
  centers: Set<number>;
  /** Expressways only: crossing centres that are interchanges with ramps. */
  rampCenters: Set<number>;
}

function axisAt(b: Barrier, t: number): number {
  let v = b.base;
  for (const w of b.waves) v += w.amp * Math.sin(w.k * t + w.phase);
  return v;
}

function makeWaves(rng: Rng, size: number, spec: Array<[number, number, number, number]>): Wave[] {
  // spec: [min wavelength, max wavelength (fractions of size), min amp, max amp (fractions of wavelength)]
  return spec.map(([l0, l1, a0, a1]) => {
    const lambda = size * (l0 + (l1 - l0) * rng());
    return { amp: lambda * (a0 + (a1 - a0) * rng()), k: (2 * Math.PI) / lambda, phase: 2 * Math.PI * rng() };
  });
}

interface Built {
  nodeX: F64Vec;
  nodeY: F64Vec;
  wayStart: I32Vec;
  wayRefs: I32Vec;
  wayTag: I32Vec;
  tags: string[];
  widthM: number;
  heightM: number;
  riverCrossings: number;
  expresswayCrossings: number;
}

function tagXml(pairs: Array<[string, string | null]>): string {
  let s = '';
  for (const [k, v] of pairs) if (v !== null) s += `    <tag k="${k}" v="${v}"/>\n`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Generation

function build(seed: number, W: number, H: number): Built {
  const rng = makeRng(seed);
  const U = (lo: number, hi: number): number => lo + (hi - lo) * rng();
  const chance = (p: number): boolean => rng() < p;
  const size = Math.sqrt(W * H);

  const tags: string[] = [];
  const tagIndex = new Map<string, number>();
  const tagId = (xml: string): number => {
    let id = tagIndex.get(xml);
    if (id === undefined) {
      id = tags.length;
      tags.push(xml);
      tagIndex.set(xml, id);
    }
    return id;
  };

  // --- arterial centres ----------------------------------------------------------------------------------
  interface Arterials {
    c: number[];
    half: number[];
    highway: string[];
  }
  const arterials = (extent: number): Arterials => {
    const out: Arterials = { c: [], half: [], highway: [] };
    let x = U(200, 500);
    while (x < extent - 200) {
      const primary = out.c.length % 2 === 0;
      out.c.push(x);
      out.highway.push(primary ? 'primary' : 'secondary');
      out.half.push(primary && chance(0.35) ? U(8, 12) : 0);
      x += U(400, 600);
    }
    return out;
  };
  const ax = arterials(W);
  const ay = arterials(H);

  // --- barriers ------------------------------------------------------------------------------------------
  const barriers: Barrier[] = [];
  const addBarrier = (b: Omit<Barrier, 'bit' | 'maxDev' | 'centers' | 'rampCenters'>): Barrier => {
    let maxDev = 0;
    for (const w of b.waves) maxDev += Math.abs(w.amp);
    const full: Barrier = { ...b, bit: 1 << barriers.length, maxDev, centers: new Set(), rampCenters: new Set() };
    barriers.push(full);
    return full;
  };
  // Rivers: a wide north–south one, an east–west creek, and sometimes a second east–west one in the south.
  addBarrier({
    river: true,
    vertical: true,
    base: W * U(0.45, 0.6),
    waves: makeWaves(rng, size, [
      [0.7, 1.2, 0.03, 0.06],
      [0.25, 0.4, 0.01, 0.03],
    ]),
    half: U(125, 200),
    name: 'Synthetic River 1',
    highway: '',
  });
  addBarrier({
    river: true,
    vertical: false,
    base: H * U(0.58, 0.72),
    waves: makeWaves(rng, size, [
      [0.5, 0.9, 0.02, 0.05],
      [0.15, 0.3, 0.01, 0.03],
    ]),
    half: U(40, 60),
    name: 'Synthetic River 2',
    highway: '',
  });
  if (chance(0.5)) {
    addBarrier({
      river: true,
      vertical: false,
      base: H * U(0.15, 0.28),
      waves: makeWaves(rng, size, [[0.6, 1.0, 0.02, 0.04]]),
      half: U(45, 75),
      name: 'Synthetic River 3',
      highway: '',
    });
  }
  const rivers = barriers.length;
  addBarrier({
    river: false,
    vertical: false,
    base: H * U(0.38, 0.48),
    waves: makeWaves(rng, size, [[0.8, 1.5, 0.005, 0.015]]),
    half: EXPRESSWAY_HALF_CORRIDOR_M,
    name: 'Synthetic Expressway 1',
    highway: 'trunk',
  });
  addBarrier({
    river: false,
    vertical: true,
    base: W * U(0.2, 0.32),
    waves: makeWaves(rng, size, [[0.8, 1.5, 0.005, 0.015]]),
    half: EXPRESSWAY_HALF_CORRIDOR_M,
    name: 'Synthetic Expressway 2',
    highway: 'motorway',
  });
  // Which perpendicular arterials cross each barrier.
  for (const bar of barriers) {
    const centers = bar.vertical ? ay.c : ax.c;
    let next = U(300, bar.river ? 1500 : 1000);
    let picked = 0;
    for (let k = 0; k < centers.length; k++) {
      if (centers[k] < next) continue;
      bar.centers.add(k);
      if (!bar.river && picked % 2 === 0) bar.rampCenters.add(k);
      picked++;
      next = centers[k] + (bar.river ? U(1400, 2600) : U(1000, 2000));
    }
  }

  // --- lines ---------------------------------------------------------------------------------------------
  const lines: Line[] = [];
  let streetNo = 0;
  let laneNo = 0;
  const addLine = (vertical: boolean, c: number, a: number, b: number, style: Style, crossings = false,
    stepsAt = NaN): void => {
    lines.push(new Line(vertical, c, a, b, style, crossings, stepsAt));
  };
  const makeStyle = (highway: string, name: string | null, oneway: -1 | 0 | 1, center: number, wobble: number): Style => {
    const ow = oneway !== 0 ? 'yes' : null;
    const arterial = center >= 0;
    return {
      tag: tagId(tagXml([['highway', highway], ['name', name], ['oneway', ow]])),
      bridgeTag: arterial
        ? tagId(tagXml([['highway', highway], ['name', name], ['oneway', ow], ['bridge', 'yes'], ['layer', '1']]))
        : -1,
      oneway,
      arterial,
      center,
      wobble,
      path: highway === 'footway',
    };
  };
  const footwayStyle = makeStyle('footway', null, 0, -1, 4);
  const serviceStyle = makeStyle('service', null, 0, -1, 1);

  // Arterials, full length. A dual carriageway is two oneway lines at c ± half.
  const addArterials = (art: Arterials, vertical: boolean, firstNo: number): void => {
    const extent = vertical ? H : W;
    for (let k = 0; k < art.c.length; k++) {
      const highway = art.highway[k];
      const name = `Synthetic Rd ${firstNo + k}`;
      if (art.half[k] === 0) {
        addLine(vertical, art.c[k], 0, extent, makeStyle(highway, name, 0, k, 1.5));
      } else {
        // Right-hand traffic: vertical roads run north on the east side; horizontal roads run east on the south.
        addLine(vertical, art.c[k] - art.half[k], 0, extent, makeStyle(highway, name, vertical ? -1 : 1, k, 1.5));
        addLine(vertical, art.c[k] + art.half[k], 0, extent, makeStyle(highway, name, vertical ? 1 : -1, k, 1.5));
      }
    }
  };
  addArterials(ax, true, 1);
  addArterials(ay, false, ax.c.length + 1);

  // Block intervals between arterials (inner carriageways), the map edges bounding the outer blocks.
  const intervals = (art: Arterials, extent: number): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    let lo = 0;
    for (let k = 0; k < art.c.length; k++) {
      out.push([lo, art.c[k] - art.half[k]]);
      lo = art.c[k] + art.half[k];
    }
    out.push([lo, extent]);
    return out;
  };
  const bx = intervals(ax, W);
  const by = intervals(ay, H);
  const localPositions = (lo: number, hi: number): number[] => {
    const out: number[] = [];
    let p = lo + U(LOCAL_MIN_M, LOCAL_MAX_M);
    while (p < hi - 70) {
      out.push(p);
      p += U(LOCAL_MIN_M, LOCAL_MAX_M);
    }
    return out;
  };
  const colLocals = bx.map(([lo, hi]) => localPositions(lo, hi));
  const rowLocals = by.map(([lo, hi]) => localPositions(lo, hi));

  type Spans = Array<[number, number]>;
  const covers = (spans: Spans | null, t: number): boolean => {
    if (spans === null) return false;
    for (const [a, b] of spans) if (a <= t && t <= b) return true;
    return false;
  };

  /** Local streets of one orientation in a block: spans per street, given the cross-street keys. */
  const localStreets = (vertical: boolean, positions: number[], keys: number[], startsAtArterial: boolean,
    endsAtArterial: boolean): Spans[] => {
    const all: Spans[] = [];
    for (const c of positions) {
      const spans: Spans = [];
      let a = keys[0];
      for (let s = 0; s + 1 < keys.length; s++) {
        const inner = s > 0 && s + 2 < keys.length;
        if (inner && chance(0.05)) {
          if (keys[s] > a) spans.push([a, keys[s]]);
          a = keys[s + 1];
        }
      }
      if (keys[keys.length - 1] > a) spans.push([a, keys[keys.length - 1]]);
      // Cul-de-sacs: the street stops short of the arterial at one end.
      if (spans.length > 0) {
        const first = spans[0];
        if (startsAtArterial && first[0] === keys[0] && chance(0.06)) {
          const cut = keys[0] + (keys[1] - keys[0]) * U(0.4, 0.7);
          if (first[1] - cut > 20) first[0] = cut;
        }
        const last = spans[spans.length - 1];
        if (endsAtArterial && last[1] === keys[keys.length - 1] && chance(0.06)) {
          const n = keys.length;
          const cut = keys[n - 1] - (keys[n - 1] - keys[n - 2]) * U(0.4, 0.7);
          if (cut - last[0] > 20) last[1] = cut;
        }
      }
      const highway = chance(0.15) ? 'tertiary' : 'residential';
      const oneway: -1 | 0 | 1 = chance(0.08) ? (chance(0.5) ? 1 : -1) : 0;
      const style = makeStyle(highway, `Synthetic St ${++streetNo}`, oneway, -1, 1.5);
      for (const [a0, b0] of spans) addLine(vertical, c, a0, b0, style);
      all.push(spans);
    }
    return all;
  };

  const addFootway = (vertical: boolean, c: number, a: number, b: number, crossings: boolean): void => {
    const stepsAt = chance(0.06) && b - a > 3 * STEPS_LENGTH_M ? U(a + STEPS_LENGTH_M, b - 2 * STEPS_LENGTH_M) : NaN;
    addLine(vertical, c, a, b, footwayStyle, crossings, stepsAt);
  };

  for (let i = 0; i < bx.length; i++) {
    for (let j = 0; j < by.length; j++) {
      const [x0, x1] = bx[i];
      const [y0, y1] = by[j];
      const vx = chance(0.4) ? localPositions(x0, x1) : colLocals[i];
      const hy = chance(0.4) ? localPositions(y0, y1) : rowLocals[j];
      const xs = [x0, ...vx, x1];
      const ys = [y0, ...hy, y1];
      const vSpans = localStreets(true, vx, ys, j > 0, j < by.length - 1);
      const hSpans = localStreets(false, hy, xs, i > 0, i < bx.length - 1);
      const full: Spans = [[-Infinity, Infinity]];
      // Host street along each cell side: arterial (always there), local street (may have gaps) or map edge.
      const vHost = (p: number): Spans | null =>
        p === 0 ? (i > 0 ? full : null) : p === xs.length - 1 ? (i < bx.length - 1 ? full : null) : vSpans[p - 1];
      const hHost = (q: number): Spans | null =>
        q === 0 ? (j > 0 ? full : null) : q === ys.length - 1 ? (j < by.length - 1 ? full : null) : hSpans[q - 1];

      for (let p = 0; p + 1 < xs.length; p++) {
        for (let q = 0; q + 1 < ys.length; q++) {
          const cx0 = xs[p];
          const cx1 = xs[p + 1];
          const cy0 = ys[q];
          const cy1 = ys[q + 1];
          const w = cx1 - cx0;
          const h = cy1 - cy0;
          const cellKind = rng();
          // Residential compound: a service-road loop set back from the streets, one or two gates onto the
          // streets and footpaths across the inside.
          if (cellKind < COMPOUND_SHARE && w > 90 && h > 90) {
            const inset = U(15, 25);
            const rx0 = cx0 + inset;
            const rx1 = cx1 - inset;
            const ry0 = cy0 + inset;
            const ry1 = cy1 - inset;
            // Gates: [vertical, c, a, b] for each side whose street is there at the gate position.
            const gates: Array<[boolean, number, number, number]> = [];
            const gx = U(rx0 + 15, rx1 - 15);
            const gy = U(ry0 + 15, ry1 - 15);
            const sides: Array<[boolean, number, number, number, Spans | null]> = [
              [true, gx, cy0, ry0, hHost(q)],
              [true, gx, ry1, cy1, hHost(q + 1)],
              [false, gy, cx0, rx0, vHost(p)],
              [false, gy, rx1, cx1, vHost(p + 1)],
            ];
            const first = Math.floor(rng() * 4);
            const wanted = chance(0.4) ? 2 : 1;
            for (let s = 0; s < 4 && gates.length < wanted; s++) {
              const [vertical, c, a, b, host] = sides[(first + s) % 4];
              if (covers(host, c)) gates.push([vertical, c, a, b]);
            }
            if (gates.length > 0) {
              addLine(false, ry0, rx0, rx1, serviceStyle);
              addLine(false, ry1, rx0, rx1, serviceStyle);
              addLine(true, rx0, ry0, ry1, serviceStyle);
              addLine(true, rx1, ry0, ry1, serviceStyle);
              for (const [vertical, c, a, b] of gates) addLine(vertical, c, a, b, serviceStyle);
              const inner = chance(0.7) ? [true, false] : [chance(0.5)];
              for (const vertical of inner) {
                const c = vertical ? U(rx0 + 0.25 * (rx1 - rx0), rx1 - 0.25 * (rx1 - rx0))
                  : U(ry0 + 0.25 * (ry1 - ry0), ry1 - 0.25 * (ry1 - ry0));
                if (vertical) addFootway(true, c, ry0, ry1, false);
                else addFootway(false, c, rx0, rx1, false);
              }
              continue;
            }
          }
          // Dead-end lane (lilong) from one side into the cell, some with alleys off it.
          if (cellKind >= COMPOUND_SHARE && cellKind < COMPOUND_SHARE + LILONG_SHARE && w > 60 && h > 60) {
            const side = Math.floor(rng() * 4);
            const vertical = side < 2;
            const depth = vertical ? h : w;
            const c = vertical ? U(cx0 + 0.3 * w, cx0 + 0.7 * w) : U(cy0 + 0.3 * h, cy0 + 0.7 * h);
            const len = depth * U(0.45, 0.75);
            const fromLow = side % 2 === 0;
            const host = vertical ? hHost(fromLow ? q : q + 1) : vHost(fromLow ? p : p + 1);
            if (covers(host, c)) {
              const lo = vertical ? cy0 : cx0;
              const hi = vertical ? cy1 : cx1;
              const a = fromLow ? lo : hi - len;
              const b = fromLow ? lo + len : hi;
              const name = `Synthetic Lane ${++laneNo}`;
              addLine(vertical, c, a, b, makeStyle('residential', name, 0, -1, 1));
              if (chance(0.5)) {
                // Alleys off the lane, towards both sides, ending 12 m short of the cell sides.
                const across0 = vertical ? cx0 : cy0;
                const across1 = vertical ? cx1 : cy1;
                for (let t = a + U(20, 30); t < b - 10; t += U(22, 32)) {
                  if (c - across0 > 35) addFootway(!vertical, t, Math.max(across0 + 12, c - U(25, 40)), c, false);
                  if (across1 - c > 35) addFootway(!vertical, t, c, Math.min(across1 - 12, c + U(25, 40)), false);
                }
              }
            }
          }
          // Footpaths straight across the cell (sometimes crossing the next street into the next cell too).
          if (chance(0.5)) {
            const crossAll = chance(0.3);
            for (const vertical of crossAll ? [true, false] : [chance(0.5)]) {
              const c = vertical ? U(cx0 + 0.3 * w, cx0 + 0.7 * w) : U(cy0 + 0.3 * h, cy0 + 0.7 * h);
              const a = vertical ? cy0 : cx0;
              let b = vertical ? cy1 : cx1;
              let crossings = false;
              const keys = vertical ? ys : xs;
              const k = vertical ? q : p;
              const host = vertical ? hHost : vHost;
              if (!crossAll && k + 2 < keys.length && chance(0.25) && covers(host(k + 1), c)) {
                b = keys[k + 2];
                crossings = true;
              }
              if (!covers(host(k), c) && !covers(host(crossings ? k + 2 : k + 1), c)) continue;
              if (b - a < 30) continue;
              addFootway(vertical, c, a, b, crossings);
            }
          }
        }
      }
    }
  }

  // --- junctions -----------------------------------------------------------------------------------------
  const vIdx: number[] = [];
  const hIdx: number[] = [];
  for (let li = 0; li < lines.length; li++) (lines[li].vertical ? vIdx : hIdx).push(li);
  vIdx.sort((p, q) => lines[p].c - lines[q].c || p - q);
  hIdx.sort((p, q) => lines[p].c - lines[q].c || p - q);
  // Vertical lines bucketed by the bands of y they touch, each bucket sorted by x.
  const nBands = Math.max(1, Math.ceil(H / JUNCTION_BAND_M));
  const bandIdx: number[][] = Array.from({ length: nBands }, () => []);
  for (const vi of vIdx) {
    const v = lines[vi];
    const b0 = Math.min(nBands - 1, Math.floor(v.a / JUNCTION_BAND_M));
    const b1 = Math.min(nBands - 1, Math.floor(v.b / JUNCTION_BAND_M));
    for (let band = b0; band <= b1; band++) bandIdx[band].push(vi);
  }
  const bandC = bandIdx.map((idx) => Float64Array.from(idx, (vi) => lines[vi].c));
  const lowerBound = (arr: Float64Array, v: number): number => {
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Two passes over the same candidates: count junctions per line, then fill them in (CSR arrays).
  // Horizontal lines go in increasing y, so both lines' junction lists come out sorted along the line.
  const jStart = new Int32Array(lines.length + 1);
  let jFill = jStart;
  let junctionT = new Float64Array(0);
  let jId = new Int32Array(0);
  let jOther = new Int32Array(0);
  let nJunctions = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const hi of hIdx) {
      const h = lines[hi];
      const band = Math.min(nBands - 1, Math.floor(h.c / JUNCTION_BAND_M));
      const vC = bandC[band];
      const idx = bandIdx[band];
      for (let k = lowerBound(vC, h.a); k < vC.length && vC[k] <= h.b; k++) {
        const vi = idx[k];
        const v = lines[vi];
        if (v.a <= h.c && h.c <= v.b) {
          if (pass === 0) {
            jStart[hi + 1]++;
            jStart[vi + 1]++;
            nJunctions++;
          } else {
            const jid = nJunctions++;
            let e = jFill[hi]++;
            junctionT[e] = v.c;
            jId[e] = jid;
            jOther[e] = vi;
            e = jFill[vi]++;
            junctionT[e] = h.c;
            jId[e] = jid;
            jOther[e] = hi;
          }
        }
      }
    }
    if (pass === 0) {
      for (let li = 0; li < lines.length; li++) jStart[li + 1] += jStart[li];
      jFill = jStart.slice();
      const total = jStart[lines.length];
      junctionT = new Float64Array(total);
      jId = new Int32Array(total);
      jOther = new Int32Array(total);
      nJunctions = 0;
    }
  }
  const jParent = new Int32Array(nJunctions);
  for (let j = 0; j < nJunctions; j++) jParent[j] = j;
  const find = (j: number): number => {
    while (jParent[j] !== j) {
      jParent[j] = jParent[jParent[j]];
      j = jParent[j];
    }
    return j;
  };
  // Junctions at the same point of a line (streets continuing straight across it) become one node.
  for (let li = 0; li < lines.length; li++) {
    for (let e = jStart[li] + 1; e < jStart[li + 1]; e++) {
      if (junctionT[e] === junctionT[e - 1]) {
        const r1 = find(jId[e]);
        const r2 = find(jId[e - 1]);
        if (r1 !== r2) jParent[Math.max(r1, r2)] = Math.min(r1, r2);
      }
    }
  }
  const jNode = new Int32Array(nJunctions); // node id per junction root, 0 = not yet written

  // --- output arrays -------------------------------------------------------------------------------------
  const est = Math.ceil(DENSITY_GUESS * W * H * 1.3) + 1024;
  const nodeX = new F64Vec(est);
  const nodeY = new F64Vec(est);
  nodeX.push(0); // ids start at 1: slot 0 unused
  nodeY.push(0);
  const wayStart = new I32Vec(est >> 3);
  const wayRefs = new I32Vec(est + (est >> 2));
  const wayTag = new I32Vec(est >> 3);
  const addNode = (x: number, y: number): number => {
    nodeX.push(x < 0 ? 0 : x > W ? W : x);
    nodeY.push(y < 0 ? 0 : y > H ? H : y);
    return nodeX.length - 1;
  };
  const addWay = (refs: ArrayLike<number>, tag: number, reverse: boolean): void => {
    wayStart.push(wayRefs.length);
    wayTag.push(tag);
    if (reverse) for (let k = refs.length - 1; k >= 0; k--) wayRefs.push(refs[k]);
    else for (let k = 0; k < refs.length; k++) wayRefs.push(refs[k]);
  };

  // classify() results: the barriers whose corridor holds the point, and the side of every barrier it is on.
  let clsBlocked = 0;
  let clsSide = 0;
  const classify = (x: number, y: number): void => {
    let blocked = 0;
    let side = 0;
    for (let k = 0; k < barriers.length; k++) {
      const bar = barriers[k];
      const u = bar.vertical ? x : y;
      let d = u - bar.base;
      if (Math.abs(d) <= bar.maxDev + bar.half) d = u - axisAt(bar, bar.vertical ? y : x);
      if (d > 0) side |= bar.bit;
      if (Math.abs(d) < bar.half) blocked |= bar.bit;
    }
    clsBlocked = blocked;
    clsSide = side;
  };

  // --- streets -------------------------------------------------------------------------------------------
  let riverCrossings = 0;
  let expresswayCrossings = 0;
  interface RampRequest {
    bar: Barrier;
    t: number;
    /** Street node on the negative / positive side of the expressway axis. */
    neg: number;
    pos: number;
    negSide: number;
    posSide: number;
  }
  const ramps: RampRequest[] = [];
  const rampDone = new Set<string>();

  // Scratch per line.
  const kt: number[] = [];
  const kj: number[] = [];
  const ks: number[] = [];
  const korder: number[] = [];
  const px: number[] = [];
  const py: number[] = [];
  const pj: number[] = [];
  const psplit: number[] = [];
  const pvar: number[] = [];
  const pblk: number[] = [];
  const pside: number[] = [];
  const pid: number[] = [];
  const pieces: number[] = []; // triplets t0, t1, variant
  const cur: number[] = [];
  const refs: number[] = [];

  const nodeFor = (i: number): number => {
    let id = pid[i];
    if (id > 0) return id;
    if (pj[i] >= 0) {
      const r = pj[i];
      if (jNode[r] === 0) jNode[r] = addNode(px[i], py[i]);
      id = jNode[r];
    } else {
      id = addNode(px[i], py[i]);
    }
    pid[i] = id;
    return id;
  };
  const crossingTag = tagId(tagXml([['highway', 'footway'], ['footway', 'crossing']]));
  const stepsTag = tagId(tagXml([['highway', 'steps']]));
  const emit = (style: Style, pts: number[], bridge: boolean): void => {
    if (pts.length < 2) return;
    refs.length = 0;
    for (let k = 0; k < pts.length; k++) refs.push(nodeFor(pts[k]));
    const variant = pvar[pts[0]];
    const tag = bridge ? style.bridgeTag : variant === VAR_CROSSING ? crossingTag : variant === VAR_STEPS ? stepsTag
      : style.tag;
    addWay(refs, tag, style.oneway === -1);
  };
  const pushPoint = (line: Line, t: number, jid: number, split: number, wob: number): void => {
    px.push(line.vertical ? line.c + wob : t);
    py.push(line.vertical ? t : line.c + wob);
    pj.push(jid);
    psplit.push(split);
    pvar.push(VAR_NORMAL);
  };

  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    const style = line.style;
    // Key points: ends, junctions, piece boundaries.
    kt.length = 0;
    kj.length = 0;
    ks.length = 0;
    pieces.length = 0;
    kt.push(line.a);
    kj.push(-1);
    ks.push(0);
    for (let e = jStart[li]; e < jStart[li + 1]; e++) {
      const other = lines[jOther[e]];
      const t = junctionT[e];
      kt.push(t);
      kj.push(find(jId[e]));
      ks.push(style.arterial && other.style.arterial ? 1 : 0);
      if (line.crossings && !other.style.path) {
        if (t - CROSSING_HALF_M > line.a + 2 && t + CROSSING_HALF_M < line.b - 2) {
          pieces.push(t - CROSSING_HALF_M, t + CROSSING_HALF_M, VAR_CROSSING);
        }
      }
    }
    kt.push(line.b);
    kj.push(-1);
    ks.push(0);
    if (!Number.isNaN(line.stepsAt)) pieces.push(line.stepsAt, line.stepsAt + STEPS_LENGTH_M, VAR_STEPS);
    for (let k = 0; k < pieces.length; k += 3) {
      kt.push(pieces[k], pieces[k + 1]);
      kj.push(-1, -1);
      ks.push(1, 1);
    }
    korder.length = 0;
    for (let k = 0; k < kt.length; k++) korder.push(k);
    if (pieces.length > 0) korder.sort((p, q) => kt[p] - kt[q] || p - q);

    // Points.
    px.length = py.length = pj.length = psplit.length = pvar.length = 0;
    let prevT = NaN;
    for (let o = 0; o < korder.length; o++) {
      const k = korder[o];
      const t = kt[k];
      if (t === prevT) {
        // Same point as the previous key: merge.
        const last = pj.length - 1;
        if (kj[k] >= 0) pj[last] = kj[k];
        if (ks[k]) psplit[last] = 1;
        continue;
      }
      if (pj.length > 0) {
        // Shape points between the previous key and this one.
        const len = t - prevT;
        const m = Math.ceil(len / U(25, 40));
        let variant = VAR_NORMAL;
        const mid = prevT + len / 2;
        for (let p = 0; p < pieces.length; p += 3) {
          if (pieces[p] < mid && mid < pieces[p + 1]) {
            variant = pieces[p + 2];
            break;
          }
        }
        pvar[pvar.length - 1] = variant;
        for (let s = 1; s < m; s++) {
          pushPoint(line, prevT + (len * s) / m, -1, 0, style.wobble * (2 * rng() - 1));
          pvar[pvar.length - 1] = variant;
        }
      }
      pushPoint(line, t, kj[k], ks[k], 0);
      prevT = t;
    }

    // Classify and emit ways, cutting at barriers except at bridges and expressway crossings.
    const n = px.length;
    pblk.length = pside.length = pid.length = 0;
    for (let i = 0; i < n; i++) {
      classify(px[i], py[i]);
      pblk.push(clsBlocked);
      pside.push(clsSide);
      pid.push(0);
    }
    cur.length = 0;
    let lastLand = -1;
    let runStart = -1;
    for (let i = 0; i < n; i++) {
      if (pblk[i] !== 0) {
        if (lastLand >= 0 && runStart < 0) runStart = i;
        continue;
      }
      if (lastLand < 0) {
        cur.push(i);
      } else if (runStart >= 0) {
        let blocked = 0;
        for (let r = runStart; r < i; r++) blocked |= pblk[r];
        const diff = pside[lastLand] ^ pside[i];
        const bar = (blocked & (blocked - 1)) === 0 ? barriers[31 - Math.clz32(blocked)] : null;
        const allowed = bar !== null && diff === bar.bit && style.arterial && line.vertical !== bar.vertical &&
          bar.centers.has(style.center);
        if (allowed && bar.river) {
          emit(style, cur, false);
          cur.length = 0;
          for (let r = lastLand; r <= i; r++) cur.push(r);
          emit(style, cur, true);
          riverCrossings++;
          cur.length = 0;
          cur.push(i);
        } else if (allowed) {
          for (let r = runStart; r <= i; r++) cur.push(r);
          expresswayCrossings++;
          const key = `${bar.bit}:${style.center}`;
          if (bar.rampCenters.has(style.center) && !rampDone.has(key)) {
            rampDone.add(key);
            const lastIsNeg = (pside[lastLand] & bar.bit) === 0;
            const a = nodeFor(lastLand);
            const b = nodeFor(i);
            ramps.push({
              bar,
              t: line.c,
              neg: lastIsNeg ? a : b,
              pos: lastIsNeg ? b : a,
              negSide: lastIsNeg ? pside[lastLand] : pside[i],
              posSide: lastIsNeg ? pside[i] : pside[lastLand],
            });
          }
        } else {
          emit(style, cur, false);
          cur.length = 0;
          cur.push(i);
        }
        runStart = -1;
      } else if (pside[i] !== pside[lastLand]) {
        // Never link two sides of a barrier by an edge jumping over it.
        emit(style, cur, false);
        cur.length = 0;
        cur.push(i);
      } else {
        cur.push(i);
      }
      lastLand = i;
      if (psplit[i] && cur.length > 1) {
        emit(style, cur, false);
        cur.length = 0;
        cur.push(i);
      }
    }
    emit(style, cur, false);
  }

  // --- expressways ---------------------------------------------------------------------------------------
  const riverMask = (1 << rivers) - 1;
  for (const bar of barriers) {
    if (bar.river) continue;
    const extent = bar.vertical ? H : W;
    const m = Math.ceil(extent / EXPRESSWAY_NODE_SPACING_M);
    const tagXmlFor = tagId(tagXml([
      ['highway', bar.highway], ['name', bar.name], ['oneway', 'yes'], ['motorroad', 'yes'], ['foot', 'no'],
      ['bicycle', 'no'], ['bridge', 'viaduct'], ['layer', '2'],
    ]));
    // dir +1 runs in increasing t: north on the east side (vertical axis), east on the south side (horizontal).
    const cw: Record<'1' | '-1', { ids: number[]; offset: number }> = {
      '1': { ids: [], offset: bar.vertical ? EXPRESSWAY_CARRIAGEWAY_OFFSET_M : -EXPRESSWAY_CARRIAGEWAY_OFFSET_M },
      '-1': { ids: [], offset: bar.vertical ? -EXPRESSWAY_CARRIAGEWAY_OFFSET_M : EXPRESSWAY_CARRIAGEWAY_OFFSET_M },
    };
    for (const dir of ['1', '-1'] as const) {
      const { ids, offset } = cw[dir];
      for (let k = 0; k <= m; k++) {
        const t = (extent * k) / m;
        const u = axisAt(bar, t) + offset;
        ids.push(bar.vertical ? addNode(u, t) : addNode(t, u));
      }
      for (let k0 = 0; k0 < m; k0 += MAX_WAY_SEGMENTS) {
        const k1 = Math.min(m, k0 + MAX_WAY_SEGMENTS);
        addWay(ids.slice(k0, k1 + 1), tagXmlFor, dir === '-1');
      }
    }
    const linkTag = tagId(tagXml([['highway', `${bar.highway}_link`], ['oneway', 'yes'], ['foot', 'no'],
      ['bicycle', 'no']]));
    const cwNode = (dir: '1' | '-1', t: number): number => {
      const k = Math.round((t / extent) * m);
      return cw[dir].ids[k < 0 ? 0 : k > m ? m : k];
    };
    const sameBank = (node: number, side: number): boolean => {
      classify(nodeX.data[node], nodeY.data[node]);
      return (clsBlocked & riverMask) === 0 && (clsSide & riverMask) === (side & riverMask);
    };
    for (const r of ramps) {
      if (r.bar !== bar) continue;
      // The +1 carriageway lies on the positive side of a vertical axis, the negative side of a horizontal one.
      const plusStreet = bar.vertical ? r.pos : r.neg;
      const plusSide = bar.vertical ? r.posSide : r.negSide;
      const minusStreet = bar.vertical ? r.neg : r.pos;
      const minusSide = bar.vertical ? r.negSide : r.posSide;
      const up = r.t - RAMP_REACH_M;
      const down = r.t + RAMP_REACH_M;
      const candidates: Array<[number, number, number]> = [
        [cwNode('1', up), plusStreet, plusSide], // off-ramp
        [plusStreet, cwNode('1', down), plusSide], // on-ramp
        [cwNode('-1', down), minusStreet, minusSide], // off-ramp
        [minusStreet, cwNode('-1', up), minusSide], // on-ramp
      ];
      for (const [from, to, side] of candidates) {
        const cwEnd = from === plusStreet || from === minusStreet ? to : from;
        if (sameBank(cwEnd, side)) addWay([from, to], linkTag, false);
      }
    }
  }

  // --- rivers --------------------------------------------------------------------------------------------
  for (const bar of barriers) {
    if (!bar.river) continue;
    const extent = bar.vertical ? H : W;
    const m = Math.ceil(extent / Math.max(50, extent / 1500));
    const ids: number[] = [];
    for (let k = 0; k <= m; k++) {
      const t = (extent * k) / m;
      const u = axisAt(bar, t);
      ids.push(bar.vertical ? addNode(u, t) : addNode(t, u));
    }
    addWay(ids, tagId(tagXml([['waterway', 'river'], ['name', bar.name]])), false);
  }

  return {
    nodeX, nodeY, wayStart, wayRefs, wayTag, tags, widthM: W, heightM: H, riverCrossings, expresswayCrossings,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Output

/** Fixed 7-decimal formatting (same digits as toFixed(7) up to rounding of exact halves), faster. */
function fixed7(v: number): string {
  let n = Math.round(v * 1e7);
  let sign = '';
  if (n < 0) {
    sign = '-';
    n = -n;
  }
  const ip = Math.floor(n / 1e7);
  const fs = String(n - ip * 1e7);
  return `${sign}${ip}.${'0000000'.slice(fs.length)}${fs}`;
}

const CHUNK_BYTES = 1 << 22;
const CHUNK_SLACK = 1 << 16;

/** Builds the file in large byte chunks (ASCII only) and hands each full chunk to the stream. */
class ChunkWriter {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
  private pos = 0;
  private failure: Error | null = null;
  constructor(private readonly out: NodeJS.WritableStream & { on(e: 'error', f: (e: Error) => void): unknown }) {
    // Remember stream errors (e.g. the file cannot be opened) so the next flush rejects with them.
    out.on('error', (e: Error) => {
      this.failure = e;
    });
  }

  get full(): boolean {
    return this.pos >= CHUNK_BYTES;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pos === 0) return;
    const ok = this.out.write(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
    this.pos = 0;
    if (!ok) await once(this.out as NodeJS.EventEmitter, 'drain');
    if (this.failure) throw this.failure;
  }

  /** Appends pre-encoded bytes (short: a byte loop beats set() for a few dozen bytes). */
  bytes(b: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    if (b.length > 64) {
      buf.set(b, p);
      p += b.length;
    } else {
      for (let k = 0; k < b.length; k++) buf[p++] = b[k];
    }
    this.pos = p;
  }

  /** Appends a non-negative integer below 2^31. */
  uint(n: number): void {
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    do {
      const q = (n / 10) | 0;
      buf[p++] = 48 + n - q * 10;
      n = q;
    } while (n > 0);
    for (let i = start, j = p - 1; i < j; i++, j--) {
      const t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
    }
    this.pos = p;
  }

  /** Appends v (|v| <= 180) with exactly 7 decimals. */
  fixed7(v: number): void {
    let n = Math.round(v * 1e7);
    if (n < 0) {
      this.buf[this.pos++] = 45; // '-'
      n = -n;
    }
    const ip = (n / 1e7) | 0;
    let frac = n - ip * 1e7;
    this.uint(ip);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = 46; // '.'
    for (let k = 7; k >= 1; k--) {
      const q = (frac / 10) | 0;
      buf[p + k] = 48 + frac - q * 10;
      frac = q;
    }
    this.pos = p + 8;
  }
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const B_NODE = ascii('  <node id="');
const B_LAT = ascii('" lat="');
const B_LON = ascii('" lon="');
const B_NODE_END = ascii('"/>\n');
const B_WAY = ascii('  <way id="');
const B_WAY_OPEN_END = ascii('">\n');
const B_ND = ascii('    <nd ref="');
const B_WAY_END = ascii('  </way>\n');

/**
 * Writes a synthetic Shanghai-like street network (see the comment at the top of this file) to `path` as OSM
 * XML and returns what it wrote. Deterministic: the same options give a byte-identical file.
 */
export async function writeSyntheticCityOsm(path: string, options: SyntheticCityOptions): Promise<SyntheticCityStats> {
  const { seed, targetNodes } = options;
  const originLon = options.originLon ?? 121.3;
  const originLat = options.originLat ?? 31.05;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new LifecircleError('ARGUMENT_INVALID', `synthetic city: seed must be a finite number, got ${seed}`,
      { field: 'seed' });
  }
  if (typeof targetNodes !== 'number' || !Number.isFinite(targetNodes) || targetNodes < SYNTHETIC_MIN_NODES ||
    targetNodes > SYNTHETIC_MAX_NODES) {
    throw new LifecircleError('ARGUMENT_INVALID',
      `synthetic city: targetNodes must be between ${SYNTHETIC_MIN_NODES} and ${SYNTHETIC_MAX_NODES}, got ${targetNodes}`,
      { field: 'targetNodes' });
  }
  if (!Number.isFinite(originLon) || originLon < -179 || originLon > 179) {
    throw new LifecircleError('ARGUMENT_INVALID', `synthetic city: originLon must be in [-179, 179], got ${originLon}`,
      { field: 'originLon' });
  }
  if (!Number.isFinite(originLat) || originLat < -80 || originLat > 79) {
    throw new LifecircleError('ARGUMENT_INVALID', `synthetic city: originLat must be in [-80, 79], got ${originLat}`,
      { field: 'originLat' });
  }
  const seed32 = Math.trunc(seed) >>> 0;

  // Size the city: guess from the typical density, then correct from the count actually generated.
  let area = targetNodes / DENSITY_GUESS;
  let best: Built | null = null;
  let bestErr = Infinity;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const W = Math.sqrt(area * ASPECT);
    const built = build(seed32, W, area / W);
    const nodes = built.nodeX.length - 1;
    const err = Math.abs(nodes / targetNodes - 1);
    if (err < bestErr) {
      best = built;
      bestErr = err;
    }
    if (err <= SIZE_TOLERANCE) break;
    area *= targetNodes / nodes;
  }
  const city = best!;

  const degPerM = 180 / Math.PI / EARTH_RADIUS_M;
  const latPerM = degPerM;
  const lonPerM = degPerM / Math.cos((originLat * Math.PI) / 180);
  const maxLon = Number(fixed7(originLon + city.widthM * lonPerM));
  const maxLat = Number(fixed7(originLat + city.heightM * latPerM));
  const minLon = Number(fixed7(originLon));
  const minLat = Number(fixed7(originLat));

  const out = createWriteStream(path);
  const w = new ChunkWriter(out);
  w.bytes(ascii('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="lifecircle synthetic">\n'));
  w.bytes(ascii(`  <bounds minlat="${fixed7(minLat)}" minlon="${fixed7(minLon)}" maxlat="${fixed7(maxLat)}" maxlon="${fixed7(maxLon)}"/>\n`));
  const nodeCount = city.nodeX.length - 1;
  const xs = city.nodeX.data;
  const ys = city.nodeY.data;
  for (let id = 1; id <= nodeCount; id++) {
    w.bytes(B_NODE);
    w.uint(id);
    w.bytes(B_LAT);
    w.fixed7(originLat + ys[id] * latPerM);
    w.bytes(B_LON);
    w.fixed7(originLon + xs[id] * lonPerM);
    w.bytes(B_NODE_END);
    if (w.full) await w.flush();
  }
  const wayCount = city.wayStart.length;
  const starts = city.wayStart.data;
  const refs = city.wayRefs.data;
  const wayTags = city.wayTag.data;
  const tagBytes = city.tags.map(ascii);
  for (let way = 0; way < wayCount; way++) {
    w.bytes(B_WAY);
    w.uint(way + 1);
    w.bytes(B_WAY_OPEN_END);
    const end = way + 1 < wayCount ? starts[way + 1] : city.wayRefs.length;
    for (let r = starts[way]; r < end; r++) {
      w.bytes(B_ND);
      w.uint(refs[r]);
      w.bytes(B_NODE_END);
      if (w.full) await w.flush();
    }
    w.bytes(tagBytes[wayTags[way]]);
    w.bytes(B_WAY_END);
    if (w.full) await w.flush();
  }
  w.bytes(ascii('</osm>\n'));
  await w.flush();
  out.end();
  await finished(out);

  return {
    nodes: nodeCount,
    ways: wayCount,
    bbox: [minLon, minLat, maxLon, maxLat],
    widthM: city.widthM,
    heightM: city.heightM,
    riverCrossings: city.riverCrossings,
    expresswayCrossings: city.expresswayCrossings,
    bytes: out.bytesWritten,
  };
}
