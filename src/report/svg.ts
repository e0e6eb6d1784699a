import type { MultiPolygon, Position } from 'geojson';
import { esc, fmtPct, fmtPeople } from './format.ts';

/**
 * Inline SVG for the report: maps of unit boundaries (equirectangular, scaled to the units' bounding box with a
 * cos(latitude) correction, which is exact enough at the scale of a district) and bar charts of nearest-time
 * distributions. No tiles, no fonts, no scripts: a page opens offline and prints as drawn.
 */

/** Class breaks of the share colour scale (0–1) and one colour per class, low (bad) to high (good). */
export const SHARE_BREAKS = [0.5, 0.7, 0.85, 0.95];
export const SHARE_COLORS = ['#c9553f', '#e89a5d', '#f2d899', '#9cc8dc', '#3b7bab'];
export const NO_DATA_FILL = 'url(#hatch)';

export function shareColor(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_DATA_FILL;
  let i = 0;
  while (i < SHARE_BREAKS.length && v >= SHARE_BREAKS[i] - 1e-12) i++;
  return SHARE_COLORS[i];
}

/** Legend labels of the classes ("< 50%", "50–70%" … "≥ 95%"). */
export function shareClassLabels(): string[] {
  const b = SHARE_BREAKS.map((x) => Math.round(x * 100));
  return [`< ${b[0]}%`, ...b.slice(1).map((x, i) => `${b[i]}–${x}%`), `≥ ${b[b.length - 1]}%`];
}

export interface Projection {
  width: number;
  height: number;
  /** Projected point [x, y] in SVG units. */
  point(lon: number, lat: number): [number, number];
  /** Metres per SVG unit. */
  metresPerUnit: number;
}

const M_PER_DEG = 111_320;

/** Fit the shapes' bounding box into `width` × at most `maxHeight` with `pad` around. */
export function fitProjection(shapes: MultiPolygon[], width: number, maxHeight: number, pad = 16, padBottom = pad): Projection | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const s of shapes) for (const poly of s.coordinates) for (const [x, y] of poly[0] ?? []) {
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (!Number.isFinite(x0)) return null;
  const k = Math.cos((((y0 + y1) / 2) * Math.PI) / 180);
  const dx = Math.max((x1 - x0) * k, 1e-9);
  const dy = Math.max(y1 - y0, 1e-9);
  const scale = Math.min((width - 2 * pad) / dx, (maxHeight - pad - padBottom) / dy);
  const height = Math.ceil(dy * scale + pad + padBottom);
  const ox = (width - dx * scale) / 2;
  return {
    width,
    height,
    point: (lon, lat) => [ox + (lon - x0) * k * scale, pad + (y1 - lat) * scale],
    metresPerUnit: M_PER_DEG / scale,
  };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** SVG path data of a multipolygon: one subpath per ring (even-odd fill makes holes), vertices closer than `minStep` dropped. */
export function pathData(shape: MultiPolygon, proj: Projection, minStep = 0.6): string {
  const out: string[] = [];
  for (const poly of shape.coordinates) {
    for (const ring of poly) {
      const pts: Array<[number, number]> = [];
      for (const p of ring) {
        const q = proj.point(p[0], p[1]);
        const last = pts[pts.length - 1];
        if (last && Math.abs(q[0] - last[0]) < minStep && Math.abs(q[1] - last[1]) < minStep) continue;
        pts.push(q);
      }
      if (pts.length < 3) continue; // smaller than a pixel
      out.push(`M${pts.map(([x, y]) => `${r1(x)} ${r1(y)}`).join('L')}Z`);
    }
  }
  return out.join('');
}

/** A point well inside a shape for its label: middle of the widest horizontal run through the largest ring's centroid. */
export function labelPoint(shape: MultiPolygon, proj: Projection): [number, number] | null {
  let best: Position[] | null = null;
  let bestArea = 0;
  for (const poly of shape.coordinates) {
    const ring = poly[0];
    if (!ring) continue;
    let a = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    if (Math.abs(a) > bestArea) {
      bestArea = Math.abs(a);
      best = ring;
    }
  }
  if (!best) return null;
  const pts = best.map((p) => proj.point(p[0], p[1]));
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const f = pts[j][0] * pts[i][1] - pts[i][0] * pts[j][1];
    a += f;
    cx += (pts[j][0] + pts[i][0]) * f;
    cy += (pts[j][1] + pts[i][1]) * f;
  }
  if (Math.abs(a) < 1e-9) return pts[0];
  cx /= 3 * a;
  cy /= 3 * a;
  const xs: number[] = [];
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > cy !== yj > cy) xs.push(xi + ((cy - yi) * (xj - xi)) / (yj - yi));
  }
  xs.sort((p, q) => p - q);
  let wide = -1;
  let mid = cx;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (xs[i + 1] - xs[i] > wide) {
      wide = xs[i + 1] - xs[i];
      mid = (xs[i] + xs[i + 1]) / 2;
    }
  }
  return [mid, cy];
}

/** A scale bar of a round length near a fifth of the map's width. */
function scaleBar(proj: Projection): string {
  const target = (proj.width / 5) * proj.metresPerUnit;
  const steps = [50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000];
  const m = steps.reduce((b, s) => (Math.abs(Math.log(s / target)) < Math.abs(Math.log(b / target)) ? s : b), steps[0]);
  const w = m / proj.metresPerUnit;
  const x = 16;
  const y = proj.height - 12;
  const text = m >= 1000 ? `${m / 1000} km` : `${m} m`;
  return `<g class="scalebar" aria-hidden="true"><rect x="${r1(x)}" y="${r1(y - 4)}" width="${r1(w)}" height="4" fill="#1f2a33"/><rect x="${r1(x + w / 2)}" y="${r1(y - 4)}" width="${r1(w / 2)}" height="4" fill="#fff" stroke="#1f2a33" stroke-width="0.8"/><text x="${r1(x + w + 6)}" y="${r1(y)}">${text}</text></g>`;
}

function northArrow(proj: Projection): string {
  return `<g class="north" aria-hidden="true" transform="translate(${proj.width - 18} ${proj.height - 26})"><polygon points="0,0 5,14 0,10.5 -5,14" fill="#1f2a33"/><text x="-9" y="9" text-anchor="end">N</text></g>`;
}

export interface MapShape {
  code: string;
  name: string;
  shape: MultiPolygon;
  fill: string;
  /** Page the shape links to. */
  href?: string;
  /** Native tooltip text (replaced by the inline script's tooltip when scripts run). */
  title: string;
  cls?: string;
}

export interface MapPoint {
  lon: number;
  lat: number;
  r: number;
  title: string;
}

/**
 * A map: the shapes (class `unit`, one `<path>` each, with `data-code` for the selector script), an optional
 * outline drawn on top, labels when few enough, points (gap homes), a scale bar and a north arrow.
 */
export function mapSvg(opts: { id: string; shapes: MapShape[]; outline?: MultiPolygon | null; points?: MapPoint[]; width?: number; maxHeight?: number; labels?: boolean; aria: string }): string {
  const all = opts.shapes.map((s) => s.shape);
  if (opts.outline) all.push(opts.outline);
  const proj = fitProjection(all, opts.width ?? 720, opts.maxHeight ?? 560, 14, 36);
  if (!proj) return '';
  const paths = opts.shapes
    .map((s) => {
      const path = `<path class="unit${s.cls ? ` ${s.cls}` : ''}" data-code="${esc(s.code)}" data-name="${esc(s.name)}" d="${pathData(s.shape, proj)}" fill="${esc(s.fill)}" fill-rule="evenodd"><title>${esc(s.title)}</title></path>`;
      return s.href ? `<a href="${esc(s.href)}">${path}</a>` : path;
    })
    .join('');
  const outline = opts.outline ? `<path class="outline" d="${pathData(opts.outline, proj, 0.4)}" fill="none" fill-rule="evenodd"/>` : '';
  const showLabels = opts.labels ?? opts.shapes.length <= 40;
  const labels = showLabels
    ? opts.shapes
        .map((s) => {
          const p = labelPoint(s.shape, proj);
          return p ? `<text x="${r1(p[0])}" y="${r1(p[1])}" text-anchor="middle" dominant-baseline="middle">${esc(s.name)}</text>` : '';
        })
        .join('')
    : '';
  const points = (opts.points ?? [])
    .map((p) => {
      const [x, y] = proj.point(p.lon, p.lat);
      if (x < 0 || y < 0 || x > proj.width || y > proj.height) return '';
      return `<circle class="home" cx="${r1(x)}" cy="${r1(y)}" r="${r1(p.r)}"><title>${esc(p.title)}</title></circle>`;
    })
    .join('');
  return `<svg class="map" id="${esc(opts.id)}" viewBox="0 0 ${proj.width} ${proj.height}" role="img" aria-label="${esc(opts.aria)}" xmlns="http://www.w3.org/2000/svg">
<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eef1f4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#c5cdd4" stroke-width="2"/></pattern></defs>
<g class="units">${paths}</g>${outline}<g class="labels">${labels}</g><g class="homes">${points}</g>${scaleBar(proj)}${northArrow(proj)}</svg>`;
}

/**
 * Bar chart of residents by whole minute to the nearest facility (0 … 29, and 30+ at index 30), bars shaded by
 * tier (within 5, 10, 15 minutes, beyond), dashed marks at 5, 10 and 15 minutes.
 */
export function minuteChart(residentsByMinute: number[], aria: string): string {
  const W = 380;
  const H = 180;
  const left = 40;
  const right = 8;
  const top = 14;
  const bottom = 30;
  const n = Math.max(31, residentsByMinute.length);
  const counts = Array.from({ length: n }, (_, i) => Math.max(0, residentsByMinute[i] ?? 0));
  const maxC = Math.max(...counts, 0);
  const yMax = niceCeil(maxC);
  const bw = (W - left - right) / n;
  const py = (v: number) => top + (H - top - bottom) * (1 - v / yMax);
  const fills = (i: number) => (i >= 30 ? '#b9826b' : i < 5 ? '#1d4e6b' : i < 10 ? '#3f7fa8' : i < 15 ? '#8bb8d2' : '#d9a48a');
  const bars = counts
    .map((c, i) => {
      if (c <= 0) return '';
      const y = py(c);
      const label = i >= 30 ? `≥ 30 min` : `${i}–${i + 1} min`;
      return `<rect x="${r1(left + i * bw + 0.6)}" y="${r1(y)}" width="${r1(bw - 1.2)}" height="${r1(H - bottom - y)}" fill="${fills(i)}"><title>${esc(label)}: ${esc(fmtPeople(c))} residents</title></rect>`;
    })
    .join('');
  const ticks = [0, 0.5, 1].map((f) => {
    const v = yMax * f;
    const y = py(v);
    return `<line x1="${left}" x2="${W - right}" y1="${r1(y)}" y2="${r1(y)}" class="grid"/><text x="${left - 6}" y="${r1(y)}" text-anchor="end" dominant-baseline="middle">${esc(compact(v))}</text>`;
  });
  const xt = [0, 5, 10, 15, 20, 25, 30].map((m) => `<text x="${r1(left + m * bw)}" y="${H - bottom + 14}" text-anchor="middle">${m === 30 ? '30+' : m}</text>`);
  const marks = [5, 10, 15]
    .map((m) => `<line class="mark" x1="${r1(left + m * bw)}" x2="${r1(left + m * bw)}" y1="${top - 6}" y2="${H - bottom}"/><text class="mark-label" x="${r1(left + m * bw + 3)}" y="${top - 2}">${m}′</text>`)
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(aria)}" xmlns="http://www.w3.org/2000/svg">${ticks.join('')}${bars}${marks}<line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}" class="axis"/>${xt.join('')}<text x="${W - right}" y="${H - 2}" text-anchor="end" class="axis-title">分钟 min</text></svg>`;
}

/** Share of residents under 5, 10 and 15 minutes (bins below the mark), of all counted. */
export function minuteShares(residentsByMinute: number[]): { total: number; within: Record<5 | 10 | 15, number>; over30: number } {
  const total = residentsByMinute.reduce((a, b) => a + Math.max(0, b), 0);
  const upTo = (m: number) => residentsByMinute.slice(0, m).reduce((a, b) => a + Math.max(0, b), 0) / (total || 1);
  return { total, within: { 5: upTo(5), 10: upTo(10), 15: upTo(15) }, over30: (residentsByMinute[30] ?? 0) / (total || 1) };
}

/** A small horizontal bar for a share, as HTML. */
export function shareBar(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '<span class="muted">—</span>';
  return `<span class="sharebar"><span class="sharebar-fill" style="width:${r1(Math.max(0, Math.min(1, v)) * 100)}%;background:${shareColor(v)}"></span></span><span class="num">${esc(fmtPct(v))}</span>`;
}

function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function compact(v: number): string {
  if (v >= 10_000) return `${r1(v / 10_000)}万`;
  if (v >= 1000) return `${r1(v / 1000)}k`;
  return String(Math.round(v * 10) / 10);
}
