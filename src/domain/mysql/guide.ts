/**
 * `lifeboat guide mysql`: how to get a MySQL/MariaDB database back, chosen by what is left. Written for the night it
 * is needed (INCIDENT.md, moments 6-7): the path that worked there comes first, and the trap that cost two weeks is
 * named. Data, not actions; the command renders it.
 */

export type Have = 'pvc' | 'dump' | 'raw-files';
export const HAVES: readonly Have[] = ['pvc', 'dump', 'raw-files'];

export interface GuidePath {
  have: Have;
  title: string;
  /** When this path applies, in one sentence. */
  when: string;
  steps: string[];
  /** What not to do. */
  never: string[];
}

const PVC: GuidePath = {
  have: 'pvc',
  title: 'The old data directory survived (a PVC, an NFS export, a disk)',
  when: 'The whole data directory is still there: ibdata1, the ib_logfile*/redo files, mysql/ and one folder per database.',
  steps: [
    'Stop anything that could write to it. Take a copy of the whole directory first (cp -a or a volume snapshot) and work on the copy if you can.',
    'Find the exact chart and image the database ran with: `helm get values RELEASE -n NS` and `helm get manifest RELEASE -n NS | grep image:` (or `lifeboat backup helm` output). Same chart version, same image tag.',
    'Redeploy that same chart with the same values onto the surviving volume: bind the old PV to the new claim (same claim name, or a PV with claimRef pointing at it, persistentVolumeReclaimPolicy: Retain), so the server starts on the old directory.',
    'Start one replica and read its log. InnoDB replays its redo log and the server comes up as after a crash or an upgrade. This is the path that worked in the incident: the same chart onto the surviving PVC, and the database came up as if it had just been upgraded.',
    'MYSQL: MySQL 8.0.16+ upgrades its data dictionary and system tables itself at start-up (there is no mysql_upgrade any more); a patch release of the same major is fine, never an older version than the files were last written by (no downgrades).',
    'MARIADB: with a newer minor version run mariadb-upgrade once after the start; an older version than the files were last written by will refuse or corrupt them.',
    'Check it: `SHOW DATABASES`, `CHECK TABLE` on the important tables, row counts you know. Then take a logical dump at once: `lifeboat backup mysql --url mysql://USER@HOST/DB`.',
  ],
  never: [
    'Never copy single .ibd or .frm files into another server\'s data directory: the tables show up in SHOW TABLES but every read fails with "Table doesn\'t exist in engine", because the data dictionary lives in the shared system tablespace, not beside the table.',
    'Never start a different major version (MySQL 5.7 -> 8.0, MariaDB <-> MySQL) on the only copy: an upgrade rewrites the files and cannot be undone.',
  ],
};

const DUMP: GuidePath = {
  have: 'dump',
  title: 'A logical dump (lifeboat backup mysql, mysqldump, mariadb-dump)',
  when: 'You have a .sql or .sql.gz file: SQL text that any server of a compatible version can load.',
  steps: [
    'Prove the dump first if nobody has: `lifeboat verify mysql FILE` loads it into a throwaway server here and compares every table with its manifest.',
    'Deploy a fresh, empty database of the same engine and major version as the source (the manifest names it under server.version): a MySQL 8/9 dump uses utf8mb4_0900 collations MariaDB does not know, and MySQL may refuse what mariadb-dump wrote.',
    'Load it: `MYSQL_PWD=... lifeboat restore mysql FILE --url mysql://root@HOST:3306` (all its databases), or `.../NEWNAME` to load a single-database dump under another name. It refuses a non-empty database unless --force.',
    'Recreate the application users and grants (a dump of application databases does not carry the mysql.* system tables), then point the application at it.',
    'Without Lifeboat: `gunzip -c FILE | mysql -u root -p` with the client of the target engine (MariaDB: `mariadb`; age-encrypted: `age -d -i KEY FILE | gunzip | mysql -u root -p`).',
  ],
  never: [
    'Never load over a database that still holds the only other copy of the data: restore into a new one and compare.',
  ],
};

const RAW: GuidePath = {
  have: 'raw-files',
  title: 'Only some raw table files (.ibd, maybe .frm/.cfg), no whole data directory',
  when: 'The last resort: per-table InnoDB files without the system tablespace that describes them.',
  steps: [
    'Install exactly the server version the files came from (same vendor, same major.minor, ideally the same release; the incident failed here with a different MySQL on the test VM). The same-version rule is what IMPORT TABLESPACE checks least and needs most.',
    "Recreate every table with exactly the original CREATE TABLE (same columns, types, row format, indexes): from the application's migrations or a schema-only dump.",
    'MYSQL: MySQL 8/9 has no .frm files; each .ibd carries its own dictionary entry (SDI). `ibd2sdi t.ibd` prints it as JSON: the columns, types, indexes and row format to write the CREATE TABLE from.',
    'MARIADB: the table definition is in t.frm beside t.ibd; mysqlfrm (mysql-utilities) or dbsake frmdump turn it back into CREATE TABLE.',
    'For each table: `ALTER TABLE t DISCARD TABLESPACE;`, copy the old t.ibd (and t.cfg when you have one, written by FLUSH TABLES t FOR EXPORT on the source) into the database directory, chown it to the server user, then `ALTER TABLE t IMPORT TABLESPACE;`.',
    'Without a .cfg the import checks less: run CHECK TABLE and compare row counts afterwards; foreign keys need SET FOREIGN_KEY_CHECKS=0 during the imports.',
    'As soon as the tables read correctly, take a logical dump (lifeboat backup mysql) and build the real server from that.',
  ],
  never: [
    'Never expect a plain file copy to work: "Table doesn\'t exist in engine" means the server has no dictionary entry for that file.',
    'Never import into a different server version or a schema that differs by a column: IMPORT TABLESPACE fails or, worse, reads garbage.',
  ],
};

export type Engine = 'mysql' | 'mariadb';
export const ENGINES: readonly Engine[] = ['mysql', 'mariadb'];

/**
 * The guide for one engine: steps marked `MYSQL:` or `MARIADB:` belong to that engine only (MySQL 8/9 and MariaDB
 * differ exactly where the incident got stuck: .frm vs ibd2sdi, mysql_upgrade vs self-upgrade). Without an engine
 * both are kept, labelled.
 */
export function guideFor(engine?: Engine): Record<Have, GuidePath> {
  const pick = (steps: string[]) =>
    steps.flatMap((step) => {
      const m = /^(MYSQL|MARIADB): (.*)$/s.exec(step);
      if (!m) return [step];
      if (!engine) return [`${m[1] === 'MYSQL' ? 'MySQL 8/9' : 'MariaDB'}: ${m[2]}`];
      return m[1]!.toLowerCase() === engine ? [m[2]!] : [];
    });
  const of = (p: GuidePath): GuidePath => ({ ...p, steps: pick(p.steps) });
  return { pvc: of(PVC), dump: of(DUMP), 'raw-files': of(RAW) };
}

export const GUIDE_INTRO =
  'Getting a MySQL/MariaDB database back. Pick the path by what you still have; the first one that fits is the best one.';

export const GUIDE_ORDER =
  'Order of preference: the surviving data directory (whole, exactly as it was) > a logical dump > raw table files.';
