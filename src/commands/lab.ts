import { existsSync, rmSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  abandonLab,
  choosePorts,
  createLabFiles,
  ensureLabConfig,
  inspectLab,
  newToken,
  requireEtcd,
  startMembers,
  stopLab,
} from '../adapters/lab/lab.js';
import { killMember, memberViews, stopMember, waitForMembers, wipeMember } from '../adapters/lab/members.js';
import { seedSampleData } from '../adapters/lab/seed.js';
import { type LabState, readLabState, resolveLabDir, writeLabState } from '../adapters/lab/state.js';
import {
  basePortProblem,
  canReachQuorum,
  DEFAULT_LAB_DIR,
  DEFAULT_LAB_KEYS,
  DEFAULT_LAB_MEMBERS,
  decideStart,
  decideUp,
  decideWipe,
  LAB_MEMBER_COUNTS,
  planLab,
  unknownMemberMessage,
} from '../domain/lab-plan.js';
import { quorumOf } from '../domain/quorum.js';
import { UserError } from '../errors.js';
import { labCommand, printLab, progressLine, show, type UpSummary } from '../render/lab.js';
import { action, type CommandContext, intArg } from './context.js';
import { registerDrill } from './drill.js';

interface DirOpts {
  dir?: string;
}
interface UpOpts extends DirOpts {
  members?: number;
  basePort?: number;
  keys?: number;
}

/** SIGTERM grace before SIGKILL: an etcd whose peers are gone can spend long trying to hand over leadership. */
const STOP_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 30_000;

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('local practice cluster of real etcd processes')
    .addHelpText(
      'after',
      `
A lab is real etcd members on 127.0.0.1 that keep running after this command returns. Practise on it:
  lifeboat lab up                         3 members, Kubernetes-shaped sample data, ./.lab/lifeboat.yaml
  lifeboat -c .lab/lifeboat.yaml doctor   what state is it in?
  lifeboat lab kill cp1                   a power cut on one member
  lifeboat lab down --purge               stop everything and remove the lab`,
    );
  const dirOption = () => new Option('--dir <dir>', `lab directory (default: ./${DEFAULT_LAB_DIR}, or lab.dir of -c)`);
  lab
    .command('up')
    .description('start a lab (or restart a stopped one with its data) and load sample data')
    .addOption(dirOption())
    .addOption(new Option('--members <n>', 'members: 3 or 5 (default 3)').argParser(parseMembers))
    .addOption(new Option('--base-port <port>', 'use ports P, P+1, ... (default: free ports)').argParser(parsePort))
    .addOption(new Option('--keys <n>', `sample keys to load (default ${DEFAULT_LAB_KEYS})`).argParser(parseCount))
    .action(action<UpOpts>(labUp));
  lab
    .command('status')
    .description('members: running or not, pid, URLs')
    .addOption(dirOption())
    .action(action(labStatus));
  const memberCommands: Array<[string, string, (ctx: CommandContext, o: DirOpts, a: string[]) => Promise<number>]> = [
    ['stop', 'clean stop: SIGTERM, then SIGKILL after a deadline', labStop],
    ['kill', 'SIGKILL: a power cut (data stays on disk)', labKill],
    ['start', 'start a stopped member again with its data', labStart],
    ['wipe', "remove a stopped member's data dir: the disk is lost", labWipe],
  ];
  for (const [verb, description, body] of memberCommands) {
    lab.command(`${verb} <member>`).description(description).addOption(dirOption()).action(action(body));
  }
  lab
    .command('down')
    .description('stop every member (with a deadline)')
    .addOption(dirOption())
    .option('--purge', 'also remove the lab directory')
    .action(action(labDown));
  registerDrill(lab);
}

async function labUp(ctx: CommandContext, opts: UpOpts): Promise<number> {
  const started = Date.now();
  const dir = labDir(ctx, opts.dir);
  const existing = readLabState(dir);
  const decision = decideUp(existing && memberViews(existing));
  if (decision.kind === 'refuse') {
    throw new UserError(
      `a lab is already running in ${show(dir)} (${decision.running.join(', ')})`,
      `stop it first with: ${labCommand('down', dir)}`,
    );
  }
  if (decision.kind === 'restart') {
    const state = existing!;
    const ignored = Object.entries({ '--members': opts.members, '--base-port': opts.basePort, '--keys': opts.keys });
    for (const [flag, value] of ignored) {
      if (value !== undefined) ctx.out.warn(`note: ${show(dir)} already holds a lab; ${flag} ignored`);
    }
    if (decision.start.length === 0) {
      ctx.out.warn(
        `lifeboat: error: no member of the lab in ${show(dir)} has data (all wiped, or the lab never formed); ` +
          `restore from a backup with lifeboat recover, or start afresh: ${labCommand('down --purge', dir)}, then up`,
      );
      return 1;
    }
    ensureLabConfig(state);
    await startMembers(state, decision.start, 'existing');
    const until = canReachQuorum(memberViews(state), []) ? 'healthy' : 'listening';
    await waitForMembers(state, decision.start, { until, timeoutMs: START_TIMEOUT_MS });
    for (const name of decision.diskGone) {
      ctx.out.warn(`${name} was not started: its disk is gone (lifeboat recover re-adds it as a new member)`);
    }
    const secs = seconds(started);
    printLab(ctx.out, state, await inspectLab(state), { action: 'restarted', upSeconds: secs, seconds: secs });
    return decision.diskGone.length > 0 ? 1 : 0;
  }

  requireEtcd();
  const members = opts.members ?? DEFAULT_LAB_MEMBERS;
  const portProblem = opts.basePort === undefined ? undefined : basePortProblem(opts.basePort, members);
  if (portProblem) throw new UserError(portProblem);
  const ports = await choosePorts(members, opts.basePort);
  const state = createLabFiles(planLab({ dir, members, ports, token: newToken() }), new Date());
  const names = state.members.map((m) => m.name);
  try {
    await startMembers(state, names, 'new');
    await waitForMembers(state, names, { until: 'healthy', timeoutMs: START_TIMEOUT_MS });
  } catch (err) {
    await abandonLab(state);
    throw err;
  }
  const summary: UpSummary = { action: 'created', upSeconds: seconds(started), seconds: seconds(started) };
  const keys = opts.keys ?? DEFAULT_LAB_KEYS;
  if (keys > 0) {
    const progress = progressLine(ctx.out, 'loading sample data');
    const seeded = await seedSampleData(
      state.members.map((m) => m.clientUrl),
      keys,
      (done, total) => progress.update(`${done}/${total} keys`),
    );
    progress.done();
    Object.assign(summary, { keys: seeded.keys, seedSeconds: seeded.ms / 1000, keysPerSecond: seeded.keysPerSecond });
    summary.seconds = seconds(started);
  }
  printLab(ctx.out, state, await inspectLab(state), summary);
  return 0;
}

async function labStatus(ctx: CommandContext, opts: DirOpts): Promise<number> {
  const state = openLab(ctx, opts.dir);
  printLab(ctx.out, state, await inspectLab(state));
  return 0;
}

async function labStop(ctx: CommandContext, opts: DirOpts, args: string[]): Promise<number> {
  const { state, member } = openMember(ctx, opts.dir, args[0]!);
  const started = Date.now();
  const outcome = await stopMember(member, STOP_GRACE_MS);
  writeLabState(state);
  const text = {
    'not-running': `${member.name} was not running`,
    exited: `${member.name} stopped cleanly in ${seconds(started)}s`,
    killed: `${member.name} did not stop within ${STOP_GRACE_MS / 1000}s and was killed`,
  }[outcome];
  report(ctx, { name: member.name, action: 'stop', outcome, seconds: seconds(started) }, text);
  return 0;
}

async function labKill(ctx: CommandContext, opts: DirOpts, args: string[]): Promise<number> {
  const { state, member } = openMember(ctx, opts.dir, args[0]!);
  const killed = await killMember(member);
  writeLabState(state);
  const text = killed
    ? `${member.name} killed (SIGKILL, like a power cut); its data is intact: ${labCommand(`start ${member.name}`, state.dir)}`
    : `${member.name} was not running`;
  report(ctx, { name: member.name, action: 'kill', outcome: killed ? 'killed' : 'not-running' }, text);
  return 0;
}

async function labStart(ctx: CommandContext, opts: DirOpts, args: string[]): Promise<number> {
  const { state, member } = openMember(ctx, opts.dir, args[0]!);
  const views = memberViews(state);
  const decision = decideStart(member.name, views);
  const result = { name: member.name, action: 'start' };
  if (decision.kind === 'already-running') {
    report(ctx, { ...result, outcome: 'already-running' }, `${member.name} is already running`);
    return 0;
  }
  if (decision.kind === 'disk-gone') {
    if (ctx.out.json) ctx.out.printJson({ ...result, outcome: 'disk-gone' });
    ctx.out.warn(
      `lifeboat: error: cannot start ${member.name}: its disk is gone (${show(member.dataDir)} was wiped). ` +
        'A member that lost its data must be removed and re-added to rejoin; `lifeboat recover` does that.',
    );
    return 1;
  }
  const started = Date.now();
  await startMembers(state, [member.name], 'existing');
  await waitForMembers(state, [member.name], { until: decision.wait, timeoutMs: START_TIMEOUT_MS });
  const running = views.filter((v) => v.running).length + 1;
  const text =
    decision.wait === 'healthy'
      ? `${member.name} is running again and healthy (${seconds(started)}s)`
      : `${member.name} is running but cannot serve yet: ${running} of ${views.length} members run, quorum needs ` +
        `${quorumOf(views.length)}. Start another member.`;
  report(ctx, { ...result, outcome: decision.wait, pid: member.pid, seconds: seconds(started) }, text);
  return 0;
}

async function labWipe(ctx: CommandContext, opts: DirOpts, args: string[]): Promise<number> {
  const { state, member } = openMember(ctx, opts.dir, args[0]!);
  const decision = decideWipe(member.name, memberViews(state));
  if (decision.kind === 'refuse-running') {
    throw new UserError(
      `${member.name} is running; stop or kill it before wiping its disk`,
      labCommand(`stop ${member.name}`, state.dir),
    );
  }
  if (decision.kind === 'wipe') wipeMember(member);
  const text =
    decision.kind === 'wipe'
      ? `${member.name}'s data dir is gone (a lost disk). \`lab start ${member.name}\` will refuse; ` +
        '`lifeboat recover` re-adds it as a new member.'
      : `${member.name}'s data dir was already gone`;
  report(ctx, { name: member.name, action: 'wipe', outcome: decision.kind }, text);
  return 0;
}

async function labDown(ctx: CommandContext, opts: DirOpts & { purge?: boolean }): Promise<number> {
  const dir = labDir(ctx, opts.dir);
  const state = readLabState(dir);
  if (!state) {
    // Refuse to delete a directory we did not create: --dir could point anywhere.
    if (opts.purge && existsSync(dir)) throw new UserError(`${show(dir)} is not a lab (no lab.json); not removing it`);
    report(ctx, { dir, stopped: [], purged: false }, `no lab in ${show(dir)}; nothing to do`);
    return 0;
  }
  const outcomes = await stopLab(state, STOP_GRACE_MS);
  if (opts.purge) rmSync(dir, { recursive: true, force: true });
  const stopped = outcomes.filter((o) => o.outcome !== 'not-running').map((o) => o.name);
  const text =
    `${stopped.length ? `stopped ${stopped.join(', ')}` : 'no member was running'}` +
    (opts.purge ? `; removed ${show(dir)}` : `; data kept (${labCommand('up', dir)} restarts the lab)`);
  report(ctx, { dir, stopped, outcomes, purged: Boolean(opts.purge) }, text);
  return 0;
}

/** The lab directory: --dir, else lab.dir of the -c config (only when -c is given), else ./.lab. */
function labDir(ctx: CommandContext, dirOption: string | undefined): string {
  return resolveLabDir(dirOption, ctx.opts.config ? ctx.config() : undefined);
}

function openLab(ctx: CommandContext, dirOption: string | undefined): LabState {
  const dir = labDir(ctx, dirOption);
  const state = readLabState(dir);
  if (!state) throw new UserError(`no lab in ${show(dir)}`, `start one with: ${labCommand('up', dir)}`);
  return state;
}

function openMember(ctx: CommandContext, dirOption: string | undefined, name: string) {
  const state = openLab(ctx, dirOption);
  const member = state.members.find((m) => m.name === name);
  if (!member)
    throw new UserError(
      unknownMemberMessage(
        name,
        state.members.map((m) => m.name),
      ),
    );
  return { state, member };
}

function report(ctx: CommandContext, json: Record<string, unknown>, text: string): void {
  if (ctx.out.json) ctx.out.printJson(json);
  else ctx.out.print(text);
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

const parseMembers = intArg((n) => (LAB_MEMBER_COUNTS as readonly number[]).includes(n), 'must be 3 or 5.');
const parsePort = intArg((n) => n >= 1 && n <= 65535, 'not a port number.');
const parseCount = intArg((n) => n >= 0, 'not a whole number >= 0.');
