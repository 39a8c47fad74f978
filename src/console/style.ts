/**
 * The console's one stylesheet, served at /console/assets/console.css. A module rather than a file so
 * that the production build (tsc, which copies no assets) carries it; no CDN, no build step.
 */
export const CSS = `:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --accent: #0f5fb8; --bad: #b3261e; --ok: #1b7a3d; --warn: #8a5a00; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; background: #101826; color: #fff; }
header nav { display: flex; gap: 1.1rem; flex-wrap: wrap; }
header a { color: #cfe0ff; text-decoration: none; }
header a[aria-current="page"] { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
header .who { margin-left: auto; display: flex; gap: .8rem; align-items: center; color: #cfd6e4; }
header form { margin: 0; }
main { padding: 1.2rem; max-width: 1300px; }
h1 { font-size: 1.3rem; margin: 0 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #fff; border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; word-break: break-all; }
form.inline { display: inline; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid #b9c0cc; border-radius: 4px; background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin-bottom: 1rem; }
.signin { max-width: 22rem; margin: 6rem auto; }
.signin form { display: flex; flex-direction: column; gap: .8rem; }
.notice { padding: .6rem .8rem; border-radius: 4px; margin-bottom: 1rem; border: 1px solid; }
.notice.bad { color: var(--bad); border-color: var(--bad); background: #fdf0ef; }
.notice.ok { color: var(--ok); border-color: var(--ok); background: #eef8f1; }
.notice.warn { color: var(--warn); border-color: var(--warn); background: #fff7e6; }
.tag { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .8rem; background: #eef1f5; }
.tag.fault, .tag.parked, .tag.refused, .tag.failed, .tag.rejected { background: #fdf0ef; color: var(--bad); }
.tag.ok { background: #eef8f1; color: var(--ok); }
.muted { color: var(--muted); }
textarea { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; padding: .4rem; border: 1px solid #b9c0cc; border-radius: 4px; width: 100%; }
form.import { display: flex; flex-direction: column; gap: .7rem; max-width: 60rem; }
table.facts { width: auto; margin-bottom: 1rem; }
table.facts th { width: 10rem; }
progress { width: 20rem; height: 1rem; }
form.stack { display: flex; flex-direction: column; gap: .6rem; max-width: 26rem; }
.tag.warn { background: #fff7e6; color: var(--warn); }
.chart { margin: 0 0 1rem; background: #fff; border: 1px solid var(--line); padding: .6rem; }
.chart rect.pos { fill: var(--ok); }
.chart rect.neg { fill: var(--bad); }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
`;
