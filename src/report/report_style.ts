// report.html's stylesheet (inline: the page loads nothing). System fonts only.
export const REPORT_STYLE = `
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde2ea; --accent: #3b6ea5; --bg: #f6f8fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 18px 32px 8px; }
h1 { margin: 0; font-size: 24px; }
.sub { margin: 2px 0 10px; color: var(--muted); }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; font-size: 13px; }
section, .cards, .warning { max-width: 1100px; margin: 16px auto; width: calc(100% - 32px); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 24px 16px; }
h2 { font-size: 18px; margin: 10px 0; }
h3 { font-size: 15px; margin: 14px 0 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { flex: 1 1 160px; background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--accent); border-radius: 8px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12px; }
.card.ok { border-left-color: #2e8b57; } .card.bad { border-left-color: #c0392b; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, tbody th { text-align: left; font-weight: 500; }
thead th { color: var(--muted); font-weight: 500; }
td.ok { color: #2e8b57; font-weight: 600; } td.bad { color: #c0392b; font-weight: 600; }
.note { color: var(--muted); font-size: 12px; }
.warning { background: #fff4e5; border: 1px solid #f0c36d; border-radius: 8px; padding: 8px 16px; }
.picture svg { max-width: 100%; height: auto; }
.picture.scroll { max-height: 720px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.picture.scroll svg { max-width: none; }
svg.network .edge { fill: none; stroke: #8a93a6; stroke-width: 1.2; }
svg.network .edge.skip { stroke: #d35400; stroke-width: 1.6; }
svg.network .node rect:first-of-type { fill: #eef3fa; stroke: #3b6ea5; }
svg.network .node.add rect:first-of-type { fill: #fdf0e6; stroke: #d35400; }
svg.network .node.concat rect:first-of-type { fill: #eaf7ee; stroke: #2e8b57; }
svg.network .node.input rect:first-of-type { fill: #f3f3f3; stroke: #666; }
svg.network .node.removed rect:first-of-type { fill: #f4f4f4; stroke: #aaa; stroke-dasharray: 4 3; }
svg.network .node.removed text { fill: #999; }
svg.network .id { font-weight: 600; }
svg.network .width { fill: var(--muted); }
svg.network .bar-before { fill: #c9d6e8; } svg.network .bar-after { fill: #3b6ea5; }
details.pass { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
details.pass summary { cursor: pointer; padding: 4px 10px; }
details.pass .stat { font-family: ui-monospace, monospace; font-size: 12px; color: var(--accent); margin: 0 8px; }
details.pass .desc { color: var(--muted); font-size: 12px; }
pre.diff { margin: 0; padding: 8px 10px; max-height: 480px; overflow: auto; font: 11px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; background: #fbfcfd; border-top: 1px solid var(--line); }
pre.diff .add { color: #1e7b34; background: #e9f7ec; display: inline-block; width: 100%; }
pre.diff .del { color: #a12a1f; background: #fbeaea; display: inline-block; width: 100%; }
pre.diff .hunk { color: #6b52a3; }
code { font-family: ui-monospace, monospace; font-size: 12px; }
`;
