import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type DrillReport, runLabDrill } from '../app/drill.js';
import { SCENARIOS, type Scenario } from '../domain/recover/drill.js';
import { action, type CommandContext, intArg } from './context.js';

interface DrillOpts {
  scenario: Scenario;
  members: number;
  keys: number;
  dir?: string;
  keep?: boolean;
  follow?: boolean;
}

/** `lifeboat lab drill`: the timed practice run of an incident, from failure to a proven recovery. */
export function registerDrill(lab: Command): void {
  lab
    .command('drill')
    .description('timed incident drill on a fresh lab: failure, doctor, recover, proof (RTO, writes lost)')
    .addOption(new Option('--scenario <name>', 'what goes wrong').choices(SCENARIOS).default('incident'))
    .addOption(new Option('--members <n>', 'members: 3 or 5').argParser(parseMembers).default(3))
    .addOption(new Option('--keys <n>', 'sample keys to load first').argParser(parseKeys).default(2000))
    .option('--dir <dir>', 'lab directory for the drill (default: a new temp dir)')
    .option('--keep', 'leave the recovered lab running (stop it with lab down --purge --dir DIR)')
    .option('--follow', 'run backup etcd --follow beside the cluster (default for total-loss)')
    .option('--no-follow', 'no change log: total-loss restores the last snapshot only')
    .addHelpText(
      'after',
      `
Scenarios:
  incident    a majority dies at once (2 of 3, 3 of 5), the leader's disk is lost: doctor says quorum-lost,
              recover starts the members that kept their data, then re-adds the leader
  disk-loss   the leader dies and loses its disk, the others keep quorum: recover re-adds it
  total-loss  every member loses its disk: recover restores the drill's verified backup on all
  namespace-delete  nothing fails: a user deletes namespace shop; recover --plan snapshot --at (the second
              before) brings the cluster back to that moment from the change log; the namespace's objects
              must be back as they were and every other key as it was at that point
A writer logs every acknowledged write throughout; afterwards each one is looked up in the cluster.

Exit codes: 0 the drill passed, 1 it failed, 2 bad input.`,
    )
    .action(action<DrillOpts>(drill));
}

async function drill(ctx: CommandContext, opts: DrillOpts): Promise<number> {
  const dir = opts.dir ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'lifeboat-drill-'));
  const report = await runLabDrill({
    scenario: opts.scenario,
    members: opts.members,
    keys: opts.keys,
    dir,
    keep: Boolean(opts.keep),
    follow: opts.scenario === 'namespace-delete' || (opts.follow ?? opts.scenario === 'total-loss'),
    progress: (line) => (ctx.out.json ? ctx.out.warn(line) : ctx.out.print(line)),
  });
  if (ctx.out.json) ctx.out.printJson(report);
  else ctx.out.print(summary(report));
  return report.ok ? 0 : 1;
}

function summary(r: DrillReport): string {
  const n = (v: number | null) => (v === null ? '-' : `${v} s`);
  const lines = [
    '',
    `Drill ${r.scenario} on ${r.members} members: ${r.ok ? 'PASSED' : 'FAILED'}`,
    `  what happened     ${r.story}`,
    `  plan used         ${r.plan ?? '-'} (expected ${r.expectedPlan})`,
    `  time to detect    ${n(r.detectSeconds)}`,
    `  time to recover   ${n(r.recoverSeconds)} (recover), RTO ${n(r.rtoSeconds)} from the failure to all members healthy`,
    `  writes refused    ${n(r.writeOutageSeconds)} in total after the failure`,
    `  writes lost (RPO) ${r.lostWrites} of ${r.ackedWrites} acknowledged${r.scenario === 'total-loss' || r.scenario === 'namespace-delete' ? ` (${r.expectedLostWrites} were after the restored point)` : ''}`,
    ...(r.namespace
      ? [
          `  namespace         ${r.namespace.restoredKeys} of ${r.namespace.deletedKeys} objects back${r.namespace.sameValues ? ' as they were' : ' (NOT all as they were)'}; every other key ${r.namespace.restMatchesPoint ? 'as at the point' : 'DIFFERS from the point'}`,
        ]
      : []),
    ...(r.followed
      ? [
          `  change log        restored to revision ${r.followed.pointRevision} (${r.followed.replayedRevisions} replayed); newest write kept was ${r.followed.newestKeptAgeSeconds ?? '-'} s old at the failure, oldest lost ${r.followed.oldestLostAgeSeconds ?? '-'} s`,
        ]
      : []),
    `  data              ${r.keys} sample keys, db ${r.dbSizeBytes === null ? '-' : `${(r.dbSizeBytes / 1048576).toFixed(1)} MiB`}`,
    `  writer log        ${r.writerLog}${r.kept ? '' : ' (removed with the lab; --keep keeps it)'}`,
  ];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const note of r.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

const parseMembers = intArg((n) => n === 3 || n === 5, 'must be 3 or 5.');
const parseKeys = intArg((n) => n >= 0, 'not a whole number >= 0.');
