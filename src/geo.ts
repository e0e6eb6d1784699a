import Flatbush from 'flatbush';
import type { MultiPolygon } from 'geojson';
/**
 * Geodesy used across stages. Lengths are great-circle (haversine) on a sphere of the WGS84 mean radius,
 * as OSMnx and pgRouting's ST_Length(geography) approximations do; the error against the ellipsoid is
 * below 0.3 %, far under the uncertainty of walking speeds.
 */
export const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in metres between two WGS84 points given in degrees. */
export function haversineM(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const s1 = Math.sin(dLat / 2);
  const s2 = Math.sin(dLon / 2);
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * A local equirectangular projection to metres around a reference latitude. Within a city (< 100 km) its
 * scale error is < 0.1 %, good enough for spatial indexing and foot-point projection; reported lengths are
 * still measured with haversineM.
 */
export class LocalProjection {
  readonly lon0: number;
  readonly lat0: number;
  readonly metresPerDegLon: number;
  readonly metresPerDegLat: number;

  constructor(lon0: number, lat0: number) {
    this.lon0 = lon0;
    this.lat0 = lat0;
    this.metresPerDegLat = EARTH_RADIUS_M * RAD;
    this.metresPerDegLon = EARTH_RADIUS_M * RAD * Math.cos(lat0 * RAD);
  }

  x(lon: number): number {
    return (lon - this.lon0) * this.metresPerDegLon;
  }

  y(lat: number): number {
    return (lat - this.lat0) * this.metresPerDegLat;
  }

  lon(x: number): number {
    return this.lon0 + x / this.metresPerDegLon;
  }

  lat(y: number): number {
    return this.lat0 + y / this.metresPerDegLat;
  }
}

/** True when lon/lat are finite and inside the WGS84 range. */
export function isValidLonLat(lon: number, lat: number): boolean {
  return Number.isFinite(lon) && Number.isFinite(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90;
}

/** Ray casting over all rings (even-odd: holes subtract). */
export function pointInMultiPolygon(lon: number, lat: number, shape: MultiPolygon): boolean {
  let odd = false;
  for (const polygon of shape.coordinates) {
    for (const ring of polygon) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const xi = ring[i][0];
        const yi = ring[i][1];
        const xj = ring[j][0];
        const yj = ring[j][1];
        if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) odd = !odd;
      }
    }
  }
  return odd;
}

/** Which of a set of areas (units) holds a point: a flatbush over their bounding boxes, then an exact ring test. */
export class BoundaryIndex {
  private readonly areas: Array<{ code: string; boundary: MultiPolygon }>;
  private readonly index: Flatbush | null;
  constructor(areas: ReadonlyArray<{ code: string; boundary: MultiPolygon | null }>) {
    this.areas = areas.filter((a): a is { code: string; boundary: MultiPolygon } => a.boundary !== null);
    if (this.areas.length === 0) {
      this.index = null;
      return;
    }
    this.index = new Flatbush(this.areas.length);
    for (const a of this.areas) {
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (const poly of a.boundary.coordinates) for (const [x, y] of poly[0]) {
        if (x < x0) x0 = x;
        if (y < y0) y0 = y;
        if (x > x1) x1 = x;
        if (y > y1) y1 = y;
      }
      this.index.add(x0, y0, x1, y1);
    }
    this.index.finish();
  }
  /** The code of the first area holding the point, or null. */
  locate(lon: number, lat: number): string | null {
    if (!this.index) return null;
    for (const i of this.index.search(lon, lat, lon, lat)) if (pointInMultiPolygon(lon, lat, this.areas[i].boundary)) return this.areas[i].code;
    return null;
  }
}
