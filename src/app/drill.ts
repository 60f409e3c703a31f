import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdEndpointClient } from '../adapters/etcd/client.js';
import { LabExecutor } from '../adapters/executors/lab.js';
import { type DrillBackup, takeDrillBackup } from '../adapters/lab/drill-backup.js';
import { confirmRecovered, dbSize, detect, presentKeys } from '../adapters/lab/drill-checks.js';
import { DrillFollower } from '../adapters/lab/drill-follower.js';
import { DrillWriter, readAcks } from '../adapters/lab/drill-writer.js';
import { choosePorts, createLabFiles, newToken, requireEtcd, startMembers, stopLab } from '../adapters/lab/lab.js';
import { killMember, strayPids, waitForMembers, wipeMember } from '../adapters/lab/members.js';
import { findLeader, seedSampleData } from '../adapters/lab/seed.js';
import { readLabState, writeLabState } from '../adapters/lab/state.js';
import { signal } from '../adapters/proc/process.js';
import { waitFor } from '../adapters/proc/wait.js';
import { LocalStore } from '../adapters/store/local.js';
import { Keyspace, keyspaceDigest } from '../domain/etcdlog/keyspace.js';
import { planLab } from '../domain/lab-plan.js';
import {
  judgeWrites,
  NAMESPACED_PREFIXES,
  planFailure,
  type Scenario,
  type WriteVerdict,
} from '../domain/recover/drill.js';
import { newJournal } from '../domain/recover/journal.js';
import { errorMessage, UserError } from '../errors.js';
import { chainWindows, pointSnapshotForRecovery, readKeyspace } from './etcdlog/restore.js';
import { assessRecovery } from './recover/assess.js';
import { type RunReport, runPlan } from './recover/runner.js';

/**
 * `lab drill`: a lab, sample data, a writer that logs every acknowledged write, a verified backup, a scripted failure,
 * `doctor` until it sees it, `recover --plan auto --yes`, then proof: every member healthy, writes accepted through
 * each, and the writer's log checked key by key against what the cluster holds.
 */

export interface DrillOptions {
  scenario: Scenario;
  members: number;
  keys: number;
  dir: string;
  keep: boolean;
  /** Run `backup etcd --follow` beside the cluster; the snapshot plan then restores the log's newest point. */
  follow?: boolean;
  progress: (line: string) => void;
}

export interface DrillReport {
  ok: boolean;
  scenario: Scenario;
  members: number;
  plan: string | null;
  expectedPlan: string;
  rtoSeconds: number | null;
  lostWrites: number;
  detectSeconds: number | null;
  recoverSeconds: number | null;
  /** Seconds the writer's puts were refused after the failure, in total. */
  writeOutageSeconds: number | null;
  ackedWrites: number;
  expectedLostWrites: number;
  failedWrites: number;
  writes: WriteVerdict | null;
  dbSizeBytes: number | null;
  keys: number;
  story: string;
  failure: { victims: string[]; wiped: string[]; writer: string; force: boolean };
  backup: DrillBackup | null;
  /** With the follower: what the change log saved (RPO as writes lost and the age of the newest write kept). */
  followed: {
    pointRevision: number;
    replayedRevisions: number;
    lostWrites: number;
    newestKeptAgeSeconds: number | null;
    /** Age at the failure of the oldest acknowledged write the restore does not have (<= cadence + 1 s wanted). */
    oldestLostAgeSeconds: number | null;
  } | null;
  /**
   * namespace-delete: the namespace's objects before the mistake and after the recovery (same keys and values), and
   * whether every key outside the writer's equals the source's at the restored point (nothing else lost or changed).
   */
  namespace: {
    prefixes: string[];
    deletedAt: string;
    deletedKeys: number;
    restoredKeys: number;
    sameValues: boolean;
    restMatchesPoint: boolean;
  } | null;
  steps: RunReport['steps'];
  problems: string[];
  /** Worth knowing, not a failure (e.g. the backup fell back to a plain snapshot stream). */
  notes: string[];
  writerLog: string;
  dir: string;
  kept: boolean;
}

export async function runLabDrill(opts: DrillOptions): Promise<DrillReport> {
  requireEtcd();
  if (readLabState(opts.dir)) {
    throw new UserError(
      `a lab already exists in ${opts.dir}`,
      'pick another --dir, or remove it with lab down --purge',
    );
  }
  const say = opts.progress;
  const ports = await choosePorts(opts.members, undefined);
  const state = createLabFiles(planLab({ dir: opts.dir, members: opts.members, ports, token: newToken() }), new Date());
  const names = state.members.map((m) => m.name);
  const url = (name: string) => state.members.find((m) => m.name === name)!.clientUrl;
  const endpoints = names.map(url);
  const writerLog = join(opts.dir, 'drill-writes.jsonl');
  const problems: string[] = [];
  const notes: string[] = [];
  let writer: DrillWriter | undefined;
  let follower: DrillFollower | undefined;
  const report: DrillReport = {
    ok: false,
    scenario: opts.scenario,
    members: opts.members,
    plan: null,
    expectedPlan: '',
    rtoSeconds: null,
    lostWrites: 0,
    detectSeconds: null,
    recoverSeconds: null,
    writeOutageSeconds: null,
    ackedWrites: 0,
    expectedLostWrites: 0,
    failedWrites: 0,
    writes: null,
    dbSizeBytes: null,
    keys: 0,
    story: '',
    failure: { victims: [], wiped: [], writer: '', force: false },
    backup: null,
    followed: null,
    namespace: null,
    steps: [],
    problems,
    notes,
    writerLog,
    dir: opts.dir,
    kept: opts.keep,
  };
  // Ctrl-C mid-drill: no etcd of the drill may outlive it (they run detached).
  const onSignal = (sig: NodeJS.Signals) => {
    for (const pid of strayPids(state)) signal(pid, 'SIGKILL');
    if (!opts.keep) rmSync(opts.dir, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await startMembers(state, names, 'new');
    await waitForMembers(state, names, { until: 'healthy', timeoutMs: 30_000 });
    const seeded = await seedSampleData(endpoints, opts.keys);
    report.keys = seeded.keys;
    say(`lab of ${opts.members} members up in ${opts.dir}; ${seeded.keys} sample keys loaded`);
    const leaderUrl = await findLeader(endpoints);
    const failure = planFailure(opts.scenario, names, names[endpoints.indexOf(leaderUrl)] ?? null);
    Object.assign(report, { expectedPlan: failure.expectPlan, story: failure.story });
    report.failure = { victims: failure.victims, wiped: failure.wiped, writer: failure.writer, force: failure.force };
    writer = new DrillWriter(url(failure.writer), writerLog);
    writer.start();
    await writer.waitForAcks(20, 30_000);
    report.backup = await takeDrillBackup(url(failure.writer), opts.dir);
    if (report.backup.problem) notes.push(report.backup.problem);
    say(`backup at revision ${report.backup.revision} (${report.backup.how}; verified: ${report.backup.verified})`);
    report.dbSizeBytes = await dbSize(url(failure.writer));
    if (opts.follow) {
      follower = new DrillFollower(endpoints, join(opts.dir, 'backups'));
      await follower.start();
      // The cluster lives on with its follower for a while before the loss: the log must hold writes of its own.
      const logged = await logHolds(join(opts.dir, 'backups'), 20, 60_000);
      say(`change log: backup etcd --follow running, durable up to revision ${logged}`);
    }
    await writer.waitForAcks(20, 30_000);

    writer.mark('failure');
    let t0 = Date.now();
    let mistake: { at: number; before: Keyspace; lastRevision: number } | undefined;
    if (opts.scenario === 'namespace-delete') {
      mistake = await deleteNamespace(url(failure.writer));
      t0 = mistake.at;
      say(
        `mistake: ${failure.story.split(';')[0]} (${mistake.before.size} objects, up to revision ${mistake.lastRevision})`,
      );
      await writer.waitForAcks(10, 30_000); // the cluster lives on after the mistake: those writes are the price
      const logged = await logHolds(join(opts.dir, 'backups'), 0, 60_000, mistake.lastRevision);
      say(`change log: durable up to revision ${logged}, the deletes included`);
      await follower?.kill();
      report.detectSeconds = null;
    } else {
      const victims = state.members.filter((m) => failure.victims.includes(m.name));
      await Promise.all([...victims.map((m) => killMember(m)), follower?.kill()]);
      writeLabState(state);
      for (const m of victims) if (failure.wiped.includes(m.name)) wipeMember(m);
      say(`failure: ${failure.story}`);

      const detected = await detect(endpoints, failure.expectState, 30_000);
      report.detectSeconds = secs(detected.at - t0);
      say(`doctor: ${detected.state} after ${report.detectSeconds} s`);
    }

    const r0 = Date.now();
    let snapshotFile = failure.needsSnapshot ? report.backup.file : undefined;
    let snapshotRevision = report.backup.revision;
    if (follower && failure.needsSnapshot) {
      // The user's words: "as it was the second before the namespace was deleted".
      const at = mistake ? { time: mistake.at - 1000 } : undefined;
      const point = await pointSnapshotForRecovery({
        store: new LocalStore(join(opts.dir, 'backups')),
        workDir: join(opts.dir, 'recover-snapshots'),
        ...(at ? { at } : {}),
      });
      if (point) {
        snapshotFile = point.file;
        snapshotRevision = point.revision;
        report.followed = {
          pointRevision: point.revision,
          replayedRevisions: point.replayedRevisions,
          lostWrites: 0,
          newestKeptAgeSeconds: null,
          oldestLostAgeSeconds: null,
        };
        say(`change log: etcd rebuilt at revision ${point.revision} (${point.replayedRevisions} revisions replayed)`);
      } else if (mistake) throw new Error('the change log has no point before the mistake');
    }
    // What the cluster held at the point, read from the source itself before it is replaced (no compaction ran).
    const pointDigest = mistake ? outsideWriter(await readKeyspace(url(failure.writer), snapshotRevision)) : undefined;
    const executor = new LabExecutor(readLabState(opts.dir)!, { force: failure.force });
    const assessment = await assessRecovery({
      target: { endpoints },
      executor,
      choice: mistake ? 'snapshot' : 'auto',
      force: failure.force,
      snapshotFile,
      workDir: join(opts.dir, 'recover-snapshots'),
      fresh: true,
      probeTimeoutMs: 2000,
    });
    if (assessment.kind !== 'decision' || assessment.decision.kind !== 'plan') {
      const d = assessment.kind === 'decision' ? assessment.decision : undefined;
      const why = d && d.kind !== 'plan' ? d.reason : 'a recovery journal was found';
      throw new Error(`recover found no plan: ${why}`);
    }
    const { plan, blockers } = assessment.decision;
    report.plan = plan.name;
    if (blockers.length) throw new Error(`recover refused: ${blockers.map((b) => b.why).join('; ')}`);
    say(`recover --plan auto --yes${failure.force ? ' --force' : ''}: ${plan.name} plan, ${plan.steps.length} steps`);
    const run = await runPlan(newJournal(plan, new Date()), executor, {
      rerun: `lifeboat -c ${state.config} recover --yes`,
      interrupted: () => false,
      events: {
        onEnd: (i, n, s, r) => say(`  [${i}/${n}] ${s.name}: ${r.ok ? 'ok' : `FAILED: ${r.error}`} (${r.seconds} s)`),
      },
    });
    report.steps = run.steps;
    report.recoverSeconds = secs(Date.now() - r0);
    if (!run.ok) throw new Error(`recover failed at ${run.failed?.step}: ${run.failed?.error}`);

    await confirmRecovered(state, endpoints);
    report.rtoSeconds = secs(Date.now() - t0);
    await writer.waitForAcks(10, 30_000);
    report.writeOutageSeconds = secs(writer.outageMsSince(t0));
    writer.mark('end');
    await writer.stop();
    report.failedWrites = writer.failures;

    const acks = readAcks(readFileSync(writerLog, 'utf8'));
    const present = await presentKeys(
      endpoints[0]!,
      acks.map((a) => a.key),
    );
    const oldCluster = writer.acks[0]?.clusterId ?? '';
    const snapshot = failure.needsSnapshot ? { revision: snapshotRevision, clusterId: oldCluster } : undefined;
    report.writes = judgeWrites(acks, (k) => present.has(k), snapshot);
    if (mistake) {
      const now = await readKeyspace(endpoints[0]!, 0);
      const restored = mistake.before.entries().filter((e) => {
        const back = now.get(e.key);
        return back?.value.equals(e.value) === true;
      });
      report.namespace = {
        prefixes: NAMESPACED_PREFIXES,
        deletedAt: new Date(mistake.at).toISOString(),
        deletedKeys: mistake.before.size,
        restoredKeys: mistake.before.entries().filter((e) => now.get(e.key)).length,
        sameValues: restored.length === mistake.before.size,
        restMatchesPoint: outsideWriter(now) === pointDigest,
      };
      if (!report.namespace.sameValues) {
        problems.push(`${mistake.before.size - restored.length} of the namespace's objects are not back as they were`);
      }
      if (!report.namespace.restMatchesPoint) {
        problems.push('the keys outside the namespace differ from what the cluster held at the restored point');
      }
    }
    if (report.followed) {
      const kept = writer.acks.filter((a) => a.clusterId === oldCluster && a.revision <= snapshotRevision).at(-1);
      report.followed.lostWrites = report.writes.lost;
      report.followed.newestKeptAgeSeconds = kept ? secs(t0 - kept.at) : null;
      const lost = writer.acks.find((a) => a.clusterId === oldCluster && a.revision > snapshotRevision && a.at <= t0);
      report.followed.oldestLostAgeSeconds = lost ? secs(t0 - lost.at) : null;
    }
    Object.assign(report, {
      ackedWrites: report.writes.acked,
      lostWrites: report.writes.lost,
      expectedLostWrites: report.writes.expectedLost,
    });
    if (report.plan !== failure.expectPlan)
      problems.push(`expected the ${failure.expectPlan} plan, got ${report.plan}`);
    if (report.writes.lostUnexpectedly) problems.push(`${report.writes.lostUnexpectedly} acknowledged writes lost`);
    if (report.writes.presentUnexpectedly) {
      problems.push(`${report.writes.presentUnexpectedly} writes after the snapshot survived a snapshot restore`);
    }
    report.ok = problems.length === 0;
  } catch (err) {
    problems.push(errorMessage(err));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (writer) await writer.stop().catch(() => undefined);
    await follower?.kill().catch(() => undefined);
    if (!opts.keep) {
      const final = readLabState(opts.dir) ?? state;
      await stopLab(final, 5000);
      rmSync(opts.dir, { recursive: true, force: true });
    }
  }
  return report;
}

const secs = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Waits until the newest chain holds at least `revisions` revisions past its snapshot (and revision `upTo`, when
 * given); returns its last one.
 */
async function logHolds(store: string, revisions: number, timeoutMs: number, upTo = 0): Promise<number> {
  return waitFor(
    `the change log to hold ${upTo ? `revision ${upTo}` : `${revisions} revisions`}`,
    async () => {
      const newest = (await chainWindows(new LocalStore(store))).chains.at(-1);
      const enough = newest && newest.toRevision - newest.fromRevision >= revisions && newest.toRevision >= upTo;
      return enough ? newest.toRevision : undefined;
    },
    { timeoutMs },
  );
}

/**
 * The mistake: the namespace's objects deleted kind by kind (one transaction each, as the namespace controller
 * does). Returns the moment just before the first delete, the objects as they were, and the last delete's revision.
 */
async function deleteNamespace(endpoint: string): Promise<{ at: number; before: Keyspace; lastRevision: number }> {
  const client = new EtcdEndpointClient(endpoint);
  try {
    const all = await readKeyspace(endpoint, 0);
    const before = all.entries().filter((e) => NAMESPACED_PREFIXES.some((p) => e.key.toString('latin1').startsWith(p)));
    if (before.length === 0) throw new Error('the namespace to delete holds no objects (load more --keys)');
    const at = Date.now();
    for (const prefix of NAMESPACED_PREFIXES) await client.deleteRange(prefix);
    const lastRevision = (await client.status()).revision;
    if (lastRevision === undefined) throw new Error('etcd did not say its revision after the deletes');
    return { at, before: Keyspace.of(all.revision, before), lastRevision };
  } finally {
    client.close();
  }
}

/** Digest of every key but the drill writer's (those are judged one by one). */
function outsideWriter(k: Keyspace): string {
  return keyspaceDigest(k.entries().filter((e) => !e.key.toString('latin1').startsWith('/drill/')));
}
