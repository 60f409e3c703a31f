#!/usr/bin/env node
// `npm run bench`: every benchmark in turn (each compares us with its anchor and records its docs/BENCHMARKS.md section).
import { spawnSync } from 'node:child_process';

const benches = [['check.mjs'], ['backup.mjs', '--mb', '200,500', '--write'], ['drill.mjs'], ['mysql.mjs']];
let failed = 0;
for (const [script, ...args] of benches) {
  console.log(`\n== bench/${script} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [new URL(script, import.meta.url).pathname, ...args], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
