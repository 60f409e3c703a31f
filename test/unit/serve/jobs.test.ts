import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/adapters/config-file.js';
import { readDumps } from '../../../src/app/prune.js';
import { Settings } from '../../../src/app/settings.js';
import { dumpName } from '../../../src/domain/mysql/manifest.js';
import { jobsFromConfig, pruneAfter } from '../../../src/server/jobs.js';

function jobs(yaml: string) {
  const loaded = { path: '/etc/lifeboat/lifeboat.yaml', config: parseConfigText(yaml, 'lifeboat.yaml') };
  return jobsFromConfig({ settings: new Settings({}), loaded, now: () => 0 });
}

describe('jobsFromConfig', () => {
  it('schedules etcd backups and each configured database, with their intervals', () => {
    const list = jobs(`
backups: { to: [/srv/backups], etcd: { every: 1h, verifyEvery: 6 } }
databases:
  - { name: shop, url: "mysql://backup@10.0.0.20:3306/shop", every: 6h }
  - { name: blog, url: "mysql://backup@10.0.0.21/blog" }
`);
    expect(list.map((j) => [j.name, j.everyMs])).toEqual([
      ['etcd', 3_600_000],
      ['mysql/shop', 6 * 3_600_000],
      ['mysql/blog', 24 * 3_600_000],
    ]);
  });

  it('schedules nothing without backups.etcd.every, and keys change only with the schedule', () => {
    expect(jobs('backups: { to: [/srv/backups] }\n')).toEqual([]);
    const a = jobs('backups: { to: [/srv/a], etcd: { every: 1h } }\n')[0]!;
    const b = jobs('backups: { to: [/srv/a], etcd: { every: 1h } }\ncluster: { name: x }\n')[0]!;
    const c = jobs('backups: { to: [/srv/b], etcd: { every: 1h } }\n')[0]!;
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
  });
});

describe('pruneAfter (serve, after a dump or capture)', () => {
  const context = (yaml: string) => ({
    settings: new Settings({}),
    loaded: { path: '/etc/lifeboat/lifeboat.yaml', config: parseConfigText(yaml, 'lifeboat.yaml') },
    now: () => Date.UTC(2026, 10, 27),
  });

  it('applies the policy to the primary destination and says how many went', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-prune-after-'));
    try {
      const older = dumpName(Date.UTC(2026, 10, 25), 'shop', false);
      const newer = dumpName(Date.UTC(2026, 10, 26), 'shop', false);
      mkdirSync(join(dir, 'mysql'));
      for (const name of [older, newer]) writeFileSync(join(dir, name), 'dump');
      const jc = context(`backups: { to: [${dir}] }\n`);
      expect(await pruneAfter(jc, { keepLast: 1 }, readDumps)).toEqual({ count: 1, text: 'pruned 1' });
      expect(existsSync(join(dir, older))).toBe(false);
      expect(existsSync(join(dir, newer))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a prune that fails instead of throwing: the backup it follows stays a success', async () => {
    const jc = context(
      'backups:\n  to: [s3://bucket/x]\n  s3: { endpoint: "http://127.0.0.1:1", region: us-east-1 }\n',
    );
    const result = await pruneAfter(jc, { keepLast: 1 }, readDumps);
    expect(result.count).toBeUndefined();
    expect(result.text).toMatch(/^prune failed: /);
  });
});
