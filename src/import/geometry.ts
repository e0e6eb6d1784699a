import type { Geometry, MultiPolygon } from 'geojson';
import GeoJSONReader from 'jsts/org/locationtech/jts/io/GeoJSONReader.js';
import GeoJSONWriter from 'jsts/org/locationtech/jts/io/GeoJSONWriter.js';
import WKTReader from 'jsts/org/locationtech/jts/io/WKTReader.js';
import IsValidOp from 'jsts/org/locationtech/jts/operation/valid/IsValidOp.js';
import GeometryFactory from 'jsts/org/locationtech/jts/geom/GeometryFactory.js';
import InteriorPointArea from 'jsts/org/locationtech/jts/algorithm/InteriorPointArea.js';
import BufferOp from 'jsts/org/locationtech/jts/operation/buffer/BufferOp.js';

/**
 * Geometry helpers for imports, on JSTS (the JavaScript port of JTS, the reference for OGC validity):
 * WKT parsing, polygon validity with the reason and location, a point guaranteed inside a polygon (for a
 * unit's computed centre or a park's location), and coordinate mapping for CRS conversion.
 */
const factory = new GeometryFactory();
const geoReader = new GeoJSONReader(factory);
const geoWriter = new GeoJSONWriter();

export function parseWkt(text: string): Geometry {
  const g = new WKTReader(factory).read(text);
  return geoWriter.write(g) as unknown as Geometry;
}

/** null when valid; otherwise the OGC reason and where ("Self-intersection at 121.47 31.23"). */
export function polygonProblem(geometry: Geometry): string | null {
  const g = geoReader.read(geometry as never);
  const op = new IsValidOp(g);
  if (op.isValid()) return null;
  const err = op.getValidationError();
  const c = err.getCoordinate();
  return `${err.getMessage()}${c ? ` at ${c.x.toFixed(6)} ${c.y.toFixed(6)}` : ''}`;
}

/** A point inside the (multi)polygon (JTS interior point), as [lon, lat]. */
export function interiorPoint(geometry: Geometry): [number, number] {
  const p = InteriorPointArea.getInteriorPoint(geoReader.read(geometry as never));
  return [p.x, p.y];
}

/** Polygons become MultiPolygons, so a unit's boundary has one shape in the store. */
export function asMultiPolygon(geometry: Geometry): MultiPolygon | null {
  if (geometry.type === 'MultiPolygon') return geometry;
  if (geometry.type === 'Polygon') return { type: 'MultiPolygon', coordinates: [geometry.coordinates] };
  return null;
}

/** Applies a coordinate transform to every position of a geometry (returns a new geometry). */
export function mapCoordinates<G extends Geometry>(geometry: G, f: (x: number, y: number) => [number, number]): G {
  const pos = (p: number[]) => f(p[0], p[1]);
  switch (geometry.type) {
    case 'Point':
      return { ...geometry, coordinates: pos(geometry.coordinates) };
    case 'MultiPoint':
    case 'LineString':
      return { ...geometry, coordinates: geometry.coordinates.map(pos) };
    case 'MultiLineString':
    case 'Polygon':
      return { ...geometry, coordinates: geometry.coordinates.map((r) => r.map(pos)) };
    case 'MultiPolygon':
      return { ...geometry, coordinates: geometry.coordinates.map((p) => p.map((r) => r.map(pos))) };
    default:
      return { ...geometry, geometries: (geometry as { geometries: Geometry[] }).geometries.map((g) => mapCoordinates(g, f)) } as G;
  }
}

/** Every position of a geometry, flattened (for range checks). */
export function positions(geometry: Geometry): number[][] {
  switch (geometry.type) {
    case 'Point':
      return [geometry.coordinates];
    case 'MultiPoint':
    case 'LineString':
      return geometry.coordinates;
    case 'MultiLineString':
    case 'Polygon':
      return geometry.coordinates.flat();
    case 'MultiPolygon':
      return geometry.coordinates.flat(2);
    default:
      return (geometry as { geometries: Geometry[] }).geometries.flatMap(positions);
  }
}

/**
 * Repairs an invalid (multi)polygon by a zero-width buffer, the usual fix for rings that touch or cross
 * themselves (JTS 1.18's GeometryFixer is not in jsts 2.12). Refused (null) when the result is not a valid
 * polygon or its area moved by more than `maxAreaChange` (a figure-eight whose lobe the buffer drops).
 */
export function repairPolygon(geometry: Geometry, maxAreaChange = 0.01): { geometry: MultiPolygon; areaChange: number } | null {
  const g = geoReader.read(geometry as never);
  const fixed = BufferOp.bufferOp(g, 0);
  const out = asMultiPolygon(geoWriter.write(fixed) as unknown as Geometry);
  if (!out || !new IsValidOp(fixed).isValid()) return null;
  const before = Math.abs(signedAreaDeg2(geometry));
  const areaChange = before > 0 ? Math.abs(fixed.getArea() - before) / before : 1;
  return areaChange <= maxAreaChange ? { geometry: out, areaChange } : null;
}

/** Shoelace area in square degrees, summed over rings with holes subtracted, whatever the rings' validity. */
function signedAreaDeg2(geometry: Geometry): number {
  const ring = (r: number[][]) => {
    let a = 0;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
    return Math.abs(a / 2);
  };
  const polygon = (p: number[][][]) => p.reduce((s, r, i) => s + (i === 0 ? ring(r) : -ring(r)), 0);
  if (geometry.type === 'Polygon') return polygon(geometry.coordinates);
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.reduce((s, p) => s + polygon(p), 0);
  return 0;
}
