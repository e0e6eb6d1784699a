export { ReachEngine, type Cutoff } from './dijkstra.ts';
export {
  accessTimeS,
  appendSources,
  arrivalTimeS,
  arrivalViaEnds,
  alongChainTimeS,
  directTimeS,
  reachFrom,
  reachedPieces,
  pieceCoordinates,
  piecesLengthM,
  serviceAreaPolygon,
  type Piece,
  type ReachResult,
} from './reach.ts';
export { nearestFacilityField, pointTimesFromField, type NearestFacilityField, type FieldDirection } from './field.ts';
export { reversedMode } from './reverse.ts';
export { multiPolygonAreaM2 } from './area.ts';
