#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
// Benchmark of `lifeboat check` (issue #3). Not a timed test: run it by hand, it records docs/BENCHMARKS.md.
//
//   npm run build && node bench/check.mjs [--runs N]
//
// Two inventories, each checked over one year (366 days from 2026-01-05T00:00:00Z):
//   small: the seven-node incident cluster (examples/incident.yaml);
//   large: 5,000 nodes, 5 etcd members, 4,995 workers with weekly/daily cron lines, kured windows and systemd
//          calendars with randomized delays, in three time zones (a fixed pseudo-random seed: same input every run).
// For each, two figures, medians over several fresh processes:
//   cli   wall time of `node bin/lifeboat.js -c FILE --json check ...` (Node start, module loading, YAML + valibot
//         config validation, simulation, JSON output: what a user or CI waits for);
//   check the check itself inside a fresh process: config file read + validated, simulation, JSON document
//         (module loading excluded).
import { recordSection } from './record.mjs';

const root = resolve(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 11;
const FROM = '2026-01-05T00:00:00Z';
const GOALS = { small: 0.2, large: 2, shared: 2 };

if (!existsSync(join(root, 'dist/bundle/lifeboat.cjs'))) {
  console.error('dist/bundle/ is missing: run `npm run build` first');
  process.exit(2);
}

function largeInventory(shared = false) {
  let seed = 42;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York'];
  const lines = ['cluster: { name: big }', 'nodes:'];
  for (let i = 1; i <= 5; i++) {
    // One slot per member on its own weekday: a clean control plane.
    lines.push(
      `  - { name: cp${i}, roles: [control-plane, etcd], reboot: [{ cron: "${i * 7} 3 * * ${i}", timezone: UTC }] }`,
    );
  }
  for (let i = 1; i <= 4995; i++) {
    const zone = zones[rand(3)];
    const kind = rand(10);
    let reboot;
    if (kind < 6) reboot = `{ cron: "${rand(60)} ${rand(24)} * * ${rand(7)}", timezone: ${zone} }`;
    else if (kind < 8) reboot = `{ cron: "${rand(60)} ${rand(6)} * * *", timezone: ${zone}, downtime: 5m }`;
    else if (kind < 9) {
      const start = rand(20);
      reboot = `{ window: { days: [sat, sun], start: "${String(start).padStart(2, '0')}:00", end: "${String(start + 2).padStart(2, '0')}:00", timezone: ${zone} }, every: 7d }`;
    } else
      reboot = `{ calendar: "Sun *-*-* 0${rand(10)}:${String(rand(60)).padStart(2, '0')}:00", timezone: ${zone}, randomizedDelay: 30m }`;
    // Worst case: every worker also shares one weekly window, so none can be skipped and all are down together.
    const extra = shared ? ', { window: { days: [sun], start: "03:00", end: "05:00", timezone: UTC } }' : '';
    lines.push(`  - { name: w${i}, roles: [worker], reboot: [${reboot}${extra}] }`);
  }
  return `${lines.join('\n')}\n`;
}

const dir = mkdtempSync(join(os.tmpdir(), 'lifeboat-bench-check-'));
const inventories = {
  small: { file: join(root, 'examples/incident.yaml'), label: '7 nodes (3 etcd members, 4 workers) x 366 days' },
  large: { file: join(dir, 'large.yaml'), label: '5,000 nodes (5 etcd members, 4,995 workers) x 366 days' },
  shared: {
    file: join(dir, 'shared.yaml'),
    label: 'same 5,000 nodes, every worker also in one Sunday window (worst case)',
  },
};
writeFileSync(inventories.large.file, largeInventory());
writeFileSync(inventories.shared.file, largeInventory(true));

// Runs inside a fresh process: times config load + check + JSON, after the modules are loaded.
const inner = join(dir, 'inner.mjs');
writeFileSync(
  inner,
  `
const [{ loadConfigFile }, { configInventory }, { runCheck }, { reportJson }, { useZoneRules }, { loadZoneRules }] =
  await Promise.all([
    import(${JSON.stringify(join(root, 'dist/adapters/config-file.js'))}),
    import(${JSON.stringify(join(root, 'dist/domain/schedule/inventory.js'))}),
    import(${JSON.stringify(join(root, 'dist/domain/schedule/check.js'))}),
    import(${JSON.stringify(join(root, 'dist/render/check.js'))}),
    import(${JSON.stringify(join(root, 'dist/domain/schedule/tz.js'))}),
    import(${JSON.stringify(join(root, 'dist/adapters/zoneinfo.js'))}),
  ]);
useZoneRules(loadZoneRules); // as the CLI does: zone offsets from the system's TZif files
const t0 = performance.now();
const loaded = loadConfigFile(process.argv[2]);
const t1 = performance.now();
const from = Date.parse(${JSON.stringify(FROM)});
const result = runCheck({ ...configInventory(loaded.config, 'x'), from, to: from + 366 * 86400000 });
const text = JSON.stringify(reportJson(result));
const t2 = performance.now();
process.stdout.write(JSON.stringify({ total: (t2 - t0) / 1000, config: (t1 - t0) / 1000, simulate: (t2 - t1) / 1000, findings: result.findings.length, bytes: text.length }));
`,
);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const loadBefore = os.loadavg()[0];
const startup = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  spawnSync(process.execPath, ['bin/lifeboat.js', '--version'], { cwd: root });
  startup.push((performance.now() - t) / 1000);
}
const bare = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  bare.push((performance.now() - t) / 1000);
}
console.log(`startup: node -e 0 ${median(bare).toFixed(3)} s, lifeboat --version ${median(startup).toFixed(3)} s`);

const results = {};
for (const [name, inv] of Object.entries(inventories)) {
  const cli = [];
  const cliCold = [];
  const inside = [];
  let exit;
  const bareAlongside = [];
  const args = ['bin/lifeboat.js', '-c', inv.file, '--json', 'check', '--from', FROM];
  // One run first, so the code cache (ADR 009) holds what check runs, as it does for a user from the second run on.
  spawnSync(process.execPath, args, { cwd: root, maxBuffer: 1 << 28 });
  for (let r = 0; r < RUNS; r++) {
    // Node's own start-up, timed right next to each run: the machine's speed drifts, this pairs them.
    const b = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bareAlongside.push((performance.now() - b) / 1000);
    const t = performance.now();
    const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    cli.push((performance.now() - t) / 1000);
    const c = performance.now();
    spawnSync(process.execPath, args, {
      cwd: root,
      maxBuffer: 1 << 28,
      env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' },
    });
    cliCold.push((performance.now() - c) / 1000);
    exit = run.status;
    if (run.status !== 0 && run.status !== 1) throw new Error(`check failed (${run.status}): ${run.stderr}`);
    const probe = spawnSync(process.execPath, [inner, inv.file], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (probe.status !== 0) throw new Error(probe.stderr);
    inside.push(JSON.parse(probe.stdout));
  }
  results[name] = {
    label: inv.label,
    exit,
    cli: median(cli),
    cliCold: median(cliCold),
    check: median(inside.map((x) => x.total)),
    config: median(inside.map((x) => x.config)),
    simulate: median(inside.map((x) => x.simulate)),
    findings: inside[0].findings,
    goal: GOALS[name],
    bare: median(bareAlongside),
  };
  const r = results[name];
  console.log(
    `${name.padEnd(6)} ${r.label}: cli ${r.cli.toFixed(3)} s (no code cache ${r.cliCold.toFixed(3)} s), check ${r.check.toFixed(3)} s ` +
      `(config ${r.config.toFixed(3)} s + simulate/report ${r.simulate.toFixed(3)} s), goal <= ${r.goal} s, exit ${r.exit}; ` +
      `node -e 0 alongside ${r.bare.toFixed(3)} s`,
  );
}
rmSync(dir, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const fmt = (s) => `${s.toFixed(3)} s`;
const row = (r) =>
  `| ${r.label} | ${fmt(r.cli)} | ${fmt(r.cliCold)} | ${fmt(r.bare)} | ${fmt(r.check)} | ${fmt(r.config)} | ${fmt(r.simulate)} | <= ${r.goal} s | ${r.check <= r.goal ? 'met' : 'missed'} (check), ${r.cli <= r.goal ? 'met' : 'missed'} (cli) |`;
const section = `## check

\`lifeboat check\` over one year (366 days from ${FROM}); medians of ${RUNS} fresh processes each.
Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}; recorded ${new Date().toISOString().slice(0, 10)}
(1-minute load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after: other work on the machine inflates the figures).

| inventory | cli wall | cli wall, no code cache | node -e 0 alongside | check | config load | simulate + report | goal | status |
|---|---|---|---|---|---|---|---|---|
${row(results.small)}
${row(results.large)}
${row(results.shared)}

Start-up on the same machine: \`node -e 0\` ${fmt(median(bare))}, \`lifeboat --version\` ${fmt(median(startup))}.

- **cli wall**: \`node bin/lifeboat.js -c FILE --json check --from ${FROM}\` end to end, including Node start-up and
  loading the modules \`check\` needs: the CLI is bundled (scripts/bundle.mjs) and loads only the command being run;
  time zones come from the system's TZif files, so ICU is never started. Node alone (\`node -e 0\`) is most of it.
  From its second run a command finds its compiled code in the V8 code cache (ADR 009); **no code cache** is the
  same command with \`NODE_DISABLE_COMPILE_CACHE=1\`, i.e. what the first run after an install or build costs.
  The machine is a shared VM: the same command's median moves by +-25% from one hour to the next, so compare a row
  with the \`node -e 0\` figure recorded with it.
- **check**: inside a fresh process after module loading: read + validate lifeboat.yaml (js-yaml + valibot), expand every
  schedule into downtime intervals, sweep, group findings, build the JSON document.
- The large inventory: 5 etcd members on their own weekly slots; 4,995 workers with weekly (60%) and daily (20%) cron
  lines, kured windows (10%) and systemd calendars with a 30m randomized delay (10%), in UTC, Europe/Berlin and
  America/New_York (fixed seed).
- Workers' schedules are expanded only while "every worker down at once" is still possible (an intersection that
  stops when empty); the worst-case row forces every worker to be expanded and the intersection to stay non-empty.
- In the large rows most of the check time is reading lifeboat.yaml (js-yaml and valibot, about 0.15-0.25 s for 0.5 MB);
  simulation and report take the rest.
- There is no anchor tool for check; the goals come from issue #3.

Reproduce: \`npm run build && node bench/check.mjs\` (\`--runs N\` to change the number of runs).
`;

const docPath = recordSection(root, 'check', section);
console.log(`recorded in ${docPath}`);
