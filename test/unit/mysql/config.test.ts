import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/domain/config.js';
import { issueKeys } from '../../../src/domain/validation.js';

describe('lifeboat.yaml databases', () => {
  it('accepts entries with a URL, a password source and an interval', () => {
    const r = v.safeParse(configSchema, {
      databases: [
        {
          name: 'shop',
          url: 'mysql://backup@10.0.0.20:3306/shop',
          passwordSecret: { namespace: 'shop', name: 's', key: 'k' },
          every: '6h',
        },
        { name: 'blog', url: 'mysql://backup@db', passwordFile: '/etc/lifeboat/blog.pw' },
      ],
    });
    expect(r.success).toBe(true);
  });

  it('names what is wrong: a password in the URL, a bad interval, duplicates, unknown keys', () => {
    const issues = (databases: unknown[]) => {
      const r = v.safeParse(configSchema, { databases });
      return r.success ? [] : r.issues.map((i) => `${issueKeys(i).join('.')}: ${i.message}`);
    };
    expect(issues([{ name: 'x', url: 'mysql://u:pw@h/db' }])[0]).toMatch(/^databases\.0\.url: refusing a password/);
    expect(issues([{ name: 'x', url: 'mysql://u@h', every: 'often' }])[0]).toMatch(
      /^databases\.0\.every: not a duration/,
    );
    expect(
      issues([
        { name: 'x', url: 'mysql://u@h' },
        { name: 'x', url: 'mysql://u@h2' },
      ])[0],
    ).toMatch(/^databases\.1\.name: duplicate/);
    expect(issues([{ name: 'x', url: 'mysql://u@h', password: 'no' }])[0]).toMatch(/password/);
    expect(issues([{ name: 'a b', url: 'mysql://u@h' }])[0]).toMatch(/^databases\.0\.name/);
  });
});
