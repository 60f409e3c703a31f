import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ConfigKey, configKeys } from '../../src/domain/config-reference.js';
import { type BatchResult, runCliBatch } from '../helpers/cli-batch.js';

/**
 * Issue 16, "keep the fault run": bad configs generated from the config schema itself (src/domain/config.ts through
 * configKeys, so a new key is in the corpus the day it is added). One valid lifeboat.yaml holding every section;
 * then, for every key, values of the wrong type and out of range, the key missing when it is required, and an
 * unknown key beside it. Each is loaded by `lifeboat check` in-process (runCliBatch): exit 2, one line on stderr,
 * naming the file and the key, no stack trace, no hang.
 */

const VALID = {
  cluster: { name: 'home' },
  etcd: {
    endpoints: ['http://127.0.0.1:1'],
    tls: { ca: 'ca.crt', cert: 'c.crt', key: 'c.key' },
    user: 'root',
    passwordFile: 'pw',
    executor: 'lab',
    lab: { dir: 'lab' },
  },
  nodes: [
    {
      name: 'a',
      roles: ['etcd', 'control-plane'],
      etcdMember: 'm1',
      reboot: [
        { cron: '0 4 * * sun', timezone: 'UTC', downtime: '10m' },
        { calendar: 'Sun 04:00', timezone: 'UTC', downtime: '10m', randomizedDelay: '5m' },
        { window: { days: ['sat'], start: '02:00', end: '05:00', timezone: 'UTC' }, every: '7d', downtime: '10m' },
        { window: { days: ['sun'], start: '02:00', end: '05:00' }, period: '7d' },
      ],
      maintenance: {
        every: '7d',
        window: { days: ['sat'], start: '02:00', end: '05:00', timezone: 'UTC' },
        sentinel: '/run/reboot-required',
        sentinelCommand: 'true',
        rebootCommand: 'systemctl reboot',
      },
    },
  ],
  backups: {
    to: ['backups'],
    etcd: { every: '1h', verifyEvery: 1, follow: false, followEvery: '1s', followKeep: '7d' },
    retention: { keepLast: 3, hourly: 24, daily: 7, weekly: 4, monthly: 12 },
    helm: { every: '1d', retention: { keepLast: 3, hourly: 0, daily: 7, weekly: 4, monthly: 0 } },
    encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
    s3: {
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      forcePathStyle: true,
      credentialsFile: 'creds',
      timeout: '30s',
    },
  },
  maintenance: {
    lock: 'etcd',
    namespace: 'lifeboat',
    settle: '30s',
    maxRaftLag: 1000,
    requireVerifiedBackupWithin: '1d',
    maxConcurrentWorkers: 1,
    onStaleBackup: 'block',
    ttl: '30m',
    pollInterval: '15s',
    sentinel: '/run/reboot-required',
    sentinelCommand: 'true',
    rebootCommand: 'systemctl reboot',
  },
  alerts: { webhooks: [{ url: 'http://127.0.0.1:1/hook', format: 'slack' }] },
  databases: [
    {
      name: 'shop',
      url: 'mysql://backup@127.0.0.1:1/shop',
      passwordFile: 'pw',
      every: '1d',
      retention: { keepLast: 3, hourly: 0, daily: 7, weekly: 4, monthly: 0 },
      tls: { mode: 'VERIFY_CA', ca: 'ca.crt', cert: 'c.crt', key: 'c.key' },
    },
    {
      name: 'blog',
      url: 'mysql://backup@127.0.0.1:1/blog',
      passwordSecret: { namespace: 'blog', name: 'mysql', key: 'password' },
      tls: { mode: 'REQUIRED', secret: { namespace: 'blog', name: 'mysql-tls' } },
    },
  ],
  mysqlTools: {
    mysqldump: '/usr/bin/mysqldump',
    mysql: '/usr/bin/mysql',
    mysqld: '/usr/sbin/mysqld',
    mariadbDump: '/usr/bin/mariadb-dump',
    mariadb: '/usr/bin/mariadb',
    mariadbd: '/usr/sbin/mariadbd',
    mariadbInstallDb: '/usr/bin/mariadb-install-db',
  },
};

/** Wrong values for a key, by its type as the schema says it. */
function wrongValues(key: ConfigKey): unknown[] {
  const always: unknown[] = [{ nested: 1 }, [1, 2], null];
  const type = key.type;
  if (type === 'mapping') return ['text', [1], { unknownKey: 1 }];
  if (type.startsWith('list of')) {
    const items = key.hasChildren ? [[{ unknownKey: 1 }], ['text']] : [[{ nested: 1 }], [null]];
    return ['text', { nested: 1 }, ...(type.includes('at least 1') ? [[]] : []), ...items];
  }
  if (type.startsWith('duration')) return [...always, '5 parsecs', '-1s', '999999999h', '1e309s', 0, ''];
  if (type.startsWith('whole number')) return [...always, 'three', -1, 1.5, 1e300, '10', true];
  if (type === 'boolean') return [...always, 'yes', 1, 'true '];
  if (type.startsWith('one of')) return [...always, 'bogus', '', 1];
  // Strings: some are checked for shape (URLs, durations, cron, zones, times of day), all refuse the wrong type.
  return [...always, 12, true, ...(type.includes('not empty') ? [''] : []), ...shapeValues(key.path)];
}

/** Strings with a shape of their own, by key name. */
function shapeValues(path: string): unknown[] {
  const name = path.slice(path.lastIndexOf('.') + 1);
  const shapes: Record<string, unknown[]> = {
    cron: ['61 * * * *', '* * *', '*/0 * * * *', '5-1 * * * *', '@every 1h', 'x'.repeat(5000)],
    calendar: ['Funday 04:00', '*-*-32 00:00', '25:00', 'x'.repeat(5000)],
    timezone: ['Mars/Olympus', '../../etc/passwd', ''],
    downtime: ['5 parsecs', '0s', '999999999h'],
    randomizedDelay: ['5 parsecs', '999999999h'],
    start: ['24:00', '9:00', '12:60', ''],
    end: ['24:00', 'noon'],
    every: ['5 parsecs', '1ms', '999999999h'],
    timeout: ['5 parsecs', '1ms', '999999999h'],
    endpoint: ['ftp://x', 'not a url', ''],
    url: ['ftp://x', 'not a url', 'mysql://', ''],
    namespace: ['Not_A_Namespace', '-x', 'x'.repeat(64)],
    recipients: [],
    mode: ['SOMETIMES', ''],
    name: ['', '\u0000'],
  };
  return shapes[name] ?? [];
}

type Path = Array<string | number>;

/** Where a schema key sits in VALID: `nodes[].reboot[].calendar` is nodes[0].reboot[1].calendar. */
function locate(keyPath: string): Path | undefined {
  const parts = keyPath.split('.');
  const found = (value: unknown, i: number, path: Path): Path | undefined => {
    if (i === parts.length) return path;
    const raw = parts[i]!;
    const list = raw.endsWith('[]');
    const name = list ? raw.slice(0, -2) : raw;
    if (value === null || typeof value !== 'object' || !(name in value)) return undefined;
    const next = (value as Record<string, unknown>)[name];
    if (!list) return found(next, i + 1, [...path, name]);
    if (!Array.isArray(next)) return undefined;
    for (let j = 0; j < next.length; j++) {
      const hit = found(next[j], i + 1, [...path, name, j]);
      if (hit) return hit;
    }
    return undefined;
  };
  return found(VALID, 0, []);
}

function withValue(path: Path, value: unknown, remove = false): unknown {
  const copy = structuredClone(VALID) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) at = at[step] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = value;
  return copy;
}

interface Case {
  what: string;
  /** The key the error line must name (its last segment). */
  names: string;
  text: string;
}

function corpus(): Case[] {
  const cases: Case[] = [];
  const keys = configKeys();
  for (const key of keys) {
    const path = locate(key.path);
    if (!path) throw new Error(`VALID has no ${key.path}: add it so the corpus covers it`);
    const name = key.path.slice(key.path.lastIndexOf('.') + 1).replace('[]', '');
    for (const value of wrongValues(key)) {
      cases.push({
        what: `${key.path}: ${JSON.stringify(value)?.slice(0, 40)}`,
        names: name,
        text: stringify(withValue(path, value)),
      });
    }
    if (key.required)
      cases.push({ what: `${key.path} missing`, names: name, text: stringify(withValue(path, 0, true)) });
  }
  // An unknown key beside each mapping's keys (a typo of a real one).
  const parents = new Set(keys.map((k) => k.path.slice(0, Math.max(0, k.path.lastIndexOf('.')))));
  for (const parent of parents) {
    const where = parent === '' ? [] : locate(parent);
    if (!where) continue;
    const typo = `${parent.split('.').pop()?.replace('[]', '') || 'top'}Typo`;
    cases.push({ what: `${parent || '(top)'}.${typo}`, names: typo, text: stringify(withValue([...where, typo], 1)) });
  }
  // Not YAML at all, or YAML of the wrong shape.
  const raw: Array<[string, string]> = [
    ['tabs', 'etcd:\n\tendpoints: [http://a:2379]\n'],
    ['unclosed flow', 'etcd: { endpoints: [http://a:2379\n'],
    ['a list at the top', '- etcd\n- nodes\n'],
    ['a scalar at the top', 'lifeboat\n'],
    ['duplicate keys', 'etcd: { endpoints: [http://a:2379] }\netcd: { endpoints: [http://b:2379] }\n'],
    [
      'an alias bomb',
      `a: &a [x,x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n')}\n`,
    ],
    ['a custom tag', 'etcd: !!js/function "function () {}"\n'],
    ['a UTF-16 file', '\ufeffetcd: 1\n'],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}\n`],
    ['a duplicate node', 'nodes:\n  - { name: a, roles: [etcd] }\n  - { name: a, roles: [etcd] }\n'],
  ];
  for (const [what, text] of raw) cases.push({ what, names: '', text });
  return cases;
}

let dir: string;
let cases: Case[];
let results: BatchResult[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-configs-'));
  cases = corpus();
  const argv = cases.map((c, i) => {
    const file = join(dir, `c${i}.yaml`);
    writeFileSync(file, c.text);
    return ['-c', file, 'check', '--days', '1'];
  });
  const valid = join(dir, 'valid.yaml');
  writeFileSync(valid, stringify(VALID));
  argv.push(['-c', valid, 'check', '--days', '1']);
  results = await runCliBatch(argv, { cwd: dir, deadlineMs: 20_000 });
}, 300_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every config key, given wrong values', () => {
  it('the valid config the corpus is made from loads', () => {
    const valid = results[results.length - 1]!;
    expect(valid.stderr).toBe('');
    expect([0, 1]).toContain(valid.code);
    expect(cases.length).toBeGreaterThan(400);
  });

  it('each is refused with one line naming the file and the key: exit 2, no stack trace, no hang', () => {
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const r = results[i]!;
      const lines = r.stderr.trimEnd().split('\n');
      if (r.code !== 2) bad.push(`${c.what}: exit ${r.code}: ${r.stderr.slice(0, 200)}${r.stdout.slice(0, 100)}`);
      else if (lines.length !== 1 || !lines[0]!.startsWith('lifeboat: error: '))
        bad.push(`${c.what}: ${lines.length} lines: ${r.stderr.slice(0, 300)}`);
      else if (!lines[0]!.includes(`c${i}.yaml`)) bad.push(`${c.what}: the file is not named: ${lines[0]}`);
      else if (c.names && !lines[0]!.includes(c.names)) bad.push(`${c.what}: "${c.names}" is not named: ${lines[0]}`);
    });
    expect(bad).toEqual([]);
  });
});
