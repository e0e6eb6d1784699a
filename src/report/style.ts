/**
 * The report's inline stylesheet and its one small script (language toggle, map metric selector, map
 * tooltip). Both are the same on every page; nothing is loaded from the network.
 */

export const CSS = `
:root{
  --ink:#1d2731;--ink2:#46535f;--muted:#6b7885;--line:#dfe4e9;--line2:#eef1f4;--bg:#f5f6f8;--card:#fff;
  --accent:#1d4e6b;--accent2:#2f6d91;--pass:#2d7a57;--pass-bg:#e5f3ec;--fail:#b4412c;--fail-bg:#fbe9e4;
  --na:#8a96a1;--na-bg:#eef1f4;--warn:#8a5a00;--warn-bg:#fff4d6;--warn-line:#ecd08a;
  --radius:10px;--shadow:0 1px 2px rgba(20,35,50,.06),0 2px 10px rgba(20,35,50,.05);
}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI","Helvetica Neue",Arial,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",sans-serif;font-variant-numeric:tabular-nums}
a{color:var(--accent2);text-decoration:none}
a:hover{text-decoration:underline}
.wrap{max-width:1240px;margin:0 auto;padding:0 24px}
header.top{background:var(--accent);color:#fff;padding:22px 0 20px}
header.top a{color:#cfe3ef}
.crumbs{font-size:12.5px;color:#b9d3e2;margin-bottom:6px}
.crumbs a{color:#e3f0f7}
h1{font-size:26px;line-height:1.25;margin:0;font-weight:650;letter-spacing:.01em}
h1 .en{font-size:15px;font-weight:400;color:#c7dce8;margin-top:2px}
h1 .code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:14px;font-weight:400;color:#c7dce8;margin-left:4px}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;margin-top:12px;font-size:12.5px;color:#c7dce8}
.meta b{color:#fff;font-weight:600}
.meta code{color:#fff}
.toolbar{display:flex;justify-content:space-between;align-items:flex-start;gap:16px}
.lang{display:inline-flex;border:1px solid rgba(255,255,255,.35);border-radius:6px;overflow:hidden;flex:none}
.lang button{background:transparent;color:#dbeaf3;border:0;padding:4px 10px;font:inherit;font-size:12px;cursor:pointer}
.lang button[aria-pressed="true"]{background:#fff;color:var(--accent)}
main{padding:22px 0 8px}
section{margin:0 0 22px}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);padding:18px 20px}
h2{font-size:17px;margin:0 0 12px;font-weight:650;display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
h2 .en{font-size:13px;font-weight:400;color:var(--muted)}
h3{font-size:14.5px;margin:0 0 6px;font-weight:600}
h3 .en{font-size:12.5px;font-weight:400;color:var(--muted);display:block}
.en{display:block;color:var(--muted);font-size:.88em;line-height:1.4}
.inl .en,h2 .en,.chip .en{display:inline}
body[data-lang="zh"] .en,body[data-lang="zh"] .chip-en{display:none!important}
body[data-lang="en"] .zh{display:none!important}
body[data-lang="en"] .en{display:inline;color:inherit;font-size:inherit}
body[data-lang="en"] td .en,body[data-lang="en"] li .en,body[data-lang="en"] p .en,body[data-lang="en"] h1 .en{display:block}
body[data-lang="en"] tr.group td .en{display:inline;margin:0}
.muted{color:var(--muted)}
.small{font-size:12px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:22px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:12px 16px;box-shadow:var(--shadow)}
.kpi .v{font-size:24px;font-weight:650;line-height:1.2;color:var(--ink)}
.kpi .v small{font-size:13px;font-weight:500;color:var(--muted)}
.kpi .k{font-size:12.5px;color:var(--ink2)}
.kpi .k .en{font-size:11.5px}
.kpi.pass .v{color:var(--pass)}.kpi.fail .v{color:var(--fail)}
.caveats{background:var(--warn-bg);border:1px solid var(--warn-line);border-left:5px solid #d79b1d;border-radius:var(--radius);padding:14px 18px}
.caveats h2{color:var(--warn);margin-bottom:8px}
.caveats ul{margin:0;padding-left:20px}
.caveats li{margin:0 0 7px}
.caveats li .en{color:#7a6a45}
.grid2{display:grid;grid-template-columns:minmax(0,1.45fr) minmax(0,1fr);gap:18px;align-items:start}
@media (max-width:900px){.grid2{grid-template-columns:minmax(0,1fr)}}
.mapbox{position:relative}
.map{width:100%;height:auto;display:block;max-height:640px}
.map .unit{stroke:#fff;stroke-width:1.2;stroke-linejoin:round;transition:opacity .15s}
.map a:hover .unit,.map .unit:hover{stroke:#1d2731;stroke-width:2}
.map .unit.committee{stroke:#fff;stroke-width:1}
.map .outline{stroke:#1d2731;stroke-width:1.8;stroke-linejoin:round}
.map .labels text{font-size:13px;fill:#1d2731;paint-order:stroke;stroke:rgba(255,255,255,.85);stroke-width:3px;pointer-events:none;font-weight:500}
.map .home{fill:#1d2731;fill-opacity:.8;stroke:#fff;stroke-width:1.2}
.map .unit.plain{stroke:none}
.map .scalebar text,.map .north text{font-size:11px;fill:#1d2731;dominant-baseline:middle}
.map-controls{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;margin:0 0 10px}
.map-controls label{font-size:12.5px;color:var(--ink2)}
.map-controls select{flex:1 1 220px;min-width:0}
select{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #c5ced6;border-radius:6px;background:#fff;color:var(--ink);max-width:100%}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;margin-top:10px;font-size:12px;color:var(--ink2)}
.legend .title{font-weight:600;color:var(--ink);margin-right:4px}
.legend .sw{display:inline-flex;align-items:center;gap:5px}
.legend i{display:inline-block;width:18px;height:12px;border-radius:2px;border:1px solid rgba(0,0,0,.08)}
.legend i.hatch{background:repeating-linear-gradient(45deg,#eef1f4 0 3px,#c5cdd4 3px 5px)}
.legend i.dot{width:9px;height:9px;border-radius:50%;background:#1d2731;opacity:.8;border:1px solid #fff}
.tip{position:absolute;pointer-events:none;background:rgba(29,39,49,.95);color:#fff;font-size:12px;line-height:1.45;padding:7px 10px;border-radius:6px;box-shadow:0 4px 14px rgba(0,0,0,.2);max-width:280px;z-index:5;display:none}
.tip b{font-size:13px}
.tablewrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
.sidelist{max-height:640px;overflow:auto;border:1px solid var(--line2);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid var(--line2);vertical-align:top}
thead th{font-size:11.5px;font-weight:600;color:var(--ink2);border-bottom:1.5px solid var(--line);background:#fafbfc;position:sticky;top:0}
thead th .en{font-weight:400}
tbody tr:hover{background:#f8fafb}
td.num,th.num{text-align:right;white-space:nowrap}
td.num .small{white-space:normal;min-width:8em}
tr.group td{background:#f3f6f8;font-weight:600;font-size:12.5px;color:var(--accent);padding-top:7px;padding-bottom:7px}
tr.group td .en{display:inline;margin-left:6px}
table.rules td:first-child{min-width:13em;max-width:20em}
.rule-title{font-weight:600}
.rule-title .en{font-weight:400}
.rule-id{font-size:11px;color:var(--muted)}
.cite{font-size:12px;color:var(--ink2);max-width:320px;min-width:8em}
.cite .clause{color:var(--muted)}
.norm{font-size:12.5px;max-width:280px;min-width:9em}
.u{color:var(--muted);font-size:.85em;font-weight:400}
.chip{display:inline-block;white-space:nowrap;border-radius:999px;padding:2px 9px;font-size:12px;font-weight:600}
.chip-en{font-weight:400;opacity:.85}
.v-pass{background:var(--pass-bg);color:var(--pass)}
.v-fail{background:var(--fail-bg);color:var(--fail)}
.v-not-applicable{background:var(--na-bg);color:var(--na)}
.badge{display:inline-block;white-space:nowrap;font-size:11px;font-weight:600;border-radius:4px;padding:1px 6px;margin:2px 0;vertical-align:1px}
.badge-warn{background:var(--warn-bg);color:var(--warn);border:1px solid var(--warn-line)}
.badge-req{background:#e8eff5;color:var(--accent)}
.badge-rec{background:#f1f3f5;color:var(--ink2)}
.badge-est{background:#efe9f7;color:#5b3f8c;border:1px solid #d9cdee}
.stack{display:flex;height:10px;width:150px;border-radius:3px;overflow:hidden;background:var(--na-bg);margin:3px 0 4px}
.stack span{display:block;height:100%}
.stack .p{background:var(--pass)}.stack .f{background:var(--fail)}.stack .n{background:#c3cbd2}
.counts{font-size:12px;white-space:nowrap;color:var(--ink2)}
.counts b{font-weight:600}
.counts .p{color:var(--pass)}.counts .f{color:var(--fail)}
.sharebar{display:inline-block;width:70px;height:8px;background:var(--line2);border-radius:2px;overflow:hidden;vertical-align:middle;margin-right:7px}
.sharebar-fill{display:block;height:100%}
.num{font-variant-numeric:tabular-nums}
.matrix{width:auto;min-width:50%}
.matrix td,.matrix th{padding:5px 6px;text-align:center}
.matrix th.rule{font-size:11px;font-weight:600;min-width:86px;max-width:130px;vertical-align:bottom;text-align:center}
.matrix th.rule .en{font-weight:400;font-size:10.5px}
.matrix td.name,.matrix th.name{text-align:left;white-space:nowrap}
.cell{display:block;min-width:64px;border-radius:5px;padding:3px 4px;font-size:12px;font-weight:600;line-height:1.3}
.cell small{display:block;font-weight:400;font-size:11px;opacity:.9}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
.chartcard{border:1px solid var(--line);border-radius:8px;padding:12px 14px 8px;background:#fff;break-inside:avoid}
.chart{width:100%;height:auto;display:block}
.chart text{font-size:10.5px;fill:var(--ink2)}
.chart .grid{stroke:var(--line2);stroke-width:1}
.chart .axis{stroke:#9aa6b1;stroke-width:1}
.chart .mark{stroke:#1d2731;stroke-width:1;stroke-dasharray:3 3;opacity:.6}
.chart .mark-label{fill:#1d2731;font-weight:600}
.chart .axis-title{font-size:10px}
.tiers{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;color:var(--ink2);margin:4px 0 6px}
.tiers b{color:var(--ink)}
.tiers i{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:0}
.gaps{display:grid;gap:12px}
.gap{border:1px solid var(--line);border-left:4px solid var(--fail);border-radius:8px;padding:12px 16px;background:#fff;break-inside:avoid}
.gap .head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:6px 16px;align-items:baseline}
.gap .who{font-size:12px;color:var(--muted)}
.gap .big{font-size:18px;font-weight:650;color:var(--fail);white-space:nowrap}
.gap .big small{font-size:11.5px;font-weight:400;color:var(--muted)}
.gap p{margin:6px 0}
.gap table{margin-top:6px;font-size:12px;width:auto;min-width:60%}
.gap table td,.gap table th{padding:4px 8px}
ul.plain{list-style:none;margin:0;padding:0}
ul.plain li{padding:7px 0;border-bottom:1px solid var(--line2)}
ul.plain li:last-child{border-bottom:0}
dl.inputs{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0 0 14px;font-size:13px}
dl.inputs dt{color:var(--ink2);font-size:12.5px}
dl.inputs dd{margin:0}
.empty{color:var(--muted);font-style:italic;padding:6px 0}
footer{border-top:1px solid var(--line);margin-top:26px;padding:16px 0 30px;font-size:12px;color:var(--ink2);background:#fff}
footer .attr{margin:0 0 4px}
footer .est{margin-top:8px;color:#5b3f8c}
footer .gen{margin-top:8px;color:var(--muted)}
@media (max-width:640px){.wrap{padding:0 14px}h1{font-size:21px}.card{padding:14px}.kpi .v{font-size:20px}}
@media print{
  @page{size:A4;margin:14mm 12mm}
  body{background:#fff;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
  .wrap{max-width:none;padding:0}
  header.top{background:#fff;color:var(--ink);padding:0 0 8px;border-bottom:2px solid var(--accent)}
  header.top .crumbs,header.top .crumbs a,.meta,h1 .en{color:var(--ink2)}
  .meta b,.meta code{color:var(--ink)}
  .lang,.map-controls,.tip{display:none!important}
  header.top h1 .code{color:var(--ink2)}
  th,td{padding:5px 6px}
  table{font-size:10.5px}
  .tablewrap,.sidelist{overflow:visible}
  .norm,.cite{min-width:0}
  .rule-id{display:none}
  .kpis{grid-template-columns:repeat(auto-fit,minmax(105px,1fr));gap:8px}
  .kpi .v{font-size:18px}
  .card,.kpi{box-shadow:none;break-inside:avoid}
  section{break-inside:auto}
  tr,.gap,.chartcard{break-inside:avoid}
  thead th{position:static}
  a{color:inherit}
  .grid2{grid-template-columns:minmax(0,1fr)}
  .sidelist{max-height:none;overflow:visible;border:0}
  .map{max-height:180mm}
  footer{background:#fff}
}
`;

/**
 * Language toggle (zh + en / zh / en, remembered), and for each `.mapblock`: its `<select>` recolours the
 * map's `path.unit[data-code]` from the JSON block, and a tooltip follows the pointer.
 * JSON shape: { colors, breaks, noData, classLabels, metrics: {id: {zh, en, legend}}, units: {code: {name, lines: {metric: text}, values: {metric: number|null}}} }.
 */
export const SCRIPT = `
(function(){
  var body=document.body;
  function setLang(l){body.setAttribute('data-lang',l);var bs=document.querySelectorAll('.lang button');for(var i=0;i<bs.length;i++)bs[i].setAttribute('aria-pressed',String(bs[i].getAttribute('data-lang')===l));try{localStorage.setItem('lifecircle-lang',l)}catch(e){}}
  var saved=null;try{saved=localStorage.getItem('lifecircle-lang')}catch(e){}
  if(saved==='zh'||saved==='en'||saved==='both')setLang(saved);
  var lb=document.querySelectorAll('.lang button');
  for(var i=0;i<lb.length;i++)lb[i].addEventListener('click',function(){setLang(this.getAttribute('data-lang'))});
  var blocks=document.querySelectorAll('.mapblock');
  for(var b=0;b<blocks.length;b++)(function(block){
    var src=block.querySelector('script[type="application/json"]');if(!src)return;
    var d=JSON.parse(src.textContent);
    var sel=block.querySelector('select');var paths=block.querySelectorAll('path.unit[data-code]');
    var tip=block.querySelector('.tip');var legendTitle=block.querySelector('.legend .title');
    var metric=sel?sel.value:'overall';
    function color(v){if(v===null||v===undefined)return d.noData;var i=0;while(i<d.breaks.length&&v>=d.breaks[i]-1e-12)i++;return d.colors[i];}
    function paint(){
      for(var i=0;i<paths.length;i++){var p=paths[i];var u=d.units[p.getAttribute('data-code')];var v=u&&u.values?u.values[metric]:null;p.setAttribute('fill',color(v));
        var t=p.querySelector('title');if(t&&u)t.textContent=u.name+' — '+((u.lines&&u.lines[metric])||'');}
      var m=d.metrics[metric];if(legendTitle&&m)legendTitle.textContent=m.legend;
    }
    if(sel)sel.addEventListener('change',function(){metric=sel.value;paint();});
    paint();
    if(!tip)return;
    var box=block.querySelector('.mapbox');
    function esc(s){return String(s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
    for(var k=0;k<paths.length;k++)(function(p){
      p.addEventListener('mousemove',function(ev){var u=d.units[p.getAttribute('data-code')];if(!u)return;var r=box.getBoundingClientRect();
        tip.innerHTML='<b>'+esc(u.name)+'</b> <span style="opacity:.7">'+esc(p.getAttribute('data-code'))+'</span><br>'+esc((u.lines&&u.lines[metric])||'');
        tip.style.display='block';var x=ev.clientX-r.left+14,y=ev.clientY-r.top+14;if(x+tip.offsetWidth>r.width)x=ev.clientX-r.left-tip.offsetWidth-10;tip.style.left=x+'px';tip.style.top=y+'px';});
      p.addEventListener('mouseleave',function(){tip.style.display='none';});
    })(paths[k]);
  })(blocks[b]);
})();
`;
