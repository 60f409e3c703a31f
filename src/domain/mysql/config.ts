import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { parseMysqlUrl } from './url.js';

/**
 * `databases:` in lifeboat.yaml: the MySQL/MariaDB databases the scheduler dumps (and `lifeboat backup mysql NAME`
 * picks by name). Passwords are never in the file: a password file, a Kubernetes Secret, or MYSQL_PWD.
 *
 *   databases:
 *     - name: shop
 *       url: mysql://backup@10.0.0.20:3306/shop
 *       passwordSecret: { namespace: shop, name: shop-mysql, key: mysql-password }
 *       every: 6h
 */

const mysqlUrl = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const parsed = parseMysqlUrl(text);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

export const databaseSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only (it names backup files)'),
    url: mysqlUrl,
    passwordFile: z.string().min(1).optional(),
    passwordSecret: z
      .strictObject({ namespace: z.string().min(1), name: z.string().min(1), key: z.string().min(1) })
      .optional(),
    every: z
      .string()
      .refine((s) => parseDuration(s) !== undefined, { message: 'not a duration (examples: 30s, 10m, 1h30m, 7d)' })
      .optional(),
  })
  .refine((d) => !(d.passwordFile && d.passwordSecret), { message: 'give passwordFile or passwordSecret, not both' });

export const databasesSchema = z.array(databaseSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((d, i) => {
    if (seen.has(d.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate database name "${d.name}"` });
    seen.add(d.name);
  });
});

export type DatabaseConfig = z.infer<typeof databaseSchema>;

/** How often a configured database is dumped when `every` is not given. */
export const DEFAULT_DATABASE_EVERY = '24h';
