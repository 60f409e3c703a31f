import { describe, expect, it } from 'vitest';
import type { DumpSummary } from '../../../src/domain/mysql/dump-parser.js';
import { missingFromDump, missingPrivileges } from '../../../src/domain/mysql/privileges.js';
import { serverInfo } from '../../../src/domain/mysql/tools.js';

const held = (global: string[], shop: string[] = [], procTable = false) => ({
  global: new Set(global),
  byDatabase: new Map([['shop', new Set(shop)]]),
  procTable,
});

const db = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT'];

describe('missingPrivileges', () => {
  it('names each privilege the dump tool needs and the user lacks, in MySQL 8 words', () => {
    expect(
      missingPrivileges(serverInfo('9.7.4'), held([], ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT']), ['shop']),
    ).toEqual(['SHOW_ROUTINE (routines of other definers)']);
    expect(missingPrivileges(serverInfo('8.0.36'), held(['SHOW_ROUTINE'], ['SELECT']), ['shop', 'blog'])).toEqual([
      'SELECT (tables) on blog',
      'SHOW VIEW (views) on shop, blog',
      'TRIGGER (triggers) on shop, blog',
      'EVENT (events) on shop, blog',
    ]);
    expect(
      missingPrivileges(serverInfo('8.0.19'), held(['SHOW VIEW', 'TRIGGER', 'EVENT'], ['SELECT']), ['shop']),
    ).toEqual(['global SELECT (routines of other definers)']);
    // SHOW_ROUTINE did not exist before 8.0.20.
    expect(missingPrivileges(serverInfo('8.0.19'), held(['SHOW_ROUTINE'], db), ['shop'])).toEqual([
      'global SELECT (routines of other definers)',
    ]);
  });

  it('on MySQL, global SELECT shows every routine too (SHOW_ROUTINE is the narrower grant)', () => {
    expect(missingPrivileges(serverInfo('9.7.4'), held(['SELECT'], db), ['shop'])).toEqual([]);
    expect(missingPrivileges(serverInfo('8.0.19'), held(['SELECT'], db), ['shop'])).toEqual([]);
    expect(missingPrivileges(serverInfo('8.0.20'), held(['SHOW_ROUTINE'], db), ['shop'])).toEqual([]);
    // EXECUTE on the database lists a routine in information_schema, but mysqldump gets no body.
    expect(missingPrivileges(serverInfo('9.7.4'), held([], [...db, 'EXECUTE', 'ALTER ROUTINE']), ['shop'])).toEqual([
      'SHOW_ROUTINE (routines of other definers)',
    ]);
  });

  it('takes global grants for every database, and mysql.proc on MariaDB', () => {
    const all = ['SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'SHOW_ROUTINE'];
    expect(missingPrivileges(serverInfo('9.1.0'), held(all), ['shop', 'blog'])).toEqual([]);
    const maria = serverInfo('10.11.6-MariaDB');
    expect(missingPrivileges(maria, held([], db), ['shop'])).toEqual([
      'SELECT on mysql.proc (routines of other definers)',
    ]);
    expect(missingPrivileges(maria, held([], db, true), ['shop'])).toEqual([]);
  });
});

describe('missingFromDump', () => {
  const dump = (over: Partial<DumpSummary>): DumpSummary => ({
    databases: ['shop'],
    tables: [{ database: 'shop', table: 't', rows: 1, checksum: 'x' }],
    views: [],
    triggers: [],
    routines: [],
    events: [],
    complete: true,
    bytes: 1,
    rows: 1,
    ...over,
  });
  const server = {
    tables: ['shop.t'],
    views: ['shop.v'],
    triggers: [],
    routines: ['shop.p (procedure)', 'shop.f (function)'],
    events: [],
  };

  it('fails an object the server has and the dump lacks, naming the privilege that hides it', () => {
    expect(missingFromDump(server, dump({ views: ['shop.v'] }))).toEqual([
      'the dump lacks 2 routines the server has (shop.p (procedure), shop.f (function)): does the backup user hold SHOW_ROUTINE?',
    ]);
    expect(missingFromDump(server, dump({ views: ['shop.v'], routines: server.routines }))).toEqual([]);
    expect(
      missingFromDump(
        { ...server, tables: ['shop.t', 'shop.u'] },
        dump({ views: ['shop.v'], routines: server.routines }),
      )[0],
    ).toMatch(/lacks 1 table .*shop\.u.*SELECT/);
  });
});
