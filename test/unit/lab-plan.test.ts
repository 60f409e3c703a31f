import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/adapters/config-file.js';
import { SAMPLE_MAX_BYTES, SAMPLE_MIN_BYTES, sampleEntries } from '../../src/adapters/lab/sample-data.js';
import {
  basePortProblem,
  canReachQuorum,
  decideStart,
  decideUp,
  decideWipe,
  labConfigDocument,
  type MemberView,
  memberNames,
  planLab,
  portsFromBase,
  unknownMemberMessage,
} from '../../src/domain/lab-plan.js';

const view = (name: string, running: boolean, hasData = true): MemberView => ({ name, running, hasData });

describe('planLab', () => {
  const plan = planLab({ dir: '/tmp/lab/', members: 3, ports: portsFromBase(32000, 3), token: 'tok' });

  it('names members cp1..cpN and gives each a client and a peer port on loopback', () => {
    expect(plan.members.map((m) => m.name)).toEqual(['cp1', 'cp2', 'cp3']);
    expect(plan.members[0]).toEqual({
      name: 'cp1',
      clientUrl: 'http://127.0.0.1:32000',
      peerUrl: 'http://127.0.0.1:32001',
      dataDir: '/tmp/lab/data/cp1',
      logFile: '/tmp/lab/logs/cp1.log',
    });
    expect(plan.members[2]?.clientUrl).toBe('http://127.0.0.1:32004');
    expect(plan.members[2]?.peerUrl).toBe('http://127.0.0.1:32005');
  });

  it('builds --initial-cluster from the peer URLs, in member order', () => {
    expect(plan.initialCluster).toBe(
      'cp1=http://127.0.0.1:32001,cp2=http://127.0.0.1:32003,cp3=http://127.0.0.1:32005',
    );
    expect(plan.token).toBe('tok');
    expect(plan.dir).toBe('/tmp/lab');
  });

  it('takes any free ports in the order given', () => {
    const free = planLab({
      dir: '/d',
      members: 5,
      ports: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((p) => 40000 + p),
      token: 't',
    });
    expect(free.members.map((m) => m.clientUrl.split(':')[2])).toEqual(['40009', '40007', '40005', '40003', '40001']);
    expect(new Set(free.members.flatMap((m) => [m.clientUrl, m.peerUrl])).size).toBe(10);
  });

  it('refuses too few ports (a bug in the caller, not user input)', () => {
    expect(() => planLab({ dir: '/d', members: 3, ports: [1, 2, 3], token: 't' })).toThrow(/need 6 ports/);
  });
});

describe('ports and names', () => {
  it('--base-port P uses P..P+2N-1', () => {
    expect(portsFromBase(2379, 3)).toEqual([2379, 2380, 2381, 2382, 2383, 2384]);
    expect(memberNames(5)).toEqual(['cp1', 'cp2', 'cp3', 'cp4', 'cp5']);
  });

  it('rejects base ports that are privileged or run past 65535', () => {
    expect(basePortProblem(2379, 5)).toBeUndefined();
    expect(basePortProblem(80, 3)).toMatch(/>= 1024/);
    expect(basePortProblem(65532, 3)).toMatch(/up to 65537/);
    expect(basePortProblem(65530, 3)).toBeUndefined();
  });

  it('lists valid names for an unknown member', () => {
    expect(unknownMemberMessage('cp9', ['cp1', 'cp2', 'cp3'])).toBe(
      'no member "cp9" in this lab (members: cp1, cp2, cp3)',
    );
  });
});

describe('lab lifeboat.yaml', () => {
  it('is a valid config: endpoints, executor lab, lab dir, control-plane nodes', () => {
    const plan = planLab({ dir: '/tmp/lab', members: 3, ports: portsFromBase(32000, 3), token: 't' });
    const config = parseConfigText(stringify(labConfigDocument(plan)), 'lifeboat.yaml');
    expect(config.etcd).toEqual({
      endpoints: ['http://127.0.0.1:32000', 'http://127.0.0.1:32002', 'http://127.0.0.1:32004'],
      executor: 'lab',
      lab: { dir: '/tmp/lab' },
    });
    expect(config.cluster?.name).toBe('lab');
    expect(config.nodes?.map((n) => [n.name, n.roles])).toEqual([
      ['cp1', ['control-plane', 'etcd']],
      ['cp2', ['control-plane', 'etcd']],
      ['cp3', ['control-plane', 'etcd']],
    ]);
    // The README's `backup etcd` and `verify --latest` need a destination.
    expect(config.backups?.to).toEqual(['/tmp/lab/backups']);
    expect(config.backups?.retention).toBeDefined();
  });
});

describe('decisions', () => {
  it('up: creates when there is no lab, refuses when any member runs, restarts a stopped lab', () => {
    expect(decideUp(undefined)).toEqual({ kind: 'create' });
    expect(decideUp([view('cp1', false), view('cp2', true), view('cp3', false)])).toEqual({
      kind: 'refuse',
      running: ['cp2'],
    });
    expect(decideUp([view('cp1', false), view('cp2', false, false), view('cp3', false)])).toEqual({
      kind: 'restart',
      start: ['cp1', 'cp3'],
      diskGone: ['cp2'],
    });
  });

  it('start: refuses a member whose disk is gone; waits for health only when quorum is reachable', () => {
    const lab = [view('cp1', false), view('cp2', false), view('cp3', true)];
    expect(decideStart('cp3', lab)).toEqual({ kind: 'already-running' });
    expect(decideStart('cp1', lab)).toEqual({ kind: 'start', wait: 'healthy' });
    expect(decideStart('cp1', [view('cp1', false, false), view('cp2', true), view('cp3', true)])).toEqual({
      kind: 'disk-gone',
    });
    // 5 members, 1 running: starting a second still leaves it short of 3.
    const five = [view('cp1', true), ...['cp2', 'cp3', 'cp4', 'cp5'].map((n) => view(n, false))];
    expect(decideStart('cp2', five)).toEqual({ kind: 'start', wait: 'listening' });
    expect(canReachQuorum(five, ['cp2', 'cp3'])).toBe(true);
    expect(() => decideStart('cp9', lab)).toThrow();
  });

  it('wipe: only a stopped member; wiping twice is harmless', () => {
    const lab = [view('cp1', true), view('cp2', false), view('cp3', false, false)];
    expect(decideWipe('cp1', lab)).toEqual({ kind: 'refuse-running' });
    expect(decideWipe('cp2', lab)).toEqual({ kind: 'wipe' });
    expect(decideWipe('cp3', lab)).toEqual({ kind: 'already-wiped' });
  });
});

describe('sample data', () => {
  const entries = [...sampleEntries(2000, 7)];

  it('is deterministic for a seed and differs across seeds', () => {
    expect([...sampleEntries(50, 7)]).toEqual(entries.slice(0, 50));
    expect([...sampleEntries(50, 8)]).not.toEqual(entries.slice(0, 50));
  });

  it('has exactly the requested number of unique keys', () => {
    expect(entries).toHaveLength(2000);
    expect(new Set(entries.map(([k]) => k)).size).toBe(2000);
    expect([...sampleEntries(0)]).toEqual([]);
  });

  it('looks like Kubernetes: /registry/<resource>/<namespace>/<name>, every kind present, pods most', () => {
    const kinds = new Map<string, number>();
    for (const [key] of entries) {
      expect(key).toMatch(
        /^\/registry\/(pods|deployments|configmaps|secrets|services\/specs|leases)\/[a-z-]+\/[a-z0-9-]+$/,
      );
      const kind = key.split('/')[2]!;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    expect([...kinds.keys()].sort()).toEqual(['configmaps', 'deployments', 'leases', 'pods', 'secrets', 'services']);
    expect(Math.max(...kinds.values())).toBe(kinds.get('pods'));
    expect(
      entries.filter(([k]) => k.startsWith('/registry/leases/')).every(([k]) => k.includes('/kube-node-lease/')),
    ).toBe(true);
  });

  it('values are JSON objects of 1-4 KiB whose metadata matches the key', () => {
    for (const [key, value] of entries) {
      expect(value.length).toBeGreaterThanOrEqual(SAMPLE_MIN_BYTES);
      expect(value.length).toBeLessThanOrEqual(SAMPLE_MAX_BYTES);
      const object = JSON.parse(value) as { kind: string; metadata: { name: string; namespace: string } };
      expect(key.endsWith(`/${object.metadata.namespace}/${object.metadata.name}`)).toBe(true);
      expect(object.kind).toMatch(/^(Pod|Deployment|ConfigMap|Secret|Service|Lease)$/);
    }
  });
});
