import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/adapters/config-file.js';
import { etcdPod, node } from '../fixtures/kube-api/cluster.js';
import { expectOneLineUsageError, json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { kubeadmEtcdManifest } from '../helpers/kubeadm-sim.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/**
 * A kubeadm control-plane host under a root prefix: the etcd PKI (made with openssl, named as kubeadm names it), the
 * etcd static pod manifest as kubeadm writes it (the kubeadm node simulator's, test/helpers/kubeadm-sim.ts), pointing
 * at a real TLS etcd cluster, and the incident's reboot cron line plus a systemd reboot timer.
 */
describe('lifeboat init on a simulated kubeadm control-plane host', () => {
  let pki: TestPki;
  let cluster: TestCluster;
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-init-host-'));
  const output = join(root, 'lifeboat.yaml');

  beforeAll(async () => {
    pki = makeTestPki();
    cluster = await startTestCluster(3, {
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey, trustedCaFile: pki.ca },
    });
    const etcdPki = join(root, 'etc/kubernetes/pki/etcd');
    mkdirSync(etcdPki, { recursive: true });
    for (const [from, to] of [
      [pki.ca, 'ca.crt'],
      [pki.serverCert, 'server.crt'],
      [pki.serverKey, 'server.key'],
      [pki.clientCert, 'healthcheck-client.crt'],
      [pki.clientKey, 'healthcheck-client.key'],
    ] as const) {
      cpSync(from, join(etcdPki, to));
    }
    const [first] = cluster.members;
    mkdirSync(join(root, 'etc/kubernetes/manifests'), { recursive: true });
    writeFileSync(
      join(root, 'etc/kubernetes/manifests/etcd.yaml'),
      kubeadmEtcdManifest({
        name: first!.spec.name,
        ip: '10.0.0.11',
        clientUrl: cluster.endpoints[0]!,
        initialCluster: `${first!.spec.name}=https://10.0.0.11:2380`,
        join: false,
        version: '3.5.15',
      }),
    );
    writeFileSync(join(root, 'etc/hostname'), `${first!.spec.name}\n`);
    mkdirSync(join(root, 'usr/share/zoneinfo/Europe'), { recursive: true });
    symlinkSync('/usr/share/zoneinfo/Europe/Berlin', join(root, 'etc/localtime'));
    mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
    writeFileSync(join(root, 'etc/cron.d/reboot'), '# weekly reboot\n0 4 * * 1 root /sbin/shutdown -r now\n');
    writeFileSync(join(root, 'etc/cron.d/logrotate'), '0 3 * * * root /usr/sbin/logrotate /etc/logrotate.conf\n');
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(
      join(root, 'etc/systemd/system/monthly-reboot.timer'),
      '[Timer]\nOnCalendar=*-*-01 05:00:00\nRandomizedDelaySec=30m\n\n[Install]\nWantedBy=timers.target\n',
    );
    writeFileSync(
      join(root, 'etc/systemd/system/monthly-reboot.service'),
      '[Service]\nType=oneshot\nExecStart=/usr/bin/systemctl reboot\n',
    );
  });
  afterAll(async () => {
    await cluster?.destroy();
    pki?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a commented config from the PKI, the manifest, etcd and the reboot schedules; check and doctor run on it', async () => {
    const result = await runCli(['init', '--root', root, '--output', output, '--json'], { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(0);
    const report = json<{
      layout: string;
      members: string[];
      nodes: string[];
      thisNode: string;
      reboots: Array<{ origin: string }>;
      check: { errors: number };
      doctor: { state: string; exitCode: number; findings: Array<{ code: string }> };
    }>(result);
    const names = cluster.members.map((m) => m.spec.name);
    expect(report.layout).toBe('kubeadm');
    expect(report.members.sort()).toEqual([...names].sort());
    expect(report.thisNode).toBe(names[0]);
    expect(report.reboots.map((r) => r.origin)).toEqual([
      join(root, 'etc/cron.d/reboot:2'),
      join(root, 'etc/systemd/system/monthly-reboot.timer:2'),
    ]);
    // One member's own schedule cannot break quorum; the lone local backup directory has nothing in it yet.
    expect(report.check.errors).toBe(0);
    expect(report.doctor.state).toBe('healthy');
    expect(report.doctor.findings.map((f) => f.code)).toEqual(['no-verified-backup', 'backups-on-cluster-only']);
    expect(statSync(output).mode & 0o777).toBe(0o600);

    const { config } = loadConfigFile(output);
    expect(config.etcd).toEqual({
      endpoints: expect.arrayContaining(cluster.endpoints),
      tls: {
        ca: join(root, 'etc/kubernetes/pki/etcd/ca.crt'),
        cert: join(root, 'etc/kubernetes/pki/etcd/healthcheck-client.crt'),
        key: join(root, 'etc/kubernetes/pki/etcd/healthcheck-client.key'),
      },
      executor: 'kubeadm',
    });
    expect(config.etcd?.endpoints).toHaveLength(3);
    expect(config.nodes?.map((n) => n.name).sort()).toEqual([...names].sort());
    expect(config.nodes?.find((n) => n.name === names[0])?.reboot).toEqual([
      { cron: '0 4 * * 1', timezone: 'Europe/Berlin' },
      { calendar: '*-*-01 05:00:00', timezone: 'Europe/Berlin', randomizedDelay: '30m' },
    ]);
    expect(config.backups).toMatchObject({ to: [join(root, 'var/backups/lifeboat')], etcd: { every: '1h' } });
    expect(config.backups?.retention).toBeDefined();

    const text = readFileSync(output, 'utf8');
    expect(text).toMatch(/^# Written by `lifeboat init`/);
    expect(text).toContain(`# ${join(root, 'etc/cron.d/reboot:2')}`);
    expect(text).toMatch(/# Destinations: a directory/);
    expect(text).toMatch(/#\s+encryption: \{ recipients: \[age1/);

    // The file works with the commands as they are.
    const check = await runCli(['-c', output, 'check']);
    expect(check.code, check.stderr).toBe(0);
    const doctor = await runCli(['-c', output, 'doctor', '--json']);
    expect(doctor.code).toBe(1);
    expect(json<{ state: string }>(doctor).state).toBe('healthy');
    const backup = await runCli(['-c', output, 'backup', 'etcd'], { timeoutMs: 120_000 });
    expect(backup.code, backup.stderr).toBe(0);
  });

  it('names nodes as Kubernetes does when the API answers, and adds its workers', async () => {
    const kube = await startKubeApi();
    try {
      for (const [i, m] of cluster.members.entries()) {
        kube.create(node(`node-${i + 1}`, `10.1.1.${i + 1}`, true));
        kube.create(etcdPod(`node-${i + 1}`, `10.1.1.${i + 1}`, m.spec.name));
      }
      kube.create(node('w1', '10.1.2.1', false));
      const out = join(root, 'with-kube.yaml');
      const result = await runCli(['init', '--root', root, '-o', out, '--kubeconfig', kube.kubeconfig, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const { config } = loadConfigFile(out);
      expect(config.nodes?.map((n) => [n.name, n.roles, n.etcdMember])).toEqual([
        ...cluster.members.map((m, i) => [`node-${i + 1}`, ['control-plane', 'etcd'], m.spec.name]),
        ['w1', ['worker'], undefined],
      ]);
      // This host's reboot rules go to its own node.
      expect(config.nodes?.[0]?.reboot).toHaveLength(2);
    } finally {
      await kube.close();
    }
  });

  it('never replaces an existing file without --force', async () => {
    const before = readFileSync(output, 'utf8');
    expectOneLineUsageError(await runCli(['init', '--root', root, '--output', output]), /exists; not replacing it/);
    expect(readFileSync(output, 'utf8')).toBe(before);
    const forced = await runCli(['init', '--root', root, '--output', output, '--force', '--cluster-name', 'home']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^wrote /);
    expect(forced.stdout).toMatch(/doctor: etcd is HEALTHY/);
    expect(loadConfigFile(output).config.cluster?.name).toBe('home');
  });
});
