import { describe, expect, it } from 'vitest';
import { guideFor } from '../../../src/domain/mysql/guide.js';

describe('guide mysql per engine', () => {
  it('gives MySQL 8/9 ibd2sdi and self-upgrade, MariaDB .frm and mariadb-upgrade, and both labelled without an engine', () => {
    const mysql = JSON.stringify(guideFor('mysql'));
    expect(mysql).toMatch(/ibd2sdi/);
    expect(mysql).toMatch(/IMPORT TABLESPACE/);
    expect(mysql).toMatch(/same chart onto the surviving PVC/);
    expect(mysql).not.toMatch(/mysqlfrm|mariadb-upgrade|MARIADB:/);
    const maria = JSON.stringify(guideFor('mariadb'));
    expect(maria).toMatch(/mysqlfrm/);
    expect(maria).toMatch(/mariadb-upgrade/);
    expect(maria).not.toMatch(/ibd2sdi|MYSQL:/);
    const both = guideFor();
    expect(both['raw-files'].steps.join('\n')).toMatch(/^MySQL 8\/9: .*ibd2sdi[\s\S]*^MariaDB: .*\.frm/m);
  });
});
