import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/adapters/config-file.js';
import { readHostFiles } from '../../../src/adapters/host/probe.js';
import { etcdFlags, etcdManifestFacts } from '../../../src/domain/init/etcd-manifest.js';
import { type HostFacts, planInitConfig, renderInitConfig } from '../../../src/domain/init/plan.js';

const facts = (over: Partial<HostFacts> = {}): HostFacts => ({
  hostname: 'cp1',
  layout: 'kubeadm',
  reboots: [],
  notes: [],
  ...over,
});

describe('the etcd static pod manifest', () => {
  it('reads name, data dir, client URLs, certificates and the initial cluster from the command', () => {
    const manifest = {
      spec: {
        containers: [
          {
            name: 'etcd',
            command: [
              'etcd',
              '--name=cp1',
              '--data-dir=/var/lib/etcd',
              '--advertise-client-urls=https://10.0.0.11:2379',
              '--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.11:2379',
              '--initial-cluster=cp1=https://10.0.0.11:2380,cp2=https://10.0.0.12:2380',
              '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt',
            ],
          },
        ],
      },
    };
    expect(etcdManifestFacts(manifest)).toEqual({
      name: 'cp1',
      dataDir: '/var/lib/etcd',
      advertiseClientUrls: ['https://10.0.0.11:2379'],
      listenClientUrls: ['https://127.0.0.1:2379', 'https://10.0.0.11:2379'],
      initialCluster: [
        { name: 'cp1', peerUrl: 'https://10.0.0.11:2380' },
        { name: 'cp2', peerUrl: 'https://10.0.0.12:2380' },
      ],
      certFile: undefined,
      keyFile: undefined,
      trustedCaFile: '/etc/kubernetes/pki/etcd/ca.crt',
    });
    expect(etcdManifestFacts({ spec: { containers: [{ name: 'nginx', command: ['nginx'] }] } })).toBeUndefined();
    expect(etcdManifestFacts(null)).toBeUndefined();
    expect(etcdFlags(['etcd', '--name', 'a', '--debug', '--x=1'])).toEqual(
      new Map([
        ['name', 'a'],
        ['debug', 'true'],
        ['x', '1'],
      ]),
    );
  });
});

describe('planInitConfig', () => {
  it('etcd members become control-plane nodes named as Kubernetes names them; workers come from Kubernetes', () => {
    const plan = planInitConfig(
      facts({
        manifest: {
          name: 'cp1',
          advertiseClientUrls: ['https://10.0.0.11:2379'],
          listenClientUrls: [],
          initialCluster: [],
        },
        members: [
          { name: 'cp1', clientURLs: ['https://10.0.0.11:2379'] },
          { name: 'etcd-b', clientURLs: ['https://10.0.0.12:2379', 'https://127.0.0.1:2379'] },
        ],
        memberNodes: { 'etcd-b': 'cp2' },
        kubeNodes: [
          { name: 'cp1', controlPlane: true },
          { name: 'cp2', controlPlane: true },
          { name: 'w1', controlPlane: false },
        ],
        reboots: [{ origin: '/etc/cron.d/reboot:1', spec: { cron: '0 4 * * 1', timezone: 'Europe/Berlin' } }],
      }),
      { backupTo: ['/var/backups/lifeboat'] },
    );
    expect(plan.thisNode).toBe('cp1');
    expect(plan.config.etcd?.endpoints).toEqual(['https://10.0.0.11:2379', 'https://10.0.0.12:2379']);
    expect(plan.config.etcd?.executor).toBe('kubeadm');
    expect(plan.config.nodes).toEqual([
      { name: 'cp1', roles: ['control-plane', 'etcd'], reboot: [{ cron: '0 4 * * 1', timezone: 'Europe/Berlin' }] },
      { name: 'cp2', roles: ['control-plane', 'etcd'], etcdMember: 'etcd-b' },
      { name: 'w1', roles: ['worker'] },
    ]);
  });

  it('without etcd answering: members from --initial-cluster, endpoints from the manifest', () => {
    const plan = planInitConfig(
      facts({
        manifest: {
          name: 'cp2',
          advertiseClientUrls: ['https://10.0.0.12:2379'],
          listenClientUrls: [],
          initialCluster: [
            { name: 'cp1', peerUrl: 'https://10.0.0.11:2380' },
            { name: 'cp2', peerUrl: 'https://10.0.0.12:2380' },
          ],
        },
      }),
      { backupTo: ['s3://b/etcd'] },
    );
    expect(plan.config.nodes?.map((n) => n.name)).toEqual(['cp1', 'cp2']);
    expect(plan.config.etcd?.endpoints).toEqual(['https://10.0.0.12:2379']);
  });

  it('a host without etcd is a worker; the rendered file loads with the real config loader', () => {
    const reboot = { cron: '@weekly', timezone: 'UTC' };
    const plan = planInitConfig(
      facts({ layout: 'unknown', hostname: 'w7', reboots: [{ origin: '/etc/crontab:9', spec: reboot }] }),
      { backupTo: ['/mnt/nfs/lifeboat'], clusterName: 'home' },
    );
    expect(plan.config.nodes).toEqual([{ name: 'w7', roles: ['worker'], reboot: [reboot] }]);
    expect(plan.config.etcd?.executor).toBeUndefined();
    const text = renderInitConfig(plan, ['header line', '', 'more']);
    expect(text.startsWith('# header line\n#\n# more\n')).toBe(true);
    expect(text).toContain('# /etc/crontab:9');
    expect(parseConfigText(text, 'lifeboat.yaml')).toEqual(plan.config);
  });
});

describe('readHostFiles on a k3s server', () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-k3s-host-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the embedded etcd TLS files, the node name from config.yaml and a user crontab that reboots', () => {
    const tls = join(root, 'var/lib/rancher/k3s/server/tls/etcd');
    mkdirSync(tls, { recursive: true });
    for (const f of ['server-ca.crt', 'client.crt', 'client.key']) writeFileSync(join(tls, f), 'x');
    mkdirSync(join(root, 'etc/rancher/k3s'), { recursive: true });
    writeFileSync(join(root, 'etc/rancher/k3s/config.yaml'), 'node-name: k3s-a\ncluster-init: true\n');
    mkdirSync(join(root, 'var/spool/cron/crontabs'), { recursive: true });
    writeFileSync(join(root, 'var/spool/cron/crontabs/root'), 'CRON_TZ=Asia/Tokyo\n30 2 * * 0 systemctl reboot\n');
    const files = readHostFiles(root);
    expect(files.layout).toBe('k3s');
    expect(files.hostname).toBe('k3s-a');
    expect(files.defaultEndpoint).toBe('https://127.0.0.1:2379');
    expect(files.tls).toEqual({
      ca: join(tls, 'server-ca.crt'),
      cert: join(tls, 'client.crt'),
      key: join(tls, 'client.key'),
    });
    expect(files.reboots).toEqual([
      { origin: join(root, 'var/spool/cron/crontabs/root:2'), spec: { cron: '30 2 * * 0', timezone: 'Asia/Tokyo' } },
    ]);
  });
});
