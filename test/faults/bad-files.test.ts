import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaintenanceRecords } from '../../src/adapters/agent/state.js';
import { REBOOT_LINES_MAX, SCHEDULE_FILE_MAX_BYTES } from '../../src/adapters/crontab.js';
import { EtcdKv } from '../../src/adapters/lock/etcd-kv.js';
import { expectOneLineUsageError, json, runCli } from '../helpers/cli.js';
import { startTestCluster, type TestCluster } from '../helpers/etcd-cluster.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

/**
 * Issue 16 finding 6, the files people point Lifeboat at: bad TLS files exited 3 "unreachable" with raw OpenSSL text,
 * a 200k-line crontab overflowed the stack, and a FIFO, /dev/null, a directory, a read-only mount or a missing
 * --scratch-dir got misleading messages. Each is now one line naming the file and what is wrong with it, exit 2, and
 * nothing is left behind.
 */

let dir: string;
let pki: TestPki;
let etcd: TestCluster;
const path = (name: string) => join(dir, name);

function file(name: string, content: string | Buffer): string {
  writeFileSync(path(name), content);
  return path(name);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-fault-files-'));
  pki = makeTestPki();
  etcd = await startTestCluster(1);
});
afterAll(async () => {
  await etcd?.destroy();
  pki?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bad TLS files: exit 2 naming the file and what is wrong, before any connection', { timeout: 120_000 }, () => {
  // The corpus: [flags, what the one line must say]. Every file exists but is wrong in its own way.
  function corpus(): Array<[string, string[], RegExp]> {
    const cert = readFileSync(pki.clientCert, 'utf8');
    const key = readFileSync(pki.clientKey, 'utf8');
    const body = cert.split('\n').slice(1, -2).join('\n');
    const encrypted = path('encrypted.key');
    execFileSync('openssl', ['pkey', '-in', pki.clientKey, '-aes256', '-passout', 'pass:x', '-out', encrypted]);
    mkdirSync(path('a-dir'), { recursive: true });
    const fifo = path('tls.fifo');
    execFileSync('mkfifo', [fifo]);
    return [
      ['CA missing', ['--cacert', path('nope.crt')], /TLS CA file .*nope\.crt: no such file/],
      ['CA empty', ['--cacert', file('empty.crt', '')], /TLS CA file .*empty\.crt: the file is empty/],
      ['CA a directory', ['--cacert', path('a-dir')], /TLS CA file .*a-dir: a directory, not a file/],
      ['CA a FIFO (would block)', ['--cacert', fifo], /TLS CA file .*tls\.fifo: a FIFO, not a file/],
      ['CA not PEM', ['--cacert', file('garbage.crt', 'garbage\n')], /garbage\.crt: no PEM certificate in it/],
      ['CA binary', ['--cacert', file('bin.crt', Buffer.from([0, 1, 2, 255, 10]))], /bin\.crt: no PEM certificate/],
      ['CA is a key', ['--cacert', pki.clientKey], /root\.key: no PEM certificate in it/],
      [
        'CA base64 damaged',
        [
          '--cacert',
          file('damaged.crt', `-----BEGIN CERTIFICATE-----\n${body.slice(0, 40)}\n-----END CERTIFICATE-----\n`),
        ],
        /damaged\.crt: the certificate is damaged/,
      ],
      ['CA truncated', ['--cacert', file('trunc.crt', cert.slice(0, 200))], /trunc\.crt: no PEM certificate in it/],
      ['CA far too big', ['--cacert', process.execPath], /more than a TLS CA file ever is/],
      ['cert without key', ['--cert', pki.clientCert], /certificate .*root\.crt is given without its key/],
      ['key without cert', ['--key', pki.clientKey], /key .*root\.key is given without its certificate/],
      ['cert not PEM', ['--cert', file('bad-cert.pem', 'x'), '--key', pki.clientKey], /bad-cert\.pem: no PEM cert/],
      ['key not PEM', ['--cert', pki.clientCert, '--key', file('bad.key', 'x')], /bad\.key: no PEM private key/],
      ['key is the cert', ['--cert', pki.clientCert, '--key', pki.clientCert], /root\.crt: no PEM private key/],
      ['key encrypted', ['--cert', pki.clientCert, '--key', encrypted], /encrypted\.key: the key is encrypted/],
      ['key of another cert', ['--cert', pki.serverCert, '--key', pki.clientKey], /not the private key of cert/],
      [
        'key damaged',
        ['--cert', pki.clientCert, '--key', file('damaged.key', key.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!'))],
        /damaged\.key: the private key is damaged/,
      ],
    ].map(([name, flags, re]) => [name as string, flags as string[], re as RegExp]);
  }

  it('every file of the corpus: one line, exit 2, the file named (status, backup etcd)', async () => {
    const endpoint = etcd.endpoints[0]!.replace('http://', 'https://');
    const cases = corpus();
    const seen: string[] = [];
    for (const [name, flags, message] of cases) {
      for (const command of [['status'], ['backup', 'etcd', '--to', path('never')]]) {
        const res = await runCli(['--endpoints', endpoint, ...flags, ...command], { timeoutMs: 30_000 });
        try {
          expectOneLineUsageError(res, message);
        } catch (err) {
          throw new Error(`${name} (${command[0]}): ${res.code} ${res.stderr}\n${(err as Error).message}`);
        }
        seen.push(name);
      }
    }
    expect(seen).toHaveLength(2 * cases.length);
    expect(readdirSync(dir)).not.toContain('never'); // refused before anything was written
  });

  it('the same files in the config: the same one line', async () => {
    const c = file('tls.yaml', `etcd:\n  endpoints: [https://127.0.0.1:2379]\n  tls: { ca: garbage.crt }\n`);
    file('garbage.crt', 'garbage\n');
    expectOneLineUsageError(await runCli(['-c', c, 'status'], { cwd: dir }), /garbage\.crt: no PEM certificate/);
  });
});

describe('schedule files: bounded, fast, one line', { timeout: 120_000 }, () => {
  let config: string;
  beforeAll(() => {
    config = file(
      'nodes.yaml',
      'nodes:\n  - { name: a, roles: [etcd] }\n  - { name: b, roles: [etcd] }\n  - { name: c, roles: [etcd] }\n',
    );
  });

  it('a 200k-line crontab of reboots (it overflowed the stack): refused by size, naming the file', async () => {
    const big = file('big.crontab', '0 4 * * * root /sbin/reboot\n'.repeat(200_000));
    expectOneLineUsageError(
      await runCli(['-c', config, 'check', '--crontab', `a=${big}`]),
      new RegExp(
        `crontab .*big\\.crontab: \\d+ bytes, more than a crontab ever is \\(at most ${SCHEDULE_FILE_MAX_BYTES}\\)`,
      ),
    );
  });

  it('a 200k-line crontab under the size bound: checked, unrecognised lines summed up after 20', async () => {
    const junk = file('junk.crontab', `${'x y\n'.repeat(200_000)}0 4 * * * root /sbin/reboot\n`);
    const res = await runCli(['-c', config, '--json', 'check', '--crontab', `a=${junk}`], { timeoutMs: 60_000 });
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { findings: Array<{ code: string; message: string }> };
    const unrecognised = report.findings.filter((f) => f.code === 'unrecognised-line');
    expect(unrecognised).toHaveLength(21);
    expect(unrecognised.at(-1)!.message).toContain('199980 more lines not understood');
    expect(report.findings.some((f) => f.code === 'zero-margin')).toBe(true); // the one real reboot line still counts
  });

  it('more reboot lines than any schedule has', async () => {
    const many = Array.from({ length: REBOOT_LINES_MAX + 1 }, (_, i) => `${i % 60} ${i % 24} * * * root reboot\n`);
    const f = file('many.crontab', many.join(''));
    expectOneLineUsageError(
      await runCli(['-c', config, 'check', '--crontab', `a=${f}`]),
      new RegExp(`many\\.crontab: ${REBOOT_LINES_MAX + 1} reboot lines; a schedule has at most ${REBOOT_LINES_MAX}`),
    );
  });

  it('a FIFO or a directory as a crontab, a FIFO as the config: refused before reading (no hang)', async () => {
    const fifo = path('cron.fifo');
    execFileSync('mkfifo', [fifo]);
    expectOneLineUsageError(
      await runCli(['-c', config, 'check', '--crontab', `a=${fifo}`]),
      /cannot read crontab .*cron\.fifo: a FIFO, not a file/,
    );
    expectOneLineUsageError(
      await runCli(['-c', config, 'check', '--crontab', `a=${dir}`]),
      /cannot read crontab .*: a directory, not a file/,
    );
    expectOneLineUsageError(
      await runCli(['-c', fifo, 'doctor']),
      /cannot read config .*cron\.fifo: a FIFO, not a file/,
    );
  });
});

describe('destinations, snapshots and scratch dirs that cannot work', { timeout: 120_000 }, () => {
  const backup = (to: string) => runCli(['--endpoints', etcd.endpoints[0]!, 'backup', 'etcd', '--to', to]);

  it('/dev/null, a FIFO or a file as the backup destination (and below them)', async () => {
    const fifo = path('dest.fifo');
    execFileSync('mkfifo', [fifo]);
    const plain = file('plain-file', 'x');
    expectOneLineUsageError(await backup('/dev/null'), /^lifeboat: error: \/dev\/null: a device, not a directory/);
    expectOneLineUsageError(await backup('/dev/null/x/y'), /\/dev\/null: a device, not a directory/);
    expectOneLineUsageError(await backup(fifo), /dest\.fifo: a FIFO, not a directory/);
    expectOneLineUsageError(await backup(plain), /plain-file: a regular file, not a directory/);
    expect(readFileSync(plain, 'utf8')).toBe('x');
  });

  it('a read-only destination: one line naming it, nothing written', async (ctx) => {
    const mnt = path('ro');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'lifeboat-ro', mnt]);
    if (mounted.status !== 0) {
      ctx.skip(`needs root to mount a read-only tmpfs: ${String(mounted.stderr).trim()}`);
    }
    try {
      expectOneLineUsageError(await backup(mnt), /ro\/etcd: read-only file system/);
      expectOneLineUsageError(await backup(join(mnt, 'deeper')), /ro\/deeper: read-only file system/);
      expect(readdirSync(mnt)).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('a FIFO, /dev/null or a directory as the snapshot to verify; a --scratch-dir that cannot be made', async () => {
    const fifo = path('snap.fifo');
    execFileSync('mkfifo', [fifo]);
    expectOneLineUsageError(await runCli(['verify', fifo]), /snap\.fifo is a FIFO, not a snapshot file/);
    expectOneLineUsageError(await runCli(['verify', '/dev/null']), /\/dev\/null is a device, not a snapshot file/);
    expectOneLineUsageError(await runCli(['verify', dir]), /is a directory, not a snapshot file/);
    const snap = file('some.db', Buffer.alloc(8192));
    expectOneLineUsageError(
      await runCli(['verify', snap, '--scratch-dir', '/nonexistent/x']),
      /cannot make a scratch directory in \/nonexistent\/x: no such file or directory/,
    );
    expectOneLineUsageError(
      await runCli(['verify', snap, '--scratch-dir', snap]),
      /cannot make a scratch directory in .*some\.db: a path component is not a directory/,
    );
  });

  it("a copy of a member's member/snap/db: verify fails and says it is not a snapshot", async () => {
    const raw = join(etcd.members[0]!.spec.dataDir, 'member', 'snap', 'db');
    const res = await runCli(['verify', raw], { timeoutMs: 60_000 });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/hash trailer missing.*a copy of a member's member\/snap\/db is not a snapshot/);
  });
});

describe('nodes and agents nobody has', { timeout: 120_000 }, () => {
  it('maintain request for a node no config and no agent knows: exit 2 (it exited 0 and waited for ever)', async () => {
    expectOneLineUsageError(
      await runCli(['--endpoints', etcd.endpoints[0]!, 'maintain', 'request', 'nosuchnode']),
      /no agent has reported for node "nosuchnode" \(no agent runs yet/,
    );
    const c = file(
      'two-nodes.yaml',
      `etcd: { endpoints: [${etcd.endpoints[0]}] }\nnodes:\n  - { name: m1, roles: [etcd] }\n`,
    );
    expectOneLineUsageError(
      await runCli(['-c', c, 'maintain', 'request', 'nosuchnode']),
      /no node "nosuchnode" in the config \(nodes: m1\)/,
    );
  });

  it('agent --node for a member etcd does not have: exit 2 naming the members (it ran for ever)', async () => {
    const res = await runCli(['--endpoints', etcd.endpoints[0]!, 'agent', '--node', 'nosuch', '--dry-run'], {
      timeoutMs: 30_000,
    });
    expect(res.code).toBe(2);
    expect(res.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^lifeboat: error: etcd has no member named "nosuch" \(members: m1\)/),
    ]);
  });

  it('maintain status shows a dead agent as not reporting, whatever it last said', async () => {
    const kv = new EtcdKv(etcd.endpoints, {}, 3000);
    try {
      const records = new MaintenanceRecords(kv);
      const old = new Date(Date.now() - 10 * 60_000).toISOString();
      await records.putReport({ node: 'm1', seenAt: old, state: 'idle', wants: [], refusals: [], pollMs: 30_000 });
      await records.putNode({ node: 'm1', phase: 'rebooting', downAt: old, reboots: 1 });
    } finally {
      kv.close();
    }
    const res = await runCli(['--endpoints', etcd.endpoints[0]!, 'maintain', 'status']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/m1 +rebooting since .* +NOT REPORTING since .* \(last said idle, 10m/);
    const doc = json<{ nodes: Array<{ name: string; agent: { stale: boolean } }> }>(
      await runCli(['--endpoints', etcd.endpoints[0]!, '--json', 'maintain', 'status']),
    );
    expect(doc.nodes.find((n) => n.name === 'm1')!.agent.stale).toBe(true);
  });
});
