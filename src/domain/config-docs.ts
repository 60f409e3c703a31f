import { formatDuration } from './duration.js';
import { DEFAULT_REBOOT_COMMAND, DEFAULT_SENTINEL, DEFAULTS } from './maintenance/settings.js';
import { DEFAULT_DATABASE_EVERY } from './mysql/config.js';
import { DEFAULT_DOWNTIME_MS } from './schedule/inventory.js';

/**
 * What each lifeboat.yaml key means, for people: docs/CONFIG.md is generated from the schema (its keys and types)
 * and this table (words, defaults, examples) by src/domain/config-reference.ts, and `lifeboat init` comments the
 * file it writes from it. A key is found by its full path (`backups.to`) or, for shapes used in several places, by
 * the longest dotted tail of it (`retention.daily` documents every retention policy). Tests refuse a schema key
 * without an entry, an entry without a key, and an example the schema rejects.
 */
export interface KeyDoc {
  /** One or two sentences: what the key does, and what happens without it. */
  text: string;
  /** The value used when the key is absent (as written in YAML), when there is one. */
  default?: string;
  /** A value the schema accepts (checked by test/unit/config-reference.test.ts). */
  example?: unknown;
}

const RETENTION =
  'Grandfather-father-son retention (`lifeboat prune`, and `serve` after each backup). The newest backup and the newest verified one always survive; a policy whose rules are all 0 is refused.';

export const CONFIG_DOCS: Record<string, KeyDoc> = {
  cluster: { text: 'What the cluster is called.' },
  'cluster.name': {
    text: 'Names backup files, the status page and alerts.',
    example: 'home',
  },

  etcd: { text: 'How to reach etcd. Flags (`--endpoints`, `--cacert`...) and `ETCDCTL_*` variables override it.' },
  'etcd.endpoints': {
    text: 'Client URLs of the etcd members. One is enough: the others are found from the member list.',
    default: 'without `etcd:`, http://127.0.0.1:2379 (https:// when TLS files are given)',
    example: ['https://10.0.0.11:2379', 'https://10.0.0.12:2379', 'https://10.0.0.13:2379'],
  },
  'etcd.tls': { text: "Client TLS files, as etcdctl's --cacert/--cert/--key." },
  'etcd.tls.ca': {
    text: 'CA bundle that signed the etcd server certificates.',
    example: '/etc/kubernetes/pki/etcd/ca.crt',
  },
  'etcd.tls.cert': {
    text: 'Client certificate (kubeadm: healthcheck-client.crt; k3s: server-client.crt).',
    example: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  },
  'etcd.tls.key': {
    text: 'Key of the client certificate. Readable by root only on a real node.',
    example: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
  },
  'etcd.user': {
    text: 'etcd user, when etcd has authentication on. The password comes from ETCDCTL_PASSWORD or `passwordFile`.',
    example: 'root',
  },
  'etcd.passwordFile': {
    text: "File holding the etcd user's password (never the password itself in lifeboat.yaml).",
    example: '/etc/lifeboat/etcd-password',
  },
  'etcd.executor': {
    text:
      'How `lifeboat recover` stops, starts and restores members: `kubeadm` (static pods), `systemd` (etcd.service), ' +
      '`k3s` (embedded etcd) or `lab`. Without it, recover prints plans but does not walk them.',
    example: 'kubeadm',
  },
  'etcd.lab': { text: 'Written by `lifeboat lab up`: where the practice lab lives (executor: lab).' },
  'etcd.lab.dir': { text: 'The lab directory (absolute).', example: '/home/me/lifeboat/.lab' },

  nodes: {
    text: 'The machines of the cluster, with their roles and reboot schedules: what `check` simulates and the agent acts on.',
  },
  'nodes[].name': { text: 'Node name (as Kubernetes knows it). Unique.', example: 'cp1' },
  'nodes[].roles': {
    text: '`etcd` makes the node a voting etcd member for `check`; `worker` counts it among the workers.',
    example: ['control-plane', 'etcd'],
  },
  'nodes[].etcdMember': {
    text: "The node's etcd member name, when it differs from the node name.",
    default: 'the node name',
    example: 'cp1.example.org',
  },
  'nodes[].reboot': {
    text:
      'When the node reboots: cron lines, systemd calendar expressions or kured-style windows. `lifeboat check` ' +
      'finds the moments they take quorum away.',
    example: [{ cron: '0 4 * * 1', timezone: 'Europe/Berlin', downtime: '10m' }],
  },
  'nodes[].reboot[].cron': { text: 'A cron schedule (5 fields).', example: '0 4 * * 1' },
  'nodes[].reboot[].calendar': { text: 'A systemd OnCalendar= expression.', example: 'Mon *-*-* 04:00:00' },
  'nodes[].reboot[].randomizedDelay': {
    text: "systemd's RandomizedDelaySec=: the reboot may come this much later.",
    default: '0s',
    example: '30m',
  },
  'nodes[].reboot[].timezone': {
    text: 'Time zone the schedule is read in (IANA name).',
    default: 'UTC',
    example: 'Europe/Berlin',
  },
  'nodes[].reboot[].downtime': {
    text: 'How long the node is down after each reboot.',
    default: formatDuration(DEFAULT_DOWNTIME_MS),
    example: '15m',
  },
  'nodes[].reboot[].window': {
    text: 'A kured-style window: the node may reboot at any moment inside it.',
    example: { days: ['sat', 'sun'], start: '02:00', end: '05:00', timezone: 'Europe/Berlin' },
  },
  'nodes[].reboot[].every': {
    text: 'How often at most the window is used (kured --period); every window counts as possible.',
    example: '168h',
  },
  'nodes[].reboot[].period': { text: "kured's name for `every`.", example: '168h' },
  'window.days': { text: 'Days the window is open.', example: ['sat', 'sun'] },
  'window.start': { text: 'Opening time, HH:MM.', example: '02:00' },
  'window.end': { text: 'Closing time, HH:MM; at or before `start` means past midnight.', example: '05:00' },
  'window.timezone': { text: 'Time zone of start and end.', default: 'UTC', example: 'Europe/Berlin' },
  'nodes[].maintenance': {
    text: 'What `lifeboat agent --node NAME` does on this node (wins over the top-level `maintenance`).',
  },
  'nodes[].maintenance.every': {
    text: 'Reboot this often (inside the window, one member at a time), like the cron job it replaces.',
    example: '168h',
  },
  'nodes[].maintenance.window': {
    text: 'Reboots of this node happen only inside this window.',
    example: { days: ['sun'], start: '03:00', end: '05:00', timezone: 'Europe/Berlin' },
  },
  sentinel: {
    text: 'A reboot is wanted while this file exists (unattended-upgrades writes it).',
    default: DEFAULT_SENTINEL,
    example: DEFAULT_SENTINEL,
  },
  sentinelCommand: {
    text: 'A reboot is wanted when this command exits 0.',
    example: 'needs-restarting -r >/dev/null; test $? -eq 1',
  },
  rebootCommand: {
    text: 'How the agent reboots the node.',
    default: DEFAULT_REBOOT_COMMAND,
    example: 'systemctl reboot',
  },

  backups: {
    text:
      'Where backups go and how long they stay. Without it, `backup etcd` needs `--to` and `doctor` reports that no ' +
      'backup is known.',
  },
  'backups.to': {
    text:
      'Destinations: a directory (an NFS mount works) or s3://bucket/prefix. Backups are written to the first; ' +
      'keep one off the etcd nodes, so a lost node does not take its backups with it.',
    example: ['/mnt/nfs/lifeboat', 's3://backups/etcd'],
  },
  'backups.etcd': { text: 'Scheduled etcd snapshots (`lifeboat serve`, `backup etcd --every`).' },
  'backups.etcd.every': {
    text: 'Take a snapshot this often. Without it, serve takes none.',
    example: '1h',
  },
  'backups.etcd.verifyEvery': {
    text: 'Run the restore drill after every Nth scheduled backup (0: never).',
    default: '1',
    example: 1,
  },
  'backups.etcd.follow': {
    text:
      '`lifeboat serve` keeps a change log beside the snapshots (like `backup etcd --follow`): every write since the ' +
      'last snapshot, so `restore etcd --at REVISION|TIME` can rebuild any moment and a total loss costs about a second.',
    default: 'false',
    example: true,
  },
  'backups.etcd.followEvery': {
    text: 'How often the follower makes new writes durable in the store: the most a total loss can cost (the RPO).',
    default: '1s',
    example: '1s',
  },
  'backups.etcd.followKeep': {
    text:
      'How far back point-in-time restore reaches: retention (`prune`, scheduled backups) keeps every change-log ' +
      'segment and the snapshot a restore of any moment in this window replays from; older log goes.',
    default: '7d',
    example: '7d',
  },
  'backups.retention': {
    text: `${RETENTION} Applies to etcd snapshots; without it every snapshot is kept.`,
    example: { keepLast: 24, daily: 7, weekly: 4, monthly: 6 },
  },
  'retention.keepLast': { text: 'Keep this many of the newest.', example: 24 },
  'retention.hourly': { text: 'Keep the newest of each of this many hours.', example: 24 },
  'retention.daily': { text: 'Keep the newest of each of this many days.', example: 7 },
  'retention.weekly': { text: 'Keep the newest of each of this many weeks.', example: 4 },
  'retention.monthly': { text: 'Keep the newest of each of this many months.', example: 6 },
  'backups.helm': { text: 'Whole-release Helm captures (values, chart, manifest) scheduled by `lifeboat serve`.' },
  'backups.helm.every': { text: 'Capture every release this often. Without it, serve captures none.', example: '24h' },
  'backups.helm.retention': {
    text: `${RETENTION} Applies to Helm captures; without it every capture is kept.`,
    example: { keepLast: 7 },
  },
  'backups.encryption': { text: 'Encrypt every backup with age before it leaves the process.' },
  'backups.encryption.recipients': {
    text: 'age public keys (`age-keygen -y KEYFILE` prints one). Never the secret key.',
    example: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
  },
  'backups.s3': {
    text: 'How to reach s3:// destinations. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `credentialsFile`.',
  },
  'backups.s3.endpoint': { text: 'S3-compatible endpoint (MinIO, Ceph...).', example: 'http://minio.local:9000' },
  'backups.s3.region': {
    text: 'Bucket region.',
    default: 'AWS_REGION, else us-east-1',
    example: 'eu-central-1',
  },
  'backups.s3.forcePathStyle': {
    text: 'Path-style URLs (bucket in the path), which most self-hosted S3 servers need.',
    default: 'true when `endpoint` is set',
    example: true,
  },
  'backups.s3.credentialsFile': {
    text: 'AWS-format credentials file (never the keys themselves in lifeboat.yaml); relative to this file.',
    example: '/etc/lifeboat/s3-credentials',
  },
  'backups.s3.timeout': {
    text: 'Deadline for every S3 request (connecting, each upload part, each download) to make progress; a server that stops answering fails the run, named, instead of hanging it. Between 1s and 1h.',
    default: '30s',
    example: '1m',
  },

  maintenance: { text: 'Quorum-safe reboots by `lifeboat agent`, one etcd member at a time.' },
  'maintenance.lock': {
    text: 'Where the agents hold the maintenance lock: an etcd lease or a Kubernetes Lease.',
    default: 'etcd',
    example: 'kubernetes',
  },
  'maintenance.namespace': {
    text: 'Namespace of the Kubernetes Lease (lock: kubernetes).',
    default: 'lifeboat',
    example: 'lifeboat',
  },
  'maintenance.settle': {
    text: 'After a node is back, wait this long (healthy) before the next one may go.',
    default: formatDuration(DEFAULTS.settleMs),
    example: '5m',
  },
  'maintenance.maxRaftLag': {
    text: 'A member further behind the leader than this many raft entries is not healthy (also used by doctor).',
    default: String(DEFAULTS.maxRaftLag),
    example: 1000,
  },
  'maintenance.requireVerifiedBackupWithin': {
    text: 'An etcd member reboots only when a verified backup is newer than this; doctor reports an older one too.',
    example: '24h',
  },
  'maintenance.maxConcurrentWorkers': {
    text: 'How many workers may be down for maintenance at once.',
    default: String(DEFAULTS.maxConcurrentWorkers),
    example: 1,
  },
  'maintenance.onStaleBackup': {
    text: 'What a missing or stale verified backup does before an etcd member goes down.',
    default: 'block',
    example: 'warn',
  },
  'maintenance.ttl': {
    text: 'Lock TTL: must outlast a reboot; the lock frees itself this long after its holder stops renewing.',
    default: formatDuration(DEFAULTS.ttlMs),
    example: '15m',
  },
  'maintenance.pollInterval': {
    text: 'How often agents look at their node and the cluster.',
    default: formatDuration(DEFAULTS.pollMs),
    example: '30s',
  },

  alerts: { text: 'Notifications from `lifeboat serve` when a condition starts and when it clears.' },
  'alerts.webhooks': {
    text: 'Webhooks to call.',
    example: [{ url: 'https://hooks.slack.com/services/T000/B000/XXXX', format: 'slack' }],
  },
  'alerts.webhooks[].url': { text: 'The webhook URL.', example: 'https://hooks.slack.com/services/T000/B000/XXXX' },
  'alerts.webhooks[].format': { text: 'Body format.', default: 'generic', example: 'slack' },

  databases: {
    text: 'MySQL/MariaDB databases to dump (`lifeboat backup mysql NAME`, and serve on a schedule).',
  },
  'databases[].name': { text: 'Name of the database entry; it names the dump files.', example: 'shop' },
  'databases[].url': {
    text: 'mysql://USER@HOST:PORT/DB (no password in it).',
    example: 'mysql://backup@10.0.0.20:3306/shop',
  },
  'databases[].passwordFile': { text: "File holding the user's password.", example: '/etc/lifeboat/shop-password' },
  'databases[].passwordSecret': {
    text: 'A Kubernetes Secret holding the password (give this or passwordFile, not both; else MYSQL_PWD).',
    example: { namespace: 'shop', name: 'shop-mysql', key: 'mysql-password' },
  },
  'databases[].passwordSecret.namespace': { text: "The Secret's namespace.", example: 'shop' },
  'databases[].passwordSecret.name': { text: "The Secret's name.", example: 'shop-mysql' },
  'databases[].passwordSecret.key': { text: 'The key inside the Secret.', example: 'mysql-password' },
  'databases[].every': {
    text: 'Dump this often (lifeboat serve).',
    default: DEFAULT_DATABASE_EVERY,
    example: '6h',
  },
  'databases[].retention': {
    text: `${RETENTION} Applies to this database's dumps; without it every dump is kept.`,
    example: { keepLast: 4, daily: 14, monthly: 6 },
  },
  'databases[].tls': {
    text: "TLS to the server, as MySQL's clients spell it (or give ssl-mode/ssl-ca/ssl-cert/ssl-key in the URL, not both). Used by the checks and passed to the dump tool in a 0600 option file, never on a command line. Any setting here means TLS (no fallback to plain text).",
    example: { mode: 'VERIFY_IDENTITY', secret: { namespace: 'shop', name: 'mysql-client-tls' } },
  },
  'databases[].tls.mode': {
    text: 'DISABLED, PREFERRED, REQUIRED, VERIFY_CA (check the CA) or VERIFY_IDENTITY (also the host name).',
    default: 'VERIFY_CA when there is a CA, else REQUIRED',
    example: 'VERIFY_IDENTITY',
  },
  'databases[].tls.ca': {
    text: "PEM file of the CA that signed the server's certificate (relative to this file's directory).",
    example: '/etc/lifeboat/mysql-ca.pem',
  },
  'databases[].tls.cert': {
    text: 'PEM client certificate, for servers that require X509 (give tls.key with it).',
    example: '/etc/lifeboat/mysql-client.crt',
  },
  'databases[].tls.key': {
    text: "The client certificate's PEM private key.",
    example: '/etc/lifeboat/mysql-client.key',
  },
  'databases[].tls.secret': {
    text: "A Kubernetes Secret holding the PEM files under ca.crt, tls.crt and tls.key (a cert-manager or kubernetes.io/tls Secret; the Bitnami chart's tls.existingSecret). A path given above wins over the Secret's file. Needs get on that Secret.",
    example: { namespace: 'shop', name: 'mysql-client-tls' },
  },
  'databases[].tls.secret.namespace': { text: "The Secret's namespace.", example: 'shop' },
  'databases[].tls.secret.name': { text: "The Secret's name.", example: 'mysql-client-tls' },
  mysqlTools: {
    text: 'MySQL/MariaDB programs by path, when the ones on PATH are not the right engine or version (a wrapper script is fine; ADR 014). LIFEBOAT_MYSQLDUMP, LIFEBOAT_MYSQLD... override each.',
    example: { mysqldump: '/opt/mysql-9.1/bin/mysqldump', mysqld: '/opt/mysql-9.1/bin/mysqld' },
  },
  'mysqlTools.mysqldump': {
    text: "MySQL's dump tool, for MySQL servers (without it a MySQL backup is refused: mariadb-dump output may not load into MySQL).",
    example: '/opt/mysql-9.1/bin/mysqldump',
  },
  'mysqlTools.mysql': {
    text: "MySQL's command-line client, to load dumps into MySQL.",
    example: '/opt/mysql-9.1/bin/mysql',
  },
  'mysqlTools.mysqld': {
    text: "A MySQL server of the dumps' major version, for restore drills of MySQL dumps (without it they stay unverified).",
    example: '/opt/mysql-9.1/bin/mysqld',
  },
  'mysqlTools.mariadbDump': { text: "MariaDB's dump tool, for MariaDB servers.", example: '/usr/bin/mariadb-dump' },
  'mysqlTools.mariadb': { text: "MariaDB's command-line client.", example: '/usr/bin/mariadb' },
  'mysqlTools.mariadbd': {
    text: 'A MariaDB server, for restore drills of MariaDB dumps.',
    example: '/usr/sbin/mariadbd',
  },
  'mysqlTools.mariadbInstallDb': {
    text: "MariaDB's mariadb-install-db, which prepares the drill server's data directory.",
    example: '/usr/bin/mariadb-install-db',
  },
};
