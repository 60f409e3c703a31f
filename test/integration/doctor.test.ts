import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { etcdPod } from '../fixtures/kube-api/cluster.js';
import { json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startKubeApi } from '../helpers/kube-api.js';

interface DoctorJson {
  state: string;
  margin: number;
  votingMembers: number;
  reachableVoting: number;
  quorum: number;
  members: Array<{ name: string; reachable: boolean; leader: boolean; endpoint: string }>;
  findings: Array<{ severity: string; code: string; message: string; members?: string[] }>;
  plans: Array<{ name: string; dataLoss: string; steps: string[] }>;
}

describe('status and doctor against a real 3-member etcd cluster', () => {
  let cluster: TestCluster;
  let endpoints: string;

  beforeAll(async () => {
    cluster = await startTestCluster(3);
    endpoints = cluster.endpoints.join(',');
    const client = new EtcdEndpointClient(cluster.endpoints[0]!, {});
    await client.put('/registry/pods/default/web-1', '{"kind":"Pod"}');
    client.close();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('healthy: exit 0, margin 1, a leader among the members', async () => {
    const doctor = await runCli(['--endpoints', endpoints, 'doctor', '--json']);
    expect(doctor.code).toBe(0);
    const d = json<DoctorJson>(doctor);
    expect(d).toMatchObject({ state: 'healthy', votingMembers: 3, reachableVoting: 3, quorum: 2, margin: 1 });
    expect(d.members.filter((m) => m.leader)).toHaveLength(1);
    const status = await runCli(['--endpoints', endpoints, 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/HEALTHY/);
    for (const m of cluster.members) expect(status.stdout).toContain(m.spec.name);
  });

  it('status shows the Kubernetes node of each member when a cluster answers', async () => {
    const kube = await startKubeApi();
    try {
      for (const [i, member] of ['m1', 'm2', 'm3'].entries())
        kube.create(etcdPod(`node-${i + 1}`, `10.1.1.${i + 1}`, member));
      const result = await runCli(['--endpoints', endpoints, 'status', '--json', '--kubeconfig', kube.kubeconfig]);
      expect(result.code).toBe(0);
      const members = json<{ members: Array<{ name: string; node: string | null }> }>(result).members;
      expect(members.map((m) => [m.name, m.node])).toEqual([
        ['m1', 'node-1'],
        ['m2', 'node-2'],
        ['m3', 'node-3'],
      ]);
      const human = await runCli(['--endpoints', endpoints, 'status', '--kubeconfig', kube.kubeconfig]);
      expect(human.stdout).toMatch(/NAME\s+NODE\s+ENDPOINT/);
    } finally {
      await kube.close();
    }
  });

  it('a frozen member (SIGSTOP) cannot stall doctor: answer in under 5 s', async () => {
    cluster.freeze('m3');
    try {
      const doctor = await runCli(['--endpoints', endpoints, 'doctor', '--json']);
      const d = json<DoctorJson>(doctor);
      expect(doctor.ms).toBeLessThan(5000);
      expect(d.members.find((m) => m.name === 'm3')?.reachable).toBe(false);
      expect(doctor.code).toBe(1);
    } finally {
      cluster.thaw('m3');
    }
  });

  it('one member killed: degraded, exit 1, margin 0, finding names it', async () => {
    await cluster.kill('m2');
    const doctor = await runCli(['--endpoints', endpoints, 'doctor', '--json']);
    expect(doctor.code).toBe(1);
    const d = json<DoctorJson>(doctor);
    expect(d.state).toBe('degraded');
    expect(d.margin).toBe(0);
    const dead = d.findings.find((f) => f.code === 'member-unreachable');
    expect(dead?.members).toEqual(['m2']);
    expect(dead?.message).toContain('m2');
    expect(d.plans[0]?.name).toBe('restart');
  });

  it('two members killed: quorum-lost, exit 3; serializable reads work while writes fail', async () => {
    await cluster.kill('m3');
    const doctor = await runCli(['--endpoints', endpoints, 'doctor']);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/QUORUM-LOST/);
    expect(doctor.stdout).toMatch(/etcd has lost quorum: 1 of 3 voting members answer, 2 needed for quorum/);
    expect(doctor.stdout).toMatch(/no change takes effect/);
    const d = json<DoctorJson>(await runCli(['--endpoints', endpoints, 'doctor', '--json']));
    expect(d).toMatchObject({ state: 'quorum-lost', margin: -1, reachableVoting: 1 });
    // No executor and no backup store: the disks are unknown (and the plans say so), no snapshot is known.
    expect(d.plans.map((p) => p.name)).toEqual(['restart', 'survivor']);
    expect(d.plans[0]!.steps.join('\n')).toMatch(/if its disk survived \(unknown/);
    expect(d.plans[0]!.steps.join('\n')).not.toMatch(/do not wipe/);

    // The symptom the message describes, proven on the live survivor.
    const survivor = new EtcdEndpointClient(cluster.members[0]!.spec.clientUrl, {});
    try {
      expect(await survivor.get('/registry/pods/default/web-1', { serializable: true, deadlineMs: 2000 })).toBe(
        '{"kind":"Pod"}',
      );
      await expect(survivor.put('/registry/pods/default/web-2', 'x', { deadlineMs: 1500 })).rejects.toThrow();
    } finally {
      survivor.close();
    }
  });

  it('nothing answers: unreachable, exit 3 for status and doctor', async () => {
    await cluster.kill('m1');
    const status = await runCli(['--endpoints', endpoints, 'status', '--json', '--timeout', '500']);
    expect(status.code).toBe(3);
    expect(json<DoctorJson>(status).state).toBe('unreachable');
    const doctor = await runCli(['--endpoints', endpoints, 'doctor', '--timeout', '500']);
    expect(doctor.code).toBe(3);
    expect(doctor.stdout).toMatch(/No etcd endpoint answered/);
  });
});
