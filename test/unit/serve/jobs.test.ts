import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/adapters/config-file.js';
import { CommandContext } from '../../../src/commands/context.js';
import { jobsFromConfig } from '../../../src/server/jobs.js';

function jobs(yaml: string) {
  const loaded = { path: '/etc/lifeboat/lifeboat.yaml', config: parseConfigText(yaml, 'lifeboat.yaml') };
  return jobsFromConfig({ ctx: new CommandContext({}), loaded, now: () => 0 });
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
