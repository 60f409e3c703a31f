import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/adapters/config-file.js';
import { formatDuration, parseDuration } from '../../src/domain/duration.js';
import { UserError } from '../../src/errors.js';

function errorOf(text: string): string {
  try {
    parseConfigText(text, 'lifeboat.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a config error');
}

describe('lifeboat.yaml', () => {
  it('accepts the docs/ARCHITECTURE.md example', () => {
    const config = parseConfigText(
      `cluster: { name: home }
etcd:
  endpoints: [https://10.0.0.11:2379, https://10.0.0.12:2379, https://10.0.0.13:2379]
  tls: { ca: /etc/kubernetes/pki/etcd/ca.crt, cert: /c.crt, key: /c.key }
  executor: kubeadm
nodes:
  - name: cp1
    roles: [control-plane, etcd]
    reboot:
      - cron: "0 4 * * 1"
        timezone: Asia/Tokyo
        downtime: 10m
      - calendar: "Mon *-*-* 04:00:00"
        randomizedDelay: 30m
  - name: w1
    roles: [worker]
    reboot: [{ window: { days: [sat, sun], start: "03:00", end: "05:00", timezone: UTC }, every: 7d }]
backups:
  to: [ /mnt/nfs/lifeboat, s3://bucket/prefix ]
  etcd: { every: 1h }
  retention: { keepLast: 24, daily: 7, weekly: 4, monthly: 6 }
maintenance: { lock: etcd, settle: 2m, maxRaftLag: 1000, requireVerifiedBackupWithin: 24h }
`,
      'lifeboat.yaml',
    );
    expect(config.etcd?.endpoints).toHaveLength(3);
    expect(config.nodes?.[0]?.reboot).toHaveLength(2);
  });

  it('names file, line, column and key path for an unknown key', () => {
    expect(errorOf('etcd:\n  endpoints: [http://a:2379]\n  endpoint: x\n')).toBe(
      'lifeboat.yaml:3:3: etcd: unknown key "endpoint"',
    );
    expect(errorOf('clustr: { name: x }\n')).toMatch(/^lifeboat.yaml:1:1: unknown key "clustr"/);
  });

  it('points at the bad value', () => {
    expect(errorOf('etcd:\n  endpoints:\n    - http://a:2379\n    - not a url\n')).toBe(
      'lifeboat.yaml:4:7: etcd.endpoints[1]: not an etcd client URL (example: https://10.0.0.11:2379)',
    );
    expect(
      errorOf(
        'nodes:\n  - name: cp1\n    roles: [etcd]\n    reboot:\n      - cron: "0 4 * * 1"\n        timezone: Mars/Base\n',
      ),
    ).toBe('lifeboat.yaml:6:19: nodes[0].reboot[0].timezone: not an IANA time zone (examples: UTC, Asia/Tokyo)');
    expect(errorOf('nodes:\n  - name: a\n    roles: [boss]\n')).toMatch(
      /^lifeboat.yaml:3:13: nodes\[0\]\.roles\[0\]: /,
    );
    expect(errorOf('nodes:\n  - name: a\n    roles: [etcd]\n  - name: a\n    roles: [etcd]\n')).toMatch(
      /^lifeboat.yaml:4:11: nodes\[1\]\.name: duplicate node name "a"/,
    );
  });

  it('explains a reboot entry by the kind it came closest to (cron, calendar or window)', () => {
    const node = 'nodes:\n  - name: a\n    roles: [etcd]\n    reboot:\n';
    expect(errorOf(`${node}      - cron: "0 4 * * *"\n        timezon: UTC\n`)).toBe(
      'lifeboat.yaml:6:9: nodes[0].reboot[0]: unknown key "timezon"',
    );
    expect(errorOf(`${node}      - cron: "61 4 * * *"\n`)).toBe(
      'lifeboat.yaml:5:15: nodes[0].reboot[0].cron: invalid minute field "61" (0-59)',
    );
    expect(errorOf(`${node}      - window: { days: [sat], start: "3:00", end: "05:00" }\n`)).toBe(
      'lifeboat.yaml:5:39: nodes[0].reboot[0].window.start: not a time of day HH:MM (example: 03:00)',
    );
    expect(errorOf(`${node}      - { every: 7d }\n`)).toBe('lifeboat.yaml:5:9: nodes[0].reboot[0].window: is required');
  });

  it('says which key is missing, too short or out of range', () => {
    expect(errorOf('nodes:\n  - roles: [etcd]\n')).toBe('lifeboat.yaml:2:5: nodes[0].name: is required');
    expect(errorOf('nodes:\n  - name: a\n    roles: []\n')).toMatch(/^lifeboat.yaml:3:12: nodes\[0\]\.roles: .*>=1/);
    expect(errorOf('maintenance: { maxConcurrentWorkers: 0 }\n')).toMatch(
      /^lifeboat.yaml:1:38: maintenance\.maxConcurrentWorkers: .*>=1/,
    );
    expect(errorOf('backups:\n  to: [/x]\n  encryption: { recipients: [AGE-SECRET-KEY-1ABC] }\n')).toMatch(
      /^lifeboat.yaml:3:30: backups\.encryption\.recipients\[0\]: this is an age SECRET key/,
    );
    expect(errorOf('nodes: 3\n')).toMatch(/^lifeboat.yaml:1:8: nodes: .*Array/);
  });

  it('takes a retention policy per kind: etcd snapshots, each database, Helm captures', () => {
    const config = parseConfigText(
      `backups:
  to: [/b]
  retention: { keepLast: 24 }
  helm: { every: 24h, retention: { daily: 7 } }
databases:
  - { name: shop, url: "mysql://backup@db/shop", retention: { keepLast: 2, monthly: 6 } }
`,
      'lifeboat.yaml',
    );
    expect(config.backups?.helm?.retention).toEqual({ daily: 7 });
    expect(config.databases?.[0]?.retention).toEqual({ keepLast: 2, monthly: 6 });
    expect(errorOf('databases:\n  - { name: a, url: "mysql://u@h/a", retention: { yearly: 1 } }\n')).toMatch(
      /^lifeboat.yaml:2:51: databases\[0\]\.retention: unknown key "yearly"/,
    );
  });

  it('refuses a retention policy that keeps nothing, for every kind (issue 16, finding 1)', () => {
    expect(errorOf('backups:\n  to: [/b]\n  retention: { keepLast: 0 }\n')).toMatch(
      /^lifeboat.yaml:3:14: backups\.retention: this policy keeps no backup at all/,
    );
    expect(errorOf('backups:\n  to: [/b]\n  helm: { retention: { daily: 0, weekly: 0 } }\n')).toMatch(
      /backups\.helm\.retention: this policy keeps no backup at all/,
    );
    expect(errorOf('databases:\n  - { name: a, url: "mysql://u@h/a", retention: { keepLast: 0 } }\n')).toMatch(
      /databases\[0\]\.retention: this policy keeps no backup at all/,
    );
    expect(() => parseConfigText('backups:\n  to: [/b]\n  retention: { keepLast: 0, daily: 7 }\n', 'x')).not.toThrow();
  });

  it('reports malformed YAML with its position', () => {
    expect(errorOf('etcd:\n  endpoints: [http://a:2379\n')).toMatch(/^lifeboat.yaml:\d+:\d+: invalid YAML: /);
    expect(errorOf('a: 1\na: 2\n')).toMatch(/^lifeboat.yaml:2:1: invalid YAML: /);
  });

  it('parses durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('m10')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });
});
