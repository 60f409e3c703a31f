import { isAbsolute, relative, resolve } from 'node:path';
import type { MemberReport } from '../adapters/lab/lab.js';
import type { LabState } from '../adapters/lab/state.js';
import { DEFAULT_LAB_DIR } from '../domain/lab-plan.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/**
 * How `lab up` and `lab status` show a lab: the JSON document of docs/ARCHITECTURE.md, or a short table and the next step.
 * (Presentation only; it sits with the lab because nothing else renders a lab.)
 */

export interface UpSummary {
  action: 'created' | 'restarted';
  /** Until every member was healthy. */
  upSeconds: number;
  /** The whole command, seeding included. */
  seconds: number;
  keys?: number;
  seedSeconds?: number;
  keysPerSecond?: number;
}

/** `{ dir, config, members: [{ name, clientUrl, peerUrl, pid, running }] }` plus extra fields (never renamed). */
export function labDocument(state: LabState, members: MemberReport[], summary?: UpSummary) {
  return {
    dir: state.dir,
    config: state.config,
    ...summary,
    members: members.map((m) => ({
      name: m.name,
      clientUrl: m.clientUrl,
      peerUrl: m.peerUrl,
      pid: m.pid,
      running: m.running,
      healthy: m.health === 'healthy',
      disk: m.hasData ? 'ok' : 'gone',
      dataDir: m.dataDir,
      logFile: m.logFile,
    })),
  };
}

export function printLab(out: Output, state: LabState, members: MemberReport[], summary?: UpSummary): void {
  if (out.json) {
    out.printJson(labDocument(state, members, summary));
    return;
  }
  const c = out.color;
  const running = members.filter((m) => m.running).length;
  const healthy = members.filter((m) => m.health === 'healthy').length;
  const counts = `${running} of ${members.length} members running, ${healthy} healthy`;
  if (summary) {
    const seeded = summary.keys
      ? `; ${summary.keys} sample keys loaded in ${summary.seedSeconds?.toFixed(1)}s (${summary.keysPerSecond} keys/s)`
      : '';
    out.print(`lab ${summary.action} in ${show(state.dir)} in ${summary.upSeconds}s: ${counts}${seeded}`);
  } else {
    out.print(`lab in ${show(state.dir)}: ${counts}`);
  }
  const stateText = (m: MemberReport): string => {
    if (m.running && m.health === 'healthy') return c.green('healthy');
    if (m.running) return c.yellow(m.health === 'unhealthy' ? 'running, unhealthy' : 'running, not ready');
    return c.red(m.hasData ? 'stopped' : 'stopped, disk gone');
  };
  const rows = members.map((m) => [m.name, stateText(m), m.pid === null ? '-' : String(m.pid), m.clientUrl, m.peerUrl]);
  out.print(renderTable(['MEMBER', 'STATE', 'PID', 'CLIENT URL', 'PEER URL'], rows));
  out.print(`next: lifeboat -c ${show(state.config)} doctor`);
  const stopped = members.filter((m) => !m.running && m.hasData).map((m) => m.name);
  if (stopped[0]) out.print(`      ${labCommand(`start ${stopped[0]}`, state.dir)}   (bring a stopped member back)`);
  for (const m of members.filter((x) => !x.hasData)) {
    out.print(`      ${m.name} lost its disk: \`lifeboat recover\` re-adds it as a new member`);
  }
}

/** A one-line counter rewritten in place on a terminal (stderr); silent otherwise and with --json. */
export function progressLine(out: Output, label: string): { update(text: string): void; done(): void } {
  const tty = Boolean(process.stderr.isTTY) && !out.json;
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      process.stderr.write(`\r${label}: ${text}\u001b[K`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\u001b[K');
    },
  };
}

/** `lifeboat lab VERB`, with --dir only when the lab is not the default one. */
export function labCommand(verb: string, dir: string): string {
  return `lifeboat lab ${verb}${dir === resolve(DEFAULT_LAB_DIR) ? '' : ` --dir ${show(dir)}`}`;
}

/** A path as short as it can be shown: relative when under the working directory. */
export function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
