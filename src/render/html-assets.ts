/**
 * The page's inline style, script and shared SVG definitions. Colours are the Okabe-Ito palette
 * (told apart with the common colour-vision deficiencies) and every colour is doubled by a shape,
 * a pattern or a word, so the page reads in grey too. Light and dark follow the system setting.
 */
export const HTML_STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--lane:#f6f8fa;--panel:#f6f8fa;
--tcpdump:#0072b2;--monitor:#c98a00;--pwru:#009e73;--iptables:#cc79a7;--hubble:#56b4e9;--other:#6e7781;
--drop:#d55e00;--ok:#1a7f37;--warn:#9a6700;--nat:#8250df}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--lane:#151b23;--panel:#151b23;
--tcpdump:#4aa8e8;--monitor:#f0b840;--pwru:#2ec4a0;--iptables:#e59cc8;--hubble:#9fdcff;--other:#9198a1;
--drop:#ff8a4c;--ok:#3fb950;--warn:#d29922;--nat:#b392f0}}
*{box-sizing:border-box}
svg.defs{position:absolute;width:0;height:0;overflow:hidden}
body{margin:0;padding:24px 28px 48px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 6px}h3{font-size:14px;margin:12px 0 4px}
code,.mono,table.hops td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
a{color:var(--tcpdump)}
.muted{color:var(--muted)}
header{border-bottom:1px solid var(--line);padding-bottom:10px;margin-bottom:16px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:6px 0}th,td{text-align:left;padding:3px 10px 3px 0;vertical-align:top;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;border:1.5px solid currentColor;font-weight:600;font-size:12.5px;white-space:nowrap}
.v-delivered{color:var(--ok)}.v-dropped,.v-refused{color:var(--drop)}.v-lost,.v-unknown{color:var(--warn)}
section.flow{color:var(--fg)}
.v-dropped.badge,.v-refused.badge{border-style:double;border-width:3px}.v-lost.badge,.v-unknown.badge{border-style:dashed}
.chip{display:inline-block;padding:0 7px;margin-right:4px;border-radius:4px;background:var(--panel);border:1px solid var(--line);font-family:ui-monospace,monospace;font-size:12.5px}
section.flow{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:18px 0}
section.flow.v-dropped,section.flow.v-refused{border-left:6px double var(--drop)}
section.flow h2{color:var(--fg)}
.facts-line{margin:2px 0 8px}
.flow-body{display:flex;flex-wrap:wrap;gap:14px 24px;align-items:flex-start}
.diagram{flex:0 1 auto;max-width:100%;min-width:0}.scroll{overflow-x:auto;max-width:100%}
.words{flex:1 1 380px;min-width:300px;max-width:760px}
.words ul{margin:4px 0;padding-left:20px}.words li{margin:3px 0}
.hop-detail{margin-top:6px;padding:8px 10px;border:1px dashed var(--line);border-radius:6px;background:var(--panel);font-size:13px;min-height:2.2em;max-width:900px}
.hop-detail:empty::before{content:"Point at a mark to see what its tool said; click it to keep it here.";color:var(--muted)}
.hop-detail div{overflow-wrap:anywhere}.hop-detail b{color:var(--muted);font-weight:600;margin-right:6px}
details.hops{margin-top:10px}details.hops summary{cursor:pointer;color:var(--muted)}
table.hops td.detail{max-width:560px;overflow-wrap:anywhere}table.hops td.facts{max-width:420px;overflow-wrap:anywhere;color:var(--muted)}
tr.picked{outline:2px solid var(--tcpdump)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;font-size:13px;margin:8px 0 4px}.legend svg{display:inline-block;vertical-align:middle}
.warn li{color:var(--warn)}
svg.swimlane{display:block;font:12px system-ui,sans-serif;fill:var(--fg)}
.node-band text,.lane text,.hop text,.more-marks,text.group{text-anchor:middle}
text.tool.group{font-size:11px;font-weight:600}text.dt.group{font-size:11px;fill:var(--muted)}text.dt.group.dropped{fill:var(--drop);font-weight:700}
.node-band rect{fill:none;stroke:var(--line);stroke-width:1.5}.node-band text{fill:var(--muted);font-weight:600}
.node-band.node-unknown rect{stroke-dasharray:2 3}
.lane-bg{fill:var(--lane);stroke:var(--line)}
.lane.not-seen .lane-bg{fill:url(#hatch);stroke:var(--muted);stroke-dasharray:5 3}
.lane.not-observed .lane-bg{fill:none;stroke:var(--muted);stroke-dasharray:1 3}
.lane.drop .lane-bg{stroke:var(--drop);stroke-width:2.5;stroke-dasharray:none}
.lane-what{fill:var(--muted);font-size:11.5px}.lane-which{font-family:ui-monospace,monospace;font-size:11.5px;font-weight:600}
.lane-state{font-size:11.5px;fill:var(--muted);font-style:italic}.lane.drop .lane-state{fill:var(--drop);font-weight:700;font-style:normal}
.lane-nat{font-size:11.5px;fill:var(--nat);font-weight:600}
.lane.not-observed .lane-which,.lane.not-seen .lane-which{fill:var(--muted)}
.hatch-line{stroke:var(--line);stroke-width:3}
.row-rule{fill:none;stroke:var(--line);stroke-width:.6}
.row-key{font-family:ui-monospace,monospace;font-size:11.5px}.row-sub{fill:var(--muted);font-size:11px}
.row-sub.o-delivered{fill:var(--ok)}.row-sub.o-dropped,.row-sub.o-refused{fill:var(--drop);font-weight:600}.row-sub.o-lost,.row-sub.o-unknown{fill:var(--warn)}
.arrow{fill:none;stroke:var(--muted);stroke-width:1.6}.arrow.by-flow{stroke-dasharray:4 3}
#ah path{fill:var(--muted)}
.hop{cursor:pointer;outline:none}.hop use{stroke-width:2.2}
.hop .tool{font-size:11px;font-weight:600}.hop .dt{font-size:11px;fill:var(--muted)}
.hop.by-flow use{fill:var(--bg)!important;stroke-dasharray:3 2}
.hop:hover use,.hop:focus use,.hop.picked use{stroke:var(--fg)!important;stroke-width:3}
.more-marks{font-size:11px;font-weight:700;fill:var(--muted)}
.hop.dropped .dt{fill:var(--drop);font-weight:700}
.drop-x{stroke:var(--drop);stroke-width:3.5;stroke-linecap:round}
.tcpdump{fill:var(--tcpdump);stroke:var(--tcpdump)}.tcpdump .tool{fill:var(--tcpdump);stroke:none}
.monitor{fill:var(--monitor);stroke:var(--monitor)}.monitor .tool{fill:var(--monitor);stroke:none}
.pwru{fill:var(--pwru);stroke:var(--pwru)}.pwru .tool{fill:var(--pwru);stroke:none}
.iptables{fill:var(--iptables);stroke:var(--iptables)}.iptables .tool{fill:var(--iptables);stroke:none}
.hubble{fill:var(--hubble);stroke:var(--hubble)}.hubble .tool{fill:var(--hubble);stroke:none}
.other{fill:var(--other);stroke:var(--other)}.other .tool{fill:var(--other);stroke:none}
.hop .dt{stroke:none}
@media print{.hop-detail{display:none}}
`;

/**
 * The page's only script: pointing at a mark shows that hop's row of the hop table, as text, in
 * the panel under its diagram; a click (or Enter) keeps it there. It reads and writes text only
 * (textContent), never markup.
 */
export const HTML_SCRIPT = `
(function(){
function show(mark){
  var row=document.getElementById(mark.getAttribute('data-hop'));
  var flow=mark.closest('section.flow');
  if(!row||!flow)return;
  var panel=flow.querySelector('.hop-detail');
  var heads=row.closest('table').querySelectorAll('thead th');
  panel.replaceChildren();
  for(var i=0;i<row.cells.length;i++){
    var text=row.cells[i].textContent;
    if(text==='')continue;
    var line=document.createElement('div');var b=document.createElement('b');
    b.textContent=heads[i]?heads[i].textContent:'';line.appendChild(b);line.appendChild(document.createTextNode(text));
    panel.appendChild(line);
  }
  flow.querySelectorAll('.picked').forEach(function(e){e.classList.remove('picked');});
  mark.classList.add('picked');row.classList.add('picked');
}
var kept=null;
function markOf(e){return e.target.closest&&e.target.closest('[data-hop]');}
document.addEventListener('click',function(e){var m=markOf(e);if(m){kept=m;show(m);}});
document.addEventListener('mouseover',function(e){var m=markOf(e);if(m)show(m);});
document.addEventListener('mouseout',function(e){var m=markOf(e);if(m&&kept&&kept!==m&&kept.closest('section.flow')===m.closest('section.flow'))show(kept);});
document.addEventListener('keydown',function(e){var t=e.target;if((e.key==='Enter'||e.key===' ')&&t.getAttribute&&t.getAttribute('data-hop')){e.preventDefault();kept=t;show(t);}});
})();
`;

/** Shapes of the tools' marks, the arrow head and the hatching, defined once and used by every diagram. */
export const SVG_DEFS = [
  '<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false">',
  '<defs>',
  '<symbol id="k-tcpdump" viewBox="-12 -12 24 24"><circle r="9"/></symbol>',
  '<symbol id="k-monitor" viewBox="-12 -12 24 24"><path d="M0 -10.5L10.5 0L0 10.5L-10.5 0Z"/></symbol>',
  '<symbol id="k-pwru" viewBox="-12 -12 24 24"><rect x="-8" y="-8" width="16" height="16"/></symbol>',
  '<symbol id="k-iptables" viewBox="-12 -12 24 24"><path d="M0 -10L10 8.5H-10Z"/></symbol>',
  '<symbol id="k-hubble" viewBox="-12 -12 24 24"><path d="M-5 -9H5L10 0L5 9H-5L-10 0Z"/></symbol>',
  '<symbol id="k-other" viewBox="-12 -12 24 24"><path d="M-9 -4H-4V-9H4V-4H9V4H4V9H-4V4H-9Z"/></symbol>',
  '<marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10Z"/></marker>',
  '<pattern id="hatch" width="9" height="9" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line class="hatch-line" x1="0" y1="0" x2="0" y2="9"/></pattern>',
  '</defs></svg>',
].join('');
