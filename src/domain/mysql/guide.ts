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
    'Start one replica and read its log. InnoDB replays its redo log and the server comes up as after a crash or an upgrade; with a newer minor version it upgrades the system tables itself (or run mariadb-upgrade / mysql_upgrade once).',
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
    'Deploy a fresh, empty database (same major version as the source is safest; the manifest names it under server.version).',
    'Load it: `MYSQL_PWD=... lifeboat restore mysql FILE --url mysql://root@HOST:3306` (all its databases), or `.../NEWNAME` to load a single-database dump under another name. It refuses a non-empty database unless --force.',
    'Recreate the application users and grants (a dump of application databases does not carry the mysql.* system tables), then point the application at it.',
    'Without Lifeboat: `gunzip -c FILE | mariadb -u root -p` (age-encrypted: `age -d -i KEY FILE | gunzip | mariadb -u root -p`).',
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
    'Install exactly the server version the files came from (same vendor, same major.minor; the incident failed here with a different MySQL on the test VM).',
    "Recreate every table with exactly the original CREATE TABLE (same columns, types, row format, indexes): from the application's migrations, a schema-only dump, or the .frm files (mysqlfrm / dbsake can read them).",
    'For each table: `ALTER TABLE t DISCARD TABLESPACE;`, copy the old t.ibd (and t.cfg when you have one, written by FLUSH TABLES t FOR EXPORT on the source) into the database directory, chown it to the server user, then `ALTER TABLE t IMPORT TABLESPACE;`.',
    'Without a .cfg the import checks less: run CHECK TABLE and compare row counts afterwards; foreign keys need SET FOREIGN_KEY_CHECKS=0 during the imports.',
    'As soon as the tables read correctly, take a logical dump (lifeboat backup mysql) and build the real server from that.',
  ],
  never: [
    'Never expect a plain file copy to work: "Table doesn\'t exist in engine" means the server has no dictionary entry for that file.',
    'Never import into a different server version or a schema that differs by a column: IMPORT TABLESPACE fails or, worse, reads garbage.',
  ],
};

export const GUIDE: Record<Have, GuidePath> = { pvc: PVC, dump: DUMP, 'raw-files': RAW };

export const GUIDE_INTRO =
  'Getting a MySQL/MariaDB database back. Pick the path by what you still have; the first one that fits is the best one.';

export const GUIDE_ORDER =
  'Order of preference: the surviving data directory (whole, exactly as it was) > a logical dump > raw table files.';
