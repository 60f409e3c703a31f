import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/adapters/config-file.js';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { memberHealth } from '../../src/adapters/lab/members.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { portIsFree } from '../../src/adapters/proc/ports.js';
import { isAlive, killProcess } from '../../src/adapters/proc/process.js';
import { json, runCli } from '../helpers/cli.js';

interface LabJson {
  dir: string;
  config: string;
  members: Array<{ name: string; clientUrl: string; peerUrl: string; pid: number | null; running: boolean }>;
}

const root = mkdtempSync(join(tmpdir(), 'lifeboat-lab-test-'));

/** Every etcd this file started serves a data dir under `root`; find them by that argument, whatever the CLI did. */
function labProcesses(under = root): number[] {
  return findProcesses((arg) => arg.startsWith(`--data-dir=${under}/`));
}

afterAll(async () => {
  try {
    for (const dir of ['three', 'five']) await runCli(['lab', 'down', '--purge', '--dir', join(root, dir)]);
  } finally {
    // Whatever the CLI managed, no etcd of this file outlives it.
    for (const pid of labProcesses()) await killProcess(pid);
    rmSync(root, { recursive: true, force: true });
  }
});

async function countKeys(endpoint: string, serializable = false): Promise<number> {
  const client = new EtcdEndpointClient(endpoint);
  try {
    return await client.count('/registry/', { serializable });
  } finally {
    client.close();
  }
}

describe('lab with 3 members: up, status, kill, start, stop, wipe, restart, down', () => {
  const dir = join(root, 'three');
  const lab = (...args: string[]) => runCli(['lab', ...args, '--dir', dir]);
  const status = async () => json<LabJson>(await lab('status', '--json'));
  const member = (doc: LabJson, name: string) => doc.members.find((m) => m.name === name)!;
  let up: LabJson;

  it('up starts 3 healthy members, loads the sample keys, writes lifeboat.yaml and lab.json', async () => {
    const result = await runCli(['--json', 'lab', 'up', '--dir', dir, '--keys', '400']);
    expect(result.code, result.stderr).toBe(0);
    up = json<LabJson>(result);
    expect(up.dir).toBe(dir);
    expect(up.config).toBe(join(dir, 'lifeboat.yaml'));
    expect(up.members.map((m) => [m.name, m.running])).toEqual([
      ['cp1', true],
      ['cp2', true],
      ['cp3', true],
    ]);
    for (const m of up.members) {
      expect(m.clientUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(isAlive(m.pid!)).toBe(true);
      expect(await memberHealth(m.clientUrl)).toBe('healthy');
    }
    const { config } = loadConfigFile(up.config);
    expect(config.etcd).toMatchObject({ executor: 'lab', lab: { dir }, endpoints: up.members.map((m) => m.clientUrl) });
    expect(config.nodes?.map((n) => n.name)).toEqual(['cp1', 'cp2', 'cp3']);
    const state = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8'));
    expect(state.token).toMatch(/^lifeboat-lab-/);
    expect(state.members[0]).toMatchObject({
      name: 'cp1',
      dataDir: join(dir, 'data/cp1'),
      logFile: join(dir, 'logs/cp1.log'),
    });
    expect(existsSync(join(dir, 'logs/cp1.log'))).toBe(true);
    expect(await countKeys(up.members[0]!.clientUrl)).toBe(400);
    // Every member holds the data (a serializable count answers from the member's own copy).
    expect(await countKeys(up.members[2]!.clientUrl, true)).toBe(400);
  });

  it('status shows 3 running members; the lab is also found through -c lifeboat.yaml', async () => {
    const doc = await status();
    expect(doc.members.every((m) => m.running)).toBe(true);
    const viaConfig = await runCli(['-c', up.config, 'lab', 'status', '--json']);
    expect(viaConfig.code, viaConfig.stderr).toBe(0);
    expect(json<LabJson>(viaConfig).members.map((m) => m.pid)).toEqual(doc.members.map((m) => m.pid));
    const human = await lab('status');
    expect(human.stdout).toMatch(/cp1\s+healthy/);
    expect(human.stdout).toContain(`lifeboat -c ${up.config} doctor`);
  });

  it("the README's backup examples run on the lab as written: backup etcd, verify --latest", async () => {
    const backup = await runCli(['-c', up.config, 'backup', 'etcd'], { timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
    expect(readdirSync(join(dir, 'backups/etcd')).some((f) => f.endsWith('-lab.db'))).toBe(true);
    const verify = await runCli(['-c', up.config, 'verify', '--latest'], { timeoutMs: 120_000 });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('a second up on a running lab is refused with exit 2', async () => {
    const again = await lab('up', '--keys', '0');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already running.*lab down/);
  });

  it('an unknown member name is one line listing the valid names, exit 2', async () => {
    const result = await lab('kill', 'cp9');
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'lifeboat: error: no member "cp9" in this lab (members: cp1, cp2, cp3)',
    ]);
  });

  it('kill is a power cut: the process is gone and status says so', async () => {
    const pid = member(await status(), 'cp2').pid!;
    const result = await lab('kill', 'cp2');
    expect(result.code, result.stderr).toBe(0);
    expect(isAlive(pid)).toBe(false);
    const doc = await status();
    expect(member(doc, 'cp2')).toMatchObject({ running: false, pid: null });
    expect(member(doc, 'cp1').running).toBe(true);
  });

  it('start brings it back with its data: running, healthy, every key there', async () => {
    const result = await lab('start', 'cp2', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ name: 'cp2', outcome: 'healthy' });
    const cp2 = member(await status(), 'cp2');
    expect(cp2.running).toBe(true);
    expect(await memberHealth(cp2.clientUrl)).toBe('healthy');
    expect(await countKeys(cp2.clientUrl, true)).toBe(400);
  });

  it('stop is clean (SIGTERM) and leaves the member stopped', async () => {
    const pid = member(await status(), 'cp3').pid!;
    const result = await lab('stop', 'cp3', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ name: 'cp3', outcome: 'exited' });
    expect(isAlive(pid)).toBe(false);
    expect(member(await status(), 'cp3').running).toBe(false);
  });

  it('wipe refuses a running member (exit 2), loses a stopped one, and start then refuses (exit 1)', async () => {
    const refused = await lab('wipe', 'cp1');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cp1 is running/);
    expect(existsSync(join(dir, 'data/cp1/member'))).toBe(true);

    const wiped = await lab('wipe', 'cp3');
    expect(wiped.code, wiped.stderr).toBe(0);
    expect(existsSync(join(dir, 'data/cp3'))).toBe(false);

    const start = await lab('start', 'cp3');
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/disk is gone/);
    expect(start.stderr).toMatch(/lifeboat recover/);
    expect(member(await status(), 'cp3').running).toBe(false);
  });

  it('down keeps the data; up restarts the lab with it (the wiped member stays down: exit 1)', async () => {
    const down = await lab('down');
    expect(down.code, down.stderr).toBe(0);
    expect(labProcesses(dir)).toEqual([]);
    expect((await status()).members.some((m) => m.running)).toBe(false);

    const restart = await runCli(['--json', 'lab', 'up', '--dir', dir]);
    expect(restart.code).toBe(1);
    expect(restart.stderr).toMatch(/cp3 was not started: its disk is gone/);
    const doc = json<LabJson>(restart);
    expect(doc.members.map((m) => m.running)).toEqual([true, true, false]);
    expect(await countKeys(member(doc, 'cp1').clientUrl)).toBe(400);
  });

  it('down --purge stops everything and removes the directory', async () => {
    const result = await lab('down', '--purge');
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(labProcesses(dir)).toEqual([]);
    for (const m of up.members) expect(isAlive(m.pid!)).toBe(false);
  });
});

/** A --base-port whose whole range (2 ports per member) is free right now, below Linux's ephemeral port range. */
async function freeRange(size: number): Promise<number> {
  for (let base = 20000 + Math.floor(Math.random() * 12000); ; base += size) {
    const free = await Promise.all(Array.from({ length: size }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

describe('lab with 5 members on --base-port', () => {
  const dir = join(root, 'five');

  it('refuses a base port range that is taken (exit 2, names the port)', async () => {
    const base = await freeRange(10);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(base + 3, '127.0.0.1', resolve));
    try {
      const result = await runCli(['lab', 'up', '--dir', dir, '--members', '5', '--base-port', String(base)]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`port ${base + 3} (peer port of cp2) is already in use`);
      expect(labProcesses()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('comes up with 5 healthy members on P..P+9, survives losing quorum, and goes away with down --purge', async () => {
    const base = await freeRange(10);
    const result = await runCli([
      '--json',
      'lab',
      'up',
      '--dir',
      dir,
      '--members',
      '5',
      '--base-port',
      String(base),
      '--keys',
      '100',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const doc = json<LabJson>(result);
    expect(doc.members.map((m) => m.name)).toEqual(['cp1', 'cp2', 'cp3', 'cp4', 'cp5']);
    expect(doc.members.map((m) => m.clientUrl)).toEqual([0, 2, 4, 6, 8].map((i) => `http://127.0.0.1:${base + i}`));
    expect(doc.members[4]?.peerUrl).toBe(`http://127.0.0.1:${base + 9}`);
    for (const m of doc.members) expect(await memberHealth(m.clientUrl)).toBe('healthy');
    expect(await countKeys(doc.members[4]!.clientUrl)).toBe(100);

    // Quorum lost (1 of 5 left): a member started alone can only bind its ports; the next one brings back quorum.
    for (const name of ['cp1', 'cp2', 'cp3', 'cp4']) {
      expect((await runCli(['lab', 'kill', name, '--dir', dir])).code).toBe(0);
    }
    const alone = await runCli(['lab', 'start', 'cp1', '--dir', dir, '--json']);
    expect(alone.code, alone.stderr).toBe(0);
    expect(json(alone)).toMatchObject({ name: 'cp1', outcome: 'listening' });
    const quorum = await runCli(['lab', 'start', 'cp2', '--dir', dir, '--json']);
    expect(quorum.code, quorum.stderr).toBe(0);
    expect(json(quorum)).toMatchObject({ name: 'cp2', outcome: 'healthy' });
    for (const m of [doc.members[0]!, doc.members[1]!, doc.members[4]!]) {
      expect(await memberHealth(m.clientUrl)).toBe('healthy');
    }

    const down = await runCli(['lab', 'down', '--purge', '--dir', dir]);
    expect(down.code, down.stderr).toBe(0);
    expect(existsSync(dir)).toBe(false);
    for (const m of doc.members) expect(isAlive(m.pid!)).toBe(false);
  });
});
