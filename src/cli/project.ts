import { readFileSync } from 'node:fs';
import { residentsPerHome } from '../analysis/assess.ts';
import type { AssessRunSummary } from './assess.ts';
import { Command, Option } from 'commander';
import { LifecircleError } from '../errors.ts';
import { loadFacilityCatalogue } from '../model/catalogue.ts';
import { loadOsmTagTable } from '../model/osm-tags.ts';
import { FACILITY_STATUSES, RECORD_KINDS, type FacilityStatus, type RecordKind } from '../model/records.ts';
import { importFile, SHANGHAI_AREA, type ImportReport, type ProjectArea } from '../import/importer.ts';
import { FIELDS } from '../import/fields.ts';
import { CRS_NAMES } from '../import/crs.ts';
import { openStore, DEFAULT_PROJECT } from '../store/open.ts';
import type { ProjectStore } from '../store/store.ts';
import { exportLayer, LAYERS } from '../io/export.ts';

function collect(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new LifecircleError('ARGUMENT_INVALID', `expected name=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1).trim() };
}

function kindArg(value: string): RecordKind {
  if (!(RECORD_KINDS as readonly string[]).includes(value)) {
    throw new LifecircleError('ARGUMENT_INVALID', `unknown kind "${value}"; expected one of ${RECORD_KINDS.join(', ')}`, { field: 'kind' });
  }
  return value as RecordKind;
}

export function parseArea(value: string): ProjectArea {
  if (value.toLowerCase() === 'shanghai') return SHANGHAI_AREA;
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || !parts.every(Number.isFinite) || parts[0] >= parts[2] || parts[1] >= parts[3]) {
    throw new LifecircleError('ARGUMENT_INVALID', `--area: expected "shanghai" or minLon,minLat,maxLon,maxLat, got "${value}"`, { field: 'area' });
  }
  return { name: `area ${value}`, bbox: parts as [number, number, number, number] };
}

async function projectArea(store: ProjectStore): Promise<ProjectArea> {
  const status = await store.status();
  return status.project.area ? (JSON.parse(status.project.area) as ProjectArea) : SHANGHAI_AREA;
}

const projectOption = () => new Option('-p, --project <path|url>', 'project: a SQLite file, or postgres://user:pass@host/db?schema=name').default(process.env.LIFECIRCLE_PROJECT ?? DEFAULT_PROJECT);

/** Prints an import report: counts, then every problem (capped per kind) in the chosen language. */
export function formatImportReport(r: ImportReport, lang: 'en' | 'zh'): string {
  const lines: string[] = [];
  const head = lang === 'zh'
    ? `${r.file}：${r.format}，编码 ${r.encoding}${r.delimiter ? `，分隔符 ${JSON.stringify(r.delimiter)}` : ''}，坐标系 ${r.crs}；${r.rows} 行，${r.records} 条记录`
    : `${r.file}: ${r.format}, encoding ${r.encoding}${r.delimiter ? `, delimiter ${JSON.stringify(r.delimiter)}` : ''}, CRS ${r.crs}; ${r.rows} rows, ${r.records} records`;
  lines.push(head);
  lines.push((lang === 'zh' ? '字段映射 ' : 'mapping ') + Object.entries(r.mapping).map(([f, c]) => `${f}=${c}`).join(' '));
  const unmapped = Object.entries(r.unmapped).sort((a, b) => b[1] - a[1]);
  if (unmapped.length > 0) lines.push((lang === 'zh' ? '非目录设施（已略过）：' : 'not catalogue facilities (skipped): ') + unmapped.map(([k, n]) => `${k} ${n}`).join(', '));
  for (const x of r.repaired) {
    lines.push(lang === 'zh' ? `${x.record}${x.recordId ? `（${x.recordId}）` : ''}：多边形已修复（${x.problem}），面积变化 ${(x.areaChange * 100).toPrecision(2)} %` : `${x.record}${x.recordId ? ` (${x.recordId})` : ''}: polygon repaired (${x.problem}), area changed ${(x.areaChange * 100).toPrecision(2)} %`);
  }
  for (const r2 of r.recoded) {
    lines.push(lang === 'zh' ? `${r2.record}：${r2.name} 的代码 ${r2.givenCode} 属于另一单位，按名称归入 ${r2.code}` : `${r2.record}: ${r2.name} given code ${r2.givenCode}, which is another unit's; filed under ${r2.code} by its name`);
  }
  if (r.problemCount > 0) {
    if (r.skipped > 0 && r.batch) lines.push(lang === 'zh' ? `跳过 ${r.skipped} 条有问题的记录（--skip-invalid）：` : `${r.skipped} records skipped (--skip-invalid):`);
    else lines.push(lang === 'zh' ? `发现 ${r.problemCount} 个问题，未写入任何数据：` : `${r.problemCount} problems; nothing was written:`);
    for (const p of r.problems) lines.push(`  ${p.code}: ${lang === 'zh' ? p.zh : p.en}`);
    for (const [code, n] of Object.entries(r.problemCounts)) {
      const shown = r.problems.filter((p) => p.code === code).length;
      if (n > shown) lines.push(lang === 'zh' ? `  ${code}：另有 ${n - shown} 条` : `  ${code}: ... and ${n - shown} more`);
    }
  }
  if (r.problemCount > 0 && !(r.skipped > 0 && r.batch)) {
    // nothing more: the batch was refused
  } else if (r.dryRun) {
    lines.push(lang === 'zh' ? '检查通过（--dry-run，未写入）' : 'valid (--dry-run: nothing written)');
  } else if (r.batch) {
    lines.push(lang === 'zh' ? `已写入批次 ${r.batch.id}：新增 ${r.batch.inserted}，更新 ${r.batch.updated}` : `written as batch ${r.batch.id}: ${r.batch.inserted} inserted, ${r.batch.updated} updated`);
  }
  return lines.join('\n');
}

export function addProjectCommands(program: Command): void {
  program
    .command('init')
    .description('create a project (or migrate an existing one to the current schema)')
    .addOption(projectOption())
    .option('--name <name>', 'project name')
    .option('--area <area>', 'project area for import checks: "shanghai" or minLon,minLat,maxLon,maxLat', 'shanghai')
    .action(async (o) => {
      const store = await openStore(o.project, { create: true });
      try {
        const area = parseArea(o.area);
        await store.init({ ...(o.name ? { name: o.name } : {}), area: JSON.stringify(area) });
        process.stdout.write(`project ${store.location} (${store.engine}, schema version ${await store.schemaVersion()}), area ${area.name} [${area.bbox.join(', ')}]\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('import')
    .description('validate and import a file of administrative units, facilities, candidate sites or population')
    .argument('<kind>', `what the file holds: ${RECORD_KINDS.join(', ')}`, kindArg)
    .argument('<file>', 'CSV (lon/lat columns or WKT), GeoJSON, ESRI Shapefile (.shp) or GeoPackage (.gpkg)')
    .addOption(projectOption())
    .option('--source <name>', 'source name; re-importing the same source updates its records by id (default: the file name)')
    .option('--crs <crs>', `coordinates of the file: ${CRS_NAMES.join(', ')} (also wgs84, cgcs2000, gcj02/amap, bd09/baidu, utm51n)`, 'EPSG:4326')
    .option('--map <field=column>', 'which column holds a field (repeatable); population wide tables: count:60-79=column', collect, {})
    .option('--category <id>', 'facilities: one category for every row')
    .option('--category-map <value=id>', 'facilities: a source category value → catalogue id (repeatable)', collect, {})
    .option('--osm-tags [file]', 'facilities: category from OSM tag columns by the tag table (default catalogue/osm-tags.json); rows it maps to nothing are skipped and counted')
    .addOption(new Option('--status <status>', 'facilities: status when the file has none').choices([...FACILITY_STATUSES]))
    .option('--estimate-method <text>', 'population: mark every count as an estimate made this way')
    .option('--year <year>', 'population: the year of every count, when the file has no year column', (v) => Number(v))
    .option('--attribution <text>', 'data attribution shown with anything derived from this file')
    .option('--encoding <enc>', 'text encoding (default: utf-8, else gbk; Shapefile: the .cpg file)')
    .option('--layer <name>', 'GeoPackage layer (default: the first)')
    .option('--delimiter <char>', 'CSV delimiter (default: sniffed)')
    .option('--catalogue <file>', 'facility category catalogue (default: catalogue/facility-categories.json)')
    .option('--dry-run', 'validate only; write nothing')
    .option('--skip-invalid', 'write the valid records and skip (and report) invalid ones instead of refusing the batch')
    .option('--repair-geometry', 'repair self-touching or self-crossing polygons (zero-width buffer, area kept within 1 %) instead of refusing them; each repair is reported')
    .option('--match-names', 'units: the stored official list decides: a row whose code belongs to a unit of another name is filed under the unit with its name (same parent), and reported')
    .addOption(new Option('--lang <lang>', 'language of the problem report').choices(['en', 'zh']).default('en'))
    .option('--json', 'print the report as JSON')
    .addHelpText('after', () => '\nFields (with the column names recognised without --map):\n' + RECORD_KINDS.map((k) => `  ${k}: ${FIELDS[k].map((f) => f.field + (f.required ? '*' : '')).join(', ')}`).join('\n'))
    .action(async (kind: RecordKind, file: string, o) => {
      const catalogue = loadFacilityCatalogue(o.catalogue);
      const store = o.dryRun ? await openStore(o.project).catch(() => null) : await openStore(o.project);
      try {
        const report = await importFile(store, {
          kind,
          file,
          source: o.source,
          crs: o.crs,
          map: o.map,
          category: o.category,
          categoryMap: o.categoryMap,
          osmTags: o.osmTags ? loadOsmTagTable(catalogue, o.osmTags === true ? undefined : o.osmTags) : undefined,
          defaultStatus: o.status as FacilityStatus | undefined,
          estimateMethod: o.estimateMethod,
          year: o.year,
          attribution: o.attribution,
          encoding: o.encoding,
          delimiter: o.delimiter,
          layer: o.layer,
          dryRun: o.dryRun,
          skipInvalid: o.skipInvalid,
          matchNames: o.matchNames,
          repairGeometry: o.repairGeometry,
          area: store ? await projectArea(store).catch(() => SHANGHAI_AREA) : SHANGHAI_AREA,
          catalogue,
        });
        process.stdout.write((o.json ? JSON.stringify(report, null, 2) : formatImportReport(report, o.lang)) + '\n');
        if (!report.ok && !(report.skipped > 0 && report.batch)) process.exitCode = 3;
      } finally {
        await store?.close();
      }
    });

  program
    .command('assess')
    .description('the assessment: every enabled rule of the standards catalogue for every committee, sub-district and district; results stored with the versions of their inputs; CSV, GeoJSON and an HTML report')
    .requiredOption('--graph <file>', 'graph file (lifecircle network build)')
    .option('--rules <file>', 'project rule overrides (YAML or JSON: version, override, add, disable)')
    .option('--out <dir>', 'folder for results.csv, gaps.csv, units.geojson, gaps.geojson and report/', 'out/assessment')
    .option('--population-source <name>', 'which population source gives the homes (default: the latest imported finer than units)')
    .option('--include-planned', 'count planned and under-construction facilities too (re-verification of a plan)')
    .option('--all-units', 'assess every unit, not only those inside the graph\'s extent')
    .addOption(projectOption())
    .action(async (o) => {
      const { runAssessment } = await import('./assess.ts');
      const store = await openStore(o.project);
      try {
        await store.init();
        const say = (line: string) => process.stdout.write(line + '\n');
        const run = await runAssessment(store, {
          graphFile: o.graph, outDir: o.out, rulesFile: o.rules, populationSource: o.populationSource,
          statuses: o.includePlanned ? ['existing', 'under_construction', 'planned'] : ['existing'], clipToGraph: !o.allUnits, say,
        });
        for (const line of assessmentSummary(run)) say(line);
      } finally {
        await store.close();
      }
    });

  program
    .command('accessibility')
    .description('supply–demand accessibility on a travel-time matrix you supply (origin, destination, minutes), for comparison with other tools: 2SFCA, enhanced 2SFCA (step or Gaussian decay), gravity (Hansen, or with competition) and balanced FCA; CSV of access per origin and supply/demand ratio per destination')
    .requiredOption('--matrix <csv>', 'long travel-time matrix: origin, destination, time in minutes (columns by name: origin/from_id, destination/to_id, time/travel_time)')
    .requiredOption('--demand <csv>', 'demand per origin (id, value)')
    .requiredOption('--supply <csv>', 'supply per destination (id, value)')
    .addOption(new Option('--measure <m>', 'which measure').choices(['2sfca', 'e2sfca-step', 'e2sfca-gaussian', 'gravity', 'gravity-competition', 'bfca']).default('2sfca'))
    .option('--cutoff <minutes>', 'catchment in minutes (a pair counts when time <= cutoff)', (v) => Number(v))
    .option('--exclusive', 'a pair counts only when time < cutoff')
    .option('--steps <bands>', 'e2sfca-step bands "10:1,20:0.68,30:0.22" (upper minutes : weight)')
    .option('--beta <per-minute>', 'gravity: negative-exponential decay exp(-beta·t)', (v) => Number(v))
    .option('--demand-column <name>', 'value column of the demand table')
    .option('--supply-column <name>', 'value column of the supply table')
    .requiredOption('-o, --output <csv>', 'output CSV (access per origin; ratios go to <output>.ratios.csv)')
    .action(async (o) => {
      const { readTravelMatrix } = await import('../import/travel-matrix.ts');
      const acc = await import('../analysis/accessibility.ts');
      const data = await readTravelMatrix({ matrix: o.matrix, demand: o.demand, supply: o.supply, demandColumns: { value: o.demandColumn }, supplyColumns: { value: o.supplyColumn } });
      const cutoff = { cutoffMin: o.cutoff, cutoffInclusive: !o.exclusive };
      const steps = o.steps ? (String(o.steps).split(',').map((b) => b.split(':').map(Number)) as Array<[number, number]>) : [[10, 1], [20, 0.68], [30, 0.22]] as Array<[number, number]>;
      const need = (what: string, v: unknown) => {
        if (v === undefined || Number.isNaN(v)) throw new LifecircleError('ARGUMENT_INVALID', `--measure ${o.measure} needs ${what}`, { field: what });
      };
      let access: Float64Array;
      let ratio: Float64Array | null = null;
      switch (o.measure) {
        case '2sfca': need('--cutoff', o.cutoff); ({ access, ratio } = acc.twoStepFca(data.matrix, data.demand, data.supply, { cutoffMin: o.cutoff, cutoffInclusive: !o.exclusive })); break;
        case 'e2sfca-step': ({ access, ratio } = acc.enhancedTwoStepFca(data.matrix, data.demand, data.supply, { ...cutoff, decay: { kind: 'step', steps } })); break;
        case 'e2sfca-gaussian': need('--cutoff', o.cutoff); ({ access, ratio } = acc.enhancedTwoStepFca(data.matrix, data.demand, data.supply, { ...cutoff, decay: { kind: 'gaussian' } })); break;
        case 'gravity': need('--beta', o.beta); access = acc.gravityAccess(data.matrix, data.supply, { ...cutoff, decay: { kind: 'exponential', betaPerMin: o.beta } }); break;
        case 'gravity-competition': need('--beta', o.beta); ({ access, ratio } = acc.gravityCompetitionAccess(data.matrix, data.demand, data.supply, { ...cutoff, decay: { kind: 'exponential', betaPerMin: o.beta } })); break;
        default: need('--cutoff', o.cutoff); ({ access, ratio } = acc.balancedFca(data.matrix, data.demand, data.supply, cutoff));
      }
      const { writeFileSync } = await import('node:fs');
      writeFileSync(o.output, 'origin,demand,access\n' + data.originIds.map((id, i) => `${id},${data.demand[i]},${access[i]}`).join('\n') + '\n');
      if (ratio) writeFileSync(o.output.replace(/\.csv$/i, '') + '.ratios.csv', 'destination,supply,ratio\n' + data.destIds.map((id, j) => `${id},${data.supply[j]},${Number.isNaN(ratio![j]) ? '' : ratio![j]}`).join('\n') + '\n');
      process.stderr.write(`${o.measure}: ${data.rowCount.toLocaleString('en')} pairs, ${data.originIds.length} origins, ${data.destIds.length} destinations → ${o.output}${ratio ? ' (+ .ratios.csv)' : ''}; cutoff ${o.cutoff ?? '-'} min (${o.exclusive ? '<' : '<='})\n`);
    });

  program
    .command('estimate-population')
    .description('spread census totals per unit (already imported) over the residential buildings of an OSM extract, by floor area; exact per unit and age band, every number labelled an estimate')
    .requiredOption('--buildings <osm file>', 'OSM extract (PBF or XML) with the residential buildings')
    .addOption(new Option('--level <level>', 'which units\' totals to spread (default: the finest with totals and boundaries)').choices(['district', 'subdistrict', 'committee']))
    .option('--year <year>', 'census year of the totals (default: the latest)', (v) => Number(v))
    .option('--age-structure <csv>', 'split "all ages" totals into bands by shares: a CSV of age_group,share (or indicator,category,value rows with indicator=age_group)')
    .option('--source <name>', 'source name of the estimate (re-running replaces it)', 'estimate-buildings')
    .option('--dry-run', 'compute and report; write nothing')
    .addOption(projectOption())
    .action(async (o) => {
      const { estimatePopulationFromBuildings } = await import('../import/estimate.ts');
      const store = await openStore(o.project);
      try {
        const r = await estimatePopulationFromBuildings(store, { buildingsFile: o.buildings, level: o.level, year: o.year, ageStructure: o.ageStructure ? readAgeStructure(o.ageStructure) : undefined, source: o.source, dryRun: o.dryRun });
        const pct = (x: number) => `${x.toFixed(1)} %`;
        process.stdout.write(
          [
            `${r.dryRun ? 'would write' : 'wrote'} ${r.records.toLocaleString('en')} building × age-band estimates (${r.level} totals of ${r.year}): ${r.residentsPlaced.toLocaleString('en')} of ${r.residents.toLocaleString('en')} residents placed`,
            `buildings: ${r.buildings.toLocaleString('en')} residential (${r.buildingsWithLevels.toLocaleString('en')} with levels), ${r.buildingsOutside.toLocaleString('en')} outside the units with totals`,
            r.unitsWithoutBuildings.length ? `units with totals but no residential building (residents not placed): ${r.unitsWithoutBuildings.join(', ')}` : '',
            r.heldBack ? `held-back check (each unit's total predicted from all units' by the same weights): MAPE ${pct(r.heldBack.mape)}, median ${pct(r.heldBack.medianApe)}, max ${pct(r.heldBack.maxApe)}, ${(r.heldBack.within20 * 100).toFixed(0)} % of units within ±20 %` : '',
            `method: ${r.method}`,
            r.warnings,
          ].filter(Boolean).join('\n') + '\n',
        );
      } finally {
        await store.close();
      }
    });

  program
    .command('export')
    .description('export a layer as GeoJSON, CSV or GeoPackage (by the output\'s extension), with provenance columns and attribution')
    .argument('<layer>', `one of ${LAYERS.join(', ')}`, kindArg)
    .requiredOption('-o, --output <file>', 'output file: .geojson, .csv or .gpkg')
    .addOption(projectOption())
    .action(async (layer: RecordKind, o) => {
      const store = await openStore(o.project);
      try {
        const n = await exportLayer(store, layer, o.output);
        process.stderr.write(`wrote ${n} ${layer} to ${o.output}\n`);
      } finally {
        await store.close();
      }
    });

  program
    .command('status')
    .description('what the project holds, by kind, source and import batch')
    .addOption(projectOption())
    .option('--json', 'print as JSON')
    .action(async (o) => {
      const store = await openStore(o.project);
      try {
        const s = await store.status();
        if (o.json) {
          process.stdout.write(JSON.stringify(s, null, 2) + '\n');
          return;
        }
        const lines = [`project ${s.location} (${s.engine}, schema ${s.schemaVersion})${s.project.name ? ` — ${s.project.name}` : ''}`];
        for (const kind of RECORD_KINDS) lines.push(`  ${kind.padEnd(11)} ${String(s.counts[kind]).padStart(9)}`);
        if (s.sources.length > 0) lines.push('sources:');
        for (const src of s.sources) lines.push(`  ${src.kind.padEnd(11)} ${src.source.padEnd(40)} ${String(src.records).padStart(9)} records in ${src.batches} batch(es), last ${src.lastImport}`);
        if (s.batches.length > 0) lines.push('batches:');
        for (const b of s.batches) lines.push(`  #${b.id} ${b.kind} ${b.source} ← ${b.file} (${b.crs}, sha256 ${b.fileSha256.slice(0, 12)}…) ${b.importedAt}: +${b.inserted} ~${b.updated}${b.attribution ? ` — ${b.attribution}` : ''}`);
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        await store.close();
      }
    });
}

/** Age-band shares from a CSV: age_group,share columns, or the census layout indicator,category,value. */
function readAgeStructure(file: string): Array<{ ageGroup: string; share: number }> {
  const lines = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
  const header = lines[0].split(',').map((c) => c.trim());
  const census = header.includes('indicator');
  const ageCol = header.indexOf(census ? 'category' : 'age_group');
  const shareCol = header.indexOf(census ? 'value' : 'share');
  if (ageCol < 0 || shareCol < 0) throw new LifecircleError('LAYER_FIELD_INVALID', `${file}: expected columns age_group,share (or indicator,category,value); found ${header.join(', ')}`, { file, record: 'row 1' });
  const out: Array<{ ageGroup: string; share: number }> = [];
  lines.slice(1).forEach((line, i) => {
    const f = line.split(',').map((c) => c.trim());
    if (census && f[header.indexOf('indicator')] !== 'age_group') return;
    const share = Number(f[shareCol]);
    if (!Number.isFinite(share) || share < 0) throw new LifecircleError('LAYER_FIELD_INVALID', `${file}: row ${i + 2}: share "${f[shareCol]}" is not a number >= 0`, { file, record: `row ${i + 2}`, field: census ? 'value' : 'share' });
    out.push({ ageGroup: f[ageCol], share });
  });
  return out;
}

/** The assessment in a few lines for the terminal. */
export function assessmentSummary(run: AssessRunSummary): string[] {
  const { result, catalogue, inputs } = run;
  const residents = residentsPerHome(inputs.homes).reduce((a, b) => a + b, 0);
  const count = (v: string) => result.results.filter((r) => r.verdict === v).length;
  const lines = [
    `assessment run ${run.runId}: ${catalogue.rules.filter((r) => r.enabled).length} rules (catalogue ${catalogue.version}, sha256 ${catalogue.sha256.slice(0, 12)}), ${inputs.homes.ids.length.toLocaleString('en')} homes with ${Math.round(residents).toLocaleString('en')} residents${inputs.homes.estimated ? ' (estimated)' : ''} from ${inputs.populationSource ?? 'no population source'}, ${inputs.facilities.ids.length.toLocaleString('en')} facilities, in ${run.seconds.toFixed(2)} s`,
    `results: ${result.results.length.toLocaleString('en')} (pass ${count('pass')}, fail ${count('fail')}, not applicable ${count('not-applicable')}); gaps: ${result.gaps.length.toLocaleString('en')}`,
  ];
  const subs = [...new Set(result.results.filter((r) => r.level === 'subdistrict').map((r) => r.unitCode))];
  for (const code of subs.slice(0, 40)) {
    const rs = result.results.filter((r) => r.unitCode === code && r.kind === 'reach' && r.verdict !== 'not-applicable');
    const name = rs[0]?.unitName ?? code;
    if (rs.length === 0) continue;
    const mean = rs.reduce((s, r) => s + (r.value ?? 0), 0) / rs.length;
    lines.push(`  ${code} ${name.padEnd(10, '　')} reach rules passed ${rs.filter((r) => r.verdict === 'pass').length}/${rs.length}, mean reach ${(mean * 100).toFixed(1)} %`);
  }
  if (inputs.homesOutsideExtent > 0) lines.push(`homes outside the network's extent (not assessed): ${inputs.homesOutsideExtent.toLocaleString('en')}`);
  for (const s of result.skipped) lines.push(`skipped ${s.ruleId}: ${s.reason}`);
  for (const u of result.unitIssues.slice(0, 12)) lines.push(`unit ${u.en}`);
  if (result.unitIssues.length > 12) lines.push(`… and ${result.unitIssues.length - 12} more units the data leaves short (see the report)`);
  if (run.sameInputsAs) lines.push(`same inputs as run ${run.sameInputsAs.runId}: ${run.sameInputsAs.identical ? 'identical numbers' : 'NUMBERS DIFFER'}`);
  lines.push(`wrote ${run.files.length} files to ${run.files.length ? run.files[0].replace(/\/[^/]*$/, '') : '-'}`);
  return lines;
}
