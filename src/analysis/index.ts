export { ReachEngine, type Cutoff } from './dijkstra.ts';
export {
  accessTimeS,
  appendSources,
  arrivalTimeS,
  directTimeS,
  reachFrom,
  reachedPieces,
  pieceCoordinates,
  piecesLengthM,
  serviceAreaPolygon,
  type Piece,
  type ReachResult,
} from './reach.ts';
export { nearestFacilityField, pointTimesFromField, type NearestFacilityField } from './field.ts';
export { multiPolygonAreaM2 } from './area.ts';
