import type { Tags } from '../import/osm-types.ts';
import { LifecircleError } from '../errors.ts';

/**
 * Travel modes and the OSM tag rules that decide which ways each mode may use, in which direction and how
 * fast. The rules follow the OSM wiki's access conventions (https://wiki.openstreetmap.org/wiki/Key:access)
 * and what OSMnx, Valhalla and R5 do for pedestrians and cyclists, adapted to Chinese cities:
 *
 * - walk: 4.5 km/h (1.25 m/s), the speed behind the Shanghai guideline's "15-minute walk ≈ 1 km" rule of thumb
 *   once network detours are counted. Steps at half speed. Oneway tags do not bind pedestrians.
 * - elderly: 3.6 km/h (1.0 m/s), the mean comfortable walking speed of people over 65 reported in gait studies;
 *   steps are excluded unless the way has a ramp (ramp=yes, ramp:wheelchair=yes, ramp:stroller=yes), and
 *   so are stiles.
 * - bike: 12 km/h (3.33 m/s), a shared-bike speed in dense traffic including junction waits. Oneway applies
 *   unless oneway:bicycle=no or a contraflow cycleway (cycleway=opposite*) exists. Footways and pedestrian
 *   streets only with bicycle=yes/designated/permissive (at 0.75 × speed); bicycle=dismount at walking speed.
 *
 * Never usable by any mode: motorway(_link), motorroad=yes (Chinese expressways and elevated roads are often
 * tagged so), construction/proposed/abandoned/platform/raceway/bus_guideway/busway, route=ferry (ferries
 * are not part of a 15-minute walk). Trunk roads (城市快速路 in China) only with an explicit foot=/bicycle=
 * permission or a mapped sidewalk. access=no/private (and mode tags foot=/bicycle=) deny unless the mode's
 * own tag permits.
 */
export const MODE_NAMES = ['walk', 'elderly', 'bike'] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export interface ModeProfile {
  name: ModeName;
  /** Speed on an ordinary usable way, metres per second. */
  speedMps: number;
  description: string;
}

export const MODE_PROFILES: Record<ModeName, ModeProfile> = {
  walk: { name: 'walk', speedMps: 1.25, description: 'walking, 4.5 km/h; steps at half speed' },
  elderly: { name: 'elderly', speedMps: 1.0, description: 'elderly walking, 3.6 km/h; no steps without a ramp' },
  bike: { name: 'bike', speedMps: 12 / 3.6, description: 'cycling, 12 km/h; oneway respected' },
};

export function parseModes(list: string): ModeName[] {
  const modes = list
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  if (modes.length === 0) throw new LifecircleError('MODE_UNKNOWN', `no mode given; expected one or more of ${MODE_NAMES.join(', ')}`);
  for (const m of modes) {
    if (!(MODE_NAMES as readonly string[]).includes(m)) {
      throw new LifecircleError('MODE_UNKNOWN', `unknown mode "${m}"; expected one of ${MODE_NAMES.join(', ')}`, { field: 'mode' });
    }
  }
  return [...new Set(modes)] as ModeName[];
}

/** Per-mode verdict on one way: may the mode go forward (along the node order) / backward, and how fast. */
export interface WayAccess {
  forward: boolean;
  backward: boolean;
  speedMps: number;
}

const NEVER = new Set([
  'motorway', 'motorway_link', 'construction', 'proposed', 'planned', 'abandoned', 'disused', 'razed', 'platform',
  'raceway', 'bus_guideway', 'busway', 'escape', 'rest_area', 'services', 'no', 'emergency_bay', 'bus_stop',
]);
const ROADS = new Set([
  'living_street', 'residential', 'service', 'unclassified', 'tertiary', 'tertiary_link', 'secondary', 'secondary_link',
  'primary', 'primary_link', 'road', 'track',
]);
const FOOT_ONLY = new Set(['footway', 'pedestrian', 'path', 'steps', 'corridor', 'bridleway', 'elevator']);
const TRUNK = new Set(['trunk', 'trunk_link']);

const DENY = new Set(['no', 'private', 'use_sidepath', 'agricultural', 'forestry', 'delivery', 'military', 'permit']);
const ALLOW = new Set(['yes', 'designated', 'permissive', 'destination', 'customers', 'official', 'public', 'dismount']);

/**
 * Access value for a mode from the most specific tag present, along OSM's access hierarchy: foot → access;
 * bicycle → vehicle → access (a bicycle is a vehicle, so vehicle=no closes a way to bikes too).
 */
function accessValue(tags: Tags, modeKey: 'foot' | 'bicycle'): string | undefined {
  return modeKey === 'bicycle' ? (tags.bicycle ?? tags.vehicle ?? tags.access) : (tags.foot ?? tags.access);
}

function hasSidewalk(tags: Tags): boolean {
  const s = tags.sidewalk ?? tags['sidewalk:both'] ?? tags['sidewalk:left'] ?? tags['sidewalk:right'];
  return s !== undefined && s !== 'no' && s !== 'none' && s !== 'separate';
}

function hasRamp(tags: Tags): boolean {
  return tags.ramp === 'yes' || tags['ramp:wheelchair'] === 'yes' || tags['ramp:stroller'] === 'yes';
}

/**
 * The rules above, for one way and one mode; null when the mode may not use the way at all.
 */
export function wayAccess(tags: Tags, mode: ModeName): WayAccess | null {
  const highway = tags.highway;
  if (highway === undefined || NEVER.has(highway)) return null;
  if (tags.route === 'ferry' || tags.motorroad === 'yes') return null;
  if (tags.area === 'yes' && highway !== 'pedestrian' && highway !== 'footway' && highway !== 'service' && highway !== 'living_street') return null;
  const base = MODE_PROFILES[mode].speedMps;

  if (mode === 'walk' || mode === 'elderly') {
    const v = accessValue(tags, 'foot');
    const explicitAllow = tags.foot !== undefined && ALLOW.has(tags.foot);
    if (v !== undefined && DENY.has(v) && !explicitAllow) return null;
    if (tags.foot === 'no') return null;
    let usable = ROADS.has(highway) || FOOT_ONLY.has(highway);
    if (TRUNK.has(highway)) usable = explicitAllow || hasSidewalk(tags);
    // a cycleway is for pedestrians too when it says it has a foot part (segregated=*, footway=*)
    if (highway === 'cycleway') usable = explicitAllow || hasSidewalk(tags) || tags.segregated !== undefined || (tags.footway !== undefined && tags.footway !== 'no');
    if (!usable) return null;
    let speed = base;
    if (highway === 'steps') {
      if (mode === 'elderly' && !hasRamp(tags)) return null;
      speed = base * 0.5;
    }
    const oneFoot = tags['oneway:foot'];
    if (oneFoot === 'yes') return { forward: true, backward: false, speedMps: speed };
    if (oneFoot === '-1') return { forward: false, backward: true, speedMps: speed };
    return { forward: true, backward: true, speedMps: speed };
  }

  // bike
  const v = accessValue(tags, 'bicycle');
  const explicitAllow = tags.bicycle !== undefined && ALLOW.has(tags.bicycle);
  if (v !== undefined && DENY.has(v) && !explicitAllow) return null;
  if (tags.bicycle === 'no' || tags.bicycle === 'use_sidepath') return null;
  let speed = base;
  if (highway === 'steps') {
    if (tags['ramp:bicycle'] !== 'yes') return null;
    speed = MODE_PROFILES.walk.speedMps;
  } else if (highway === 'cycleway' || highway === 'path' || ROADS.has(highway)) {
    // usable by default
  } else if (TRUNK.has(highway)) {
    if (!explicitAllow) return null;
  } else if (FOOT_ONLY.has(highway)) {
    if (!explicitAllow) return null;
    speed = base * 0.75;
  } else {
    return null;
  }
  if (tags.bicycle === 'dismount') speed = MODE_PROFILES.walk.speedMps;

  let forward = true;
  let backward = true;
  const oneway = tags['oneway:bicycle'] ?? tags.oneway ?? (tags.junction === 'roundabout' || tags.junction === 'circular' ? 'yes' : undefined);
  const contraflow = /^opposite/.test(tags.cycleway ?? '') || /^opposite/.test(tags['cycleway:left'] ?? '') || /^opposite/.test(tags['cycleway:right'] ?? '');
  if (oneway === 'yes' || oneway === 'true' || oneway === '1') backward = contraflow && tags['oneway:bicycle'] === undefined;
  else if (oneway === '-1' || oneway === 'reverse') forward = contraflow && tags['oneway:bicycle'] === undefined;
  return { forward, backward, speedMps: speed };
}

const ABSOLUTE_BARRIERS = new Set(['wall', 'fence', 'hedge', 'retaining_wall', 'city_wall', 'ditch', 'guard_rail', 'jersey_barrier']);
const NO_BIKE_BARRIERS = new Set(['stile', 'turnstile', 'full-height_turnstile', 'kissing_gate']);

/**
 * Whether a node's tags stop a mode from passing through it (a locked gate, a wall mapped on a way, a stile
 * for bikes and elderly walkers). Only nodes with a barrier=* tag are considered; crossings and traffic
 * signals are passable (no waiting time is added: the data rarely says how long lights take).
 */
export function nodeBlocks(tags: Tags, mode: ModeName): boolean {
  const barrier = tags.barrier;
  if (barrier === undefined || barrier === 'no') return false;
  if (ABSOLUTE_BARRIERS.has(barrier)) return true;
  if (mode === 'bike' && NO_BIKE_BARRIERS.has(barrier)) return tags.bicycle === undefined || !ALLOW.has(tags.bicycle);
  if (mode === 'elderly' && barrier === 'stile') return true;
  const v = accessValue(tags, mode === 'bike' ? 'bicycle' : 'foot');
  return v !== undefined && DENY.has(v);
}
