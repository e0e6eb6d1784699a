import type { MultiPolygon } from 'geojson';
import { LocalProjection } from '../geo.ts';

/** Area of a WGS84 MultiPolygon in m², by the shoelace formula in a local projection at its first point. */
export function multiPolygonAreaM2(geometry: MultiPolygon): number {
  const first = geometry.coordinates[0]?.[0]?.[0];
  if (!first) return 0;
  const proj = new LocalProjection(first[0], first[1]);
  let total = 0;
  for (const polygon of geometry.coordinates) {
    polygon.forEach((ring, k) => {
      let a = 0;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        a += proj.x(ring[j][0]) * proj.y(ring[i][1]) - proj.x(ring[i][0]) * proj.y(ring[j][1]);
      }
      total += (k === 0 ? 1 : -1) * Math.abs(a / 2);
    });
  }
  return total;
}
