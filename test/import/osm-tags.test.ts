/** The OSM tag table: rules in order, key spellings, numeric conditions, and the real POI extract. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFacilityCatalogue } from '../../src/model/catalogue.ts';
import { loadOsmTagTable } from '../../src/model/osm-tags.ts';

const table = loadOsmTagTable(loadFacilityCatalogue());

test('schools by ISCED level (either key spelling), parks by area, unmapped objects', () => {
  assert.equal(table.categoryOf({ amenity: 'school', 'isced:level': '1' }), 'primary_school');
  assert.equal(table.categoryOf({ amenity: 'school', isced_level: '2' }), 'junior_middle_school');
  assert.equal(table.categoryOf({ amenity: 'school', isced_level: '1;2' }), 'nine_year_school');
  assert.equal(table.categoryOf({ amenity: 'school' }), 'school_unspecified');
  assert.equal(table.categoryOf({ leisure: 'park', area_m2: 250000 }), 'comprehensive_park');
  assert.equal(table.categoryOf({ leisure: 'park', area_m2: '1200' }), 'micro_park');
  assert.equal(table.categoryOf({ leisure: 'park', area_m2: 20000 }), 'community_park');
  assert.equal(table.categoryOf({ leisure: 'park' }), 'community_park', 'no area: no size class');
  assert.equal(table.categoryOf({ highway: 'bus_stop' }), 'bus_stop');
  assert.equal(table.categoryOf({ amenity: 'post_office' }), null);
});
