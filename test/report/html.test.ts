/**
 * The HTML report on a hand-made ReportData (test/fixtures/report/report-data.ts): pages, escaping, links,
 * attribution; then the pages opened in headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the map draws one path per sub-district, tables have their rows, no console or page errors, the selector
 * recolours the map (expected classes derived in the fixture's header), and a screenshot of each page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtmlReport, writeHtmlReport } from '../../src/report/html.ts';
import { SHARE_COLORS } from '../../src/report/svg.ts';
import { EVIL, reportFixture, SD_A, SD_B } from '../fixtures/report/report-data.ts';

const data = reportFixture();
const outDir = mkdtempSync(join(tmpdir(), 'lifecircle-report-'));
const { files } = writeHtmlReport(data, outDir);
const pages = new Map(files.map((f) => [f.slice(outDir.length + 1), readFileSync(f, 'utf8')]));
const pageA = `subdistrict-${SD_A}.html`;
const pageB = `subdistrict-${SD_B}.html`;
process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));

test('one overview and one page per sub-district with results, written to disk', () => {
  assert.deepEqual([...pages.keys()], ['index.html', pageA, pageB]);
  assert.deepEqual([...renderHtmlReport(data).keys()], [...pages.keys()]);
  for (const f of files) assert.ok(existsSync(f), f);
});

test('names from data are escaped everywhere, including the JSON for the map script', () => {
  for (const [name, html] of pages) {
    assert.ok(!html.includes(EVIL), `${name} carries the raw markup`);
    assert.ok(!html.includes('<b>&'), name);
  }
  const escaped = '&lt;b&gt;&amp;&quot;x';
  assert.ok(pages.get('index.html')!.includes(escaped));
  assert.ok(pages.get(pageB)!.includes(`<h1>外滩${escaped}街道`));
  assert.ok(pages.get('index.html')!.includes('\\u003cb\\u003e\\u0026\\"x'), 'JSON block escapes < > &');
});

test('links: overview to every sub-district page (list and map), pages back to the overview', () => {
  const index = pages.get('index.html')!;
  for (const p of [pageA, pageB]) {
    assert.equal(index.split(`href="${p}"`).length - 1, 2, `${p}: one link in the map, one in the list`);
    assert.ok(pages.get(p)!.includes('href="index.html"'));
  }
});

test('attribution and the estimated-population label on every page; self-contained', () => {
  for (const [name, html] of pages) {
    assert.ok(html.includes('© OpenStreetMap contributors, ODbL 1.0'), name);
    assert.ok(html.includes('Population: 7th national census 2020, disaggregated (estimate)'), name);
    assert.ok(html.includes('7th national census 2020 (estimate)'), `${name}: batch attribution`);
    assert.ok(/<footer>[\s\S]*Estimated population/.test(html), name);
    // nothing fetched at view time: the only URL is the SVG namespace
    const urls = html.match(/(?:src|href)\s*=\s*"(?:https?:)?\/\/[^"]*"|url\((?:'|")?https?:/g) ?? [];
    assert.deepEqual(urls, [], name);
    assert.ok(!/<link[^>]+stylesheet/.test(html) && !/<script[^>]+src=/.test(html), name);
  }
});

test('overview: inputs, caveats, rule rows with counts and badges, skipped list', () => {
  const index = pages.get('index.html')!;
  assert.ok(index.includes('2025-03-14 14:30 (UTC+8)'), 'run time in Shanghai time');
  assert.ok(index.includes('3f2a9c0d1e4b') && index.includes('2025.1') && index.includes('out/huangpu.lcg'));
  for (const c of data.caveats) assert.ok(index.includes(c.zh) && index.includes(c.en));
  const row = (id: string) => index.match(new RegExp(`<tr id="rule-${id}">[\\s\\S]*?</tr>`))![0];
  assert.match(row('r-kg'), /✓ 1<\/b> · <b class="f">✗ 2<\/b> · <span>– 0/);
  assert.match(row('r-area'), /✓ 0<\/b> · <b class="f">✗ 1<\/b> · <span>– 1/);
  assert.match(row('r-health'), /1 of 2 units pass/);
  assert.ok(row('r-elderly').includes('待核实 unverified') && row('r-area').includes('低权威 low authority'));
  assert.ok(!row('r-kg').includes('待核实') && !row('r-health').includes('待核实'));
  assert.ok(index.includes('the floating-catchment variant'));
  assert.ok(index.includes('Units the data leaves short') && index.includes(data.unitIssues[0].zh) && index.includes(data.unitIssues[0].en), 'units the data leaves short, in both languages');
});

test('sub-district page: values per kind, committee matrix, charts, gaps with "> budget"', () => {
  const a = pages.get(pageA)!;
  assert.ok(a.includes('<b>97%</b>'), 'reach share as %');
  assert.ok(a.includes('<b>22.5<span class="u"> m²/千人</span></b>'), 'area per 1,000');
  assert.ok(a.includes('<b>2<span class="u"> 处</span></b>'), 'count');
  assert.ok(a.includes('≥ 40<span class="u"> m²/千人</span>'), 'threshold with comparator');
  assert.equal((a.match(/<table class="matrix">/g) ?? []).length, 1);
  assert.equal((a.match(/class="cell v-/g) ?? []).length, 2, 'two committees × one committee rule');
  assert.equal((a.match(/<svg class="chart"/g) ?? []).length, 2);
  assert.ok(a.includes('bldg-17') && a.includes('&gt; 预算 budget') && a.includes('5.2 min'));
  assert.ok(a.includes(data.gaps[0].zh) && a.includes(data.gaps[0].en));
  const b = pages.get(pageB)!;
  assert.ok(b.includes('<b>50%</b>') && b.includes('off network'));
  assert.ok(b.includes('Committees have no boundaries'), 'B1 has no boundary: outline only');
  assert.equal((b.match(/<path class="unit/g) ?? []).length, 1);
});

test('in headless Chromium: renders, no errors, selector recolours the map, screenshots', async (t) => {
  const executablePath = process.env.LIFECIRCLE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    const msg = `Chromium not found at ${executablePath}: install Debian's chromium (apt-get install chromium, or bash scripts/setup-system.sh)`;
    if (process.env.CI === 'true') assert.fail(msg);
    t.skip(msg);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const shots = join(tmpdir(), 'lifecircle-report-test');
  mkdirSync(shots, { recursive: true });
  try {
    const open = async (name: string) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(pathToFileURL(join(outDir, name)).href, { waitUntil: 'load' });
      return { page, errors };
    };

    const { page: index, errors: indexErrors } = await open('index.html');
    assert.equal(await index.locator('svg#map-overview path.unit').count(), 2, 'one path per sub-district');
    assert.equal(await index.locator('table.rules tbody tr:not(.group)').count(), data.rules.length);
    assert.equal(await index.locator('table.sdlist tbody tr').count(), 2);
    const fills = () => index.$$eval('svg#map-overview path.unit', (ps) => ps.map((p) => [p.getAttribute('data-code'), p.getAttribute('fill')]));
    assert.deepEqual(await fills(), [[SD_A, SHARE_COLORS[1]], [SD_B, SHARE_COLORS[0]]], 'overall: A 2/3, B 0/2 reach results pass');
    await index.selectOption('#metric-overview', 'rule:r-elderly');
    assert.deepEqual(await fills(), [[SD_A, SHARE_COLORS[4]], [SD_B, SHARE_COLORS[1]]], 'r-elderly: A 97 %, B 50 %');
    assert.match((await index.locator('.mapblock .legend .title').textContent()) ?? '', /15分钟养老服务圈/);
    await index.hover(`svg#map-overview path.unit[data-code="${SD_B}"]`);
    assert.match((await index.locator('.mapblock .tip').textContent()) ?? '', /外滩<b>&"x街道.*50%/, 'tooltip shows the name as text');
    await index.selectOption('#metric-overview', 'overall');
    await index.mouse.move(0, 0);
    const indexShot = join(shots, 'index.png');
    await index.screenshot({ path: indexShot, fullPage: true });
    assert.deepEqual(indexErrors, []);

    for (const name of [pageA, pageB]) {
      const { page, errors } = await open(name);
      assert.equal(await page.locator('svg#map-subdistrict path.unit').count(), name === pageA ? 2 : 1, 'committees (A) or the outline (B)');
      assert.ok((await page.locator('table.rules tbody tr:not(.group)').count()) >= 3);
      assert.ok((await page.locator('svg.chart').count()) >= 1);
      assert.ok((await page.locator('.gap').count()) >= 1);
      // the language toggle hides the English lines
      await page.click('.lang button[data-lang="zh"]');
      assert.equal(await page.locator('h2 .en').first().isVisible(), false);
      await page.click('.lang button[data-lang="both"]');
      const shot = join(shots, name.replace(/\.html$/, '.png'));
      await page.screenshot({ path: shot, fullPage: true });
      assert.deepEqual(errors, [], name);
      t.diagnostic(`screenshot: ${shot}`);
    }
    t.diagnostic(`screenshot: ${indexShot}`);
    console.log(`report screenshots in ${shots}`);
  } finally {
    await browser.close();
  }
});
