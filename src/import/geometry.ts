import type { Geometry, MultiPolygon } from 'geojson';
import GeoJSONReader from 'jsts/org/locationtech/jts/io/GeoJSONReader.js';
import GeoJSONWriter from 'jsts/org/locationtech/jts/io/GeoJSONWriter.js';
import WKTReader from 'jsts/org/locationtech/jts/io/WKTReader.js';
import IsValidOp from 'jsts/org/locationtech/jts/operation/valid/IsValidOp.js';
import GeometryFactory from 'jsts/org/locationtech/jts/geom/GeometryFactory.js';
import InteriorPointArea from 'jsts/org/locationtech/jts/algorithm/InteriorPointArea.js';

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
