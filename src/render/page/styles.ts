/** Status page styles: one column on a phone, a grid on a desktop; light and dark; colour is never the only signal. */
export const PAGE_CSS = `
:root {
  --bg: #f6f7f9; --card: #fff; --text: #1b1f24; --muted: #59636e; --line: #d5dae0;
  --ok: #1a7f37; --ok-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff4c5; --bad: #cf222e; --bad-bg: #ffe3e5;
  --info: #0969da; --reboot: #8c959f; --reboot-etcd: #0969da; --track: #eef1f4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --text: #e6edf3; --muted: #9198a1; --line: #30363d;
    --ok: #3fb950; --ok-bg: #12261e; --warn: #d29922; --warn-bg: #2b2111; --bad: #f85149; --bad-bg: #3a1518;
    --info: #4493f8; --reboot: #6e7681; --reboot-etcd: #4493f8; --track: #21262d;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--info); }
.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; justify-content: space-between; padding: 12px 16px; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 1.2rem; }
.cluster { font-weight: 500; color: var(--muted); }
.meta { display: flex; align-items: center; gap: 12px; }
.pill { display: inline-block; padding: 3px 12px; border-radius: 999px; font-weight: 700; font-size: .9rem; text-transform: uppercase; letter-spacing: .03em; }
.pill-healthy { background: var(--ok-bg); color: var(--ok); }
.pill-degraded { background: var(--warn-bg); color: var(--warn); }
.pill-quorum-lost, .pill-unreachable { background: var(--bad); color: #fff; }
.pill-unknown { background: var(--track); color: var(--muted); }
.banner { margin: 12px 16px 0; padding: 10px 14px; border-radius: 8px; background: var(--bad-bg); color: var(--bad); font-weight: 600; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 16px; max-width: 1280px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
h2 { margin: 0 0 10px; font-size: 1.05rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
h3 { margin: 14px 0 6px; font-size: 1rem; }
.muted { color: var(--muted); }
.nowrap { white-space: nowrap; }
.show-narrow { display: none; }
footer { text-align: center; padding: 8px 16px 24px; font-size: .9rem; }
.quorum-grid { display: grid; grid-template-columns: minmax(220px, 340px) minmax(0, 1fr); gap: 16px; align-items: start; }
.picture svg { width: 100%; height: auto; display: block; }
.q-ring { fill: none; stroke: var(--line); stroke-width: 2; }
.q-up { fill: var(--ok); stroke: var(--card); stroke-width: 2; }
.q-down { fill: var(--bad); stroke: var(--card); stroke-width: 2; }
.q-learner { fill: var(--card); stroke: var(--muted); stroke-width: 2; stroke-dasharray: 4 3; }
.q-leader { fill: none; stroke: #d4a72c; stroke-width: 4; }
.q-cross { stroke: #fff; stroke-width: 4; stroke-linecap: round; }
.q-name { font-size: 13px; fill: var(--text); text-anchor: middle; }
.q-lead { font-size: 11px; fill: #b08800; text-anchor: middle; font-weight: 700; }
.q-sub { font-size: 12px; fill: var(--muted); text-anchor: middle; }
.q-count { font-size: 30px; font-weight: 700; text-anchor: middle; }
.q-words { font-size: 14px; font-weight: 700; text-anchor: middle; }
.q-count.healthy, .q-words.healthy { fill: var(--ok); } .q-count.degraded, .q-words.degraded { fill: var(--warn); }
.q-count.quorum-lost, .q-words.quorum-lost, .q-count.unreachable, .q-words.unreachable { fill: var(--bad); }
.q-slot-up { fill: var(--ok); stroke: var(--ok); stroke-width: 2; }
.q-slot-down { fill: none; stroke: var(--bad); stroke-width: 2; stroke-dasharray: 5 3; }
.q-line { stroke: var(--text); stroke-width: 3; }
.headline { font-size: 1.35rem; font-weight: 700; margin: 4px 0 6px; }
.headline.healthy { color: var(--ok); } .headline.degraded { color: var(--warn); }
.headline.quorum-lost, .headline.unreachable { color: var(--bad); }
.explanation { margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
.scroll { overflow-x: auto; }
.tag { display: inline-block; padding: 0 8px; border-radius: 6px; font-size: .85rem; font-weight: 600; white-space: nowrap; }
.tag.ok { background: var(--ok-bg); color: var(--ok); }
.tag.warn { background: var(--warn-bg); color: var(--warn); }
.tag.bad { background: var(--bad-bg); color: var(--bad); }
.tag.info { background: var(--track); color: var(--muted); }
.plan-title { font-weight: 700; margin: 0 0 4px; }
ol.steps { padding-left: 22px; margin: 8px 0; } ol.steps li { margin: 4px 0; }
.locks { margin: 0 0 10px; }
.kinds { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 10px; margin-bottom: 12px; }
.kind { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.kind .name { font-weight: 700; }
.kind.stale { border-color: var(--bad); background: var(--bad-bg); }
.strip { display: grid; grid-template-columns: 90px minmax(0, 1fr); gap: 8px; align-items: center; margin: 6px 0; }
.cells { display: grid; grid-template-columns: repeat(30, minmax(0, 1fr)); gap: 2px; }
.cell { height: 22px; border-radius: 3px; background: var(--track); position: relative; }
.cell.taken { background: var(--info); } .cell.verified { background: var(--ok); } .cell.failed { background: var(--bad); }
.cell.failed.partial { background: linear-gradient(135deg, var(--ok) 50%, var(--bad) 50%); }
.axis { display: flex; justify-content: space-between; font-size: .8rem; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: .85rem; color: var(--muted); margin: 6px 0 10px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 4px; }
.cal { display: grid; grid-template-columns: 96px minmax(0, 1fr); gap: 3px 8px; align-items: center; }
.cal .day { font-size: .9rem; white-space: nowrap; } .cal .day.weekend { color: var(--muted); }
.cal .day.danger { color: var(--bad); font-weight: 700; }
.track { position: relative; height: 24px; background: var(--track); border-radius: 4px; overflow: hidden; }
.track .hour { position: absolute; top: 0; bottom: 0; width: 1px; background: var(--line); }
.track .rb { position: absolute; top: 4px; bottom: 4px; min-width: 4px; border-radius: 2px; background: var(--reboot); }
.track .rb.etcd { background: var(--reboot-etcd); }
.track .dz { position: absolute; top: 0; bottom: 0; min-width: 8px; background: var(--warn); opacity: .85; }
.track .dz.error { background: var(--bad); opacity: 1; }
.track .now { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--text); }
.hours { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); }
ul.windows { padding-left: 0; list-style: none; margin: 10px 0; }
ul.windows li { padding: 6px 10px; border-radius: 6px; margin: 4px 0; }
ul.windows li.error { background: var(--bad-bg); color: var(--bad); font-weight: 600; }
ul.windows li.warning { background: var(--warn-bg); color: var(--warn); }
.finding { margin: 6px 0; padding-left: 10px; border-left: 4px solid var(--line); }
.finding.error { border-color: var(--bad); } .finding.warning { border-color: var(--warn); }
ol.events { list-style: none; padding: 0; margin: 0; max-height: 420px; overflow-y: auto; font-size: .92rem; }
ol.events li { padding: 5px 0; border-bottom: 1px solid var(--line); display: grid; grid-template-columns: 70px minmax(0, 1fr); gap: 8px; }
ol.events li.error .msg { color: var(--bad); } ol.events li.warning .msg { color: var(--warn); }
.time { color: var(--muted); font-variant-numeric: tabular-nums; }
.alert { padding: 8px 10px; border-radius: 6px; margin: 6px 0; }
.alert.critical { background: var(--bad-bg); color: var(--bad); } .alert.warning { background: var(--warn-bg); color: var(--warn); }
.alert .t { font-weight: 700; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; word-break: break-all; }
@media (max-width: 760px) {
  main { grid-template-columns: minmax(0, 1fr); padding: 10px; gap: 10px; }
  .quorum-grid { grid-template-columns: minmax(0, 1fr); }
  .picture { max-width: 300px; margin: 0 auto; order: 2; }
  .cal { grid-template-columns: 74px minmax(0, 1fr); }
  .strip { grid-template-columns: 70px minmax(0, 1fr); }
  .hide-narrow { display: none; }
  .show-narrow { display: block; }
  .headline { font-size: 1.2rem; }
}
`;
