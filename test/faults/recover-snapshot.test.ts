import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EtcdEndpointClient } from '../../src/adapters/etcd/client.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { isAlive, killProcess } from '../../src/adapters/proc/process.js';
import { json, runCli } from '../helpers/cli.js';
import { startS3, type TestS3 } from '../helpers/s3.js';

/**
 * Issue 16 finding 2 and issue 15's acceptance, on a real 3-member lab: recover finds, fetches, decrypts and checks
 * snapshots through the same stores as verify, proves a snapshot before it stops anything, refuses another cluster's
 * snapshot, moves data dirs aside, and restores a total loss from an age-encrypted snapshot held only in S3.
 */

const root = mkdtempSync(join(tmpdir(), 'lifeboat-fault-recover-'));
const dir = join(root, 'lab');
const local = join(root, 'local-store');
const config = join(root, 'lifeboat.yaml');
const keyFile = join(root, 'age.key');
const NO_AWS = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '', LIFEBOAT_AGE_IDENTITY: '' };
const cli = (...args: string[]) => runCli(['-c', config, ...args], { env: NO_AWS, timeoutMs: 180_000 });
const lab = (...args: string[]) => runCli(['lab', ...args, '--dir', dir]);
let s3: TestS3;

interface LabDoc {
  members: Array<{ name: string; clientUrl: string; pid: number | null; running: boolean }>;
}
const members = async () => json<LabDoc>(await lab('status', '--json')).members;

async function withClient<T>(endpoint: string, use: (c: EtcdEndpointClient) => Promise<T>): Promise<T> {
  const client = new EtcdEndpointClient(endpoint);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** The snapshot's SHA-256 trailer recomputed after a change: etcd's own checks pass, only the manifest can tell. */
function withTrailer(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

beforeAll(async () => {
  s3 = await startS3('recover-faults');
  const up = await runCli(['lab', 'up', '--dir', dir, '--keys', '300']);
  expect(up.code, up.stderr).toBe(0);
  const identity = await generateIdentity();
  writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  writeFileSync(
    join(root, 'aws-credentials'),
    `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=${s3.secretAccessKey}\n`,
  );
  const doc = parse(readFileSync(join(dir, 'lifeboat.yaml'), 'utf8'));
  doc.backups = {
    to: [`s3://${s3.bucket}/lab`],
    s3: { endpoint: s3.endpoint, credentialsFile: 'aws-credentials' },
    encryption: { recipients: [await identityToRecipient(identity)] },
  };
  writeFileSync(config, stringify(doc));
  const backup = await cli('backup', 'etcd', '--json');
  expect(backup.code, backup.stderr).toBe(0);
  const verify = await cli('verify', '--latest', '--identity', keyFile, '--json');
  expect(verify.code, verify.stderr).toBe(0);
  // A change after the backup: the restore must not have it.
  const [first] = await members();
  await withClient(first!.clientUrl, (c) => c.put('/lifeboat-test/after-backup', 'x'));
}, 180_000);

afterAll(async () => {
  try {
    await runCli(['lab', 'down', '--purge', '--dir', dir]);
  } finally {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
    await s3?.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

describe('recover proves a snapshot before it destroys anything', { timeout: 240_000 }, () => {
  it('refuses a snapshot of another cluster unless forced, and says so in the plan when forced', async () => {
    // A plaintext copy of the real snapshot whose manifest claims another cluster.
    const fetched = join(root, 'foreign');
    mkdirSync(fetched);
    const dry = await cli('recover', '--plan', 'snapshot', '--identity', keyFile, '--json');
    // Nothing to recover, but the snapshot was found in S3, decrypted and checked into the lab's work dir.
    expect(dry.code, dry.stderr).toBe(0);
    const plain = readdirSync(join(dir, 'recover-snapshots')).find((n) => n.endsWith('.db'))!;
    const bytes = readFileSync(join(dir, 'recover-snapshots', plain));
    const manifest = JSON.parse(
      (await s3.client
        .send(
          new (
            await import('@aws-sdk/client-s3')
          ).GetObjectCommand({
            Bucket: s3.bucket,
            Key: `lab/etcd/${plain}.age.manifest.json`,
          }),
        )
        .then((o) => o.Body!.transformToString())) as string,
    );
    const sha = createHash('sha256').update(bytes).digest('hex');
    const file = join(fetched, plain);
    writeFileSync(file, bytes);
    const foreign = {
      ...manifest,
      clusterId: '42',
      encrypted: false,
      size: bytes.length,
      sha256: sha,
      plaintextSha256: sha,
    };
    writeFileSync(`${file}.manifest.json`, JSON.stringify(foreign));
    // Two members down: quorum lost, one still answers (its cluster id is the real one).
    expect((await lab('kill', 'cp2')).code).toBe(0);
    expect((await lab('kill', 'cp3')).code).toBe(0);
    const refused = await cli('recover', '--plan', 'snapshot', '--snapshot', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/taken of another cluster \(id 2a[,)].*refusing it \(pass --force/);
    const forced = await cli('recover', '--plan', 'snapshot', '--snapshot', file, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Note: WARNING: the snapshot was taken of another cluster/);
  });

  it('a value changed with the trailer recomputed is refused by its manifest sha256 (it used to be restored)', async () => {
    const file = readdirSync(join(root, 'foreign')).find((n) => n.endsWith('.db'))!;
    const bytes = readFileSync(join(root, 'foreign', file));
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
    body.writeUInt8(body.readUInt8(body.length - 3996) ^ 0xff, body.length - 3996); // a byte in the last page; etcd's trailer check cannot see it now
    const store = join(local, 'etcd');
    mkdirSync(store, { recursive: true });
    // Newest in time, in a second store: the search must pass over it and say why.
    const now = new Date().toISOString();
    const damagedName = `${now.slice(0, 10)}T${now.slice(11, 19).replace(/:/g, '')}.999Z-lab.db`;
    writeFileSync(join(store, damagedName), withTrailer(body));
    const good = JSON.parse(readFileSync(join(root, 'foreign', `${file}.manifest.json`), 'utf8'));
    const real = { ...good, clusterId: await realClusterId() };
    writeFileSync(
      join(store, `${damagedName}.manifest.json`),
      JSON.stringify({ ...real, name: `etcd/${damagedName}` }),
    );
    const doc = parse(readFileSync(config, 'utf8'));
    doc.backups.to = [local, ...doc.backups.to];
    writeFileSync(config, stringify(doc));
    const direct = await cli('recover', '--plan', 'snapshot', '--snapshot', join(store, damagedName));
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain('sha256 of the stored file differs from the manifest');
    const searched = await cli('recover', '--plan', 'snapshot', '--identity', keyFile);
    expect(searched.code, searched.stderr).toBe(0);
    expect(searched.stdout).toContain(`passed over: ${join(store, damagedName)}: sha256 of the stored file differs`);
    expect(searched.stdout).toMatch(
      /Why: s3:\/\/recover-faults\/lab\/etcd\/.*\.db\.age: the newest snapshot whose restore drill passed/,
    );
  });

  it('a restore that fails leaves every member as it was: nothing stopped, nothing deleted', async () => {
    const cp1 = (await members()).find((m) => m.name === 'cp1')!;
    expect(cp1.running).toBe(true);
    // The restore cannot finish (its marker path is taken): the failure must come before any member stops.
    mkdirSync(join(dir, 'data', 'cp3.restoring.json'), { recursive: true });
    const res = await cli('recover', '--plan', 'snapshot', '--identity', keyFile, '--force', '--yes');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('nothing was stopped');
    expect(isAlive(cp1.pid!)).toBe(true);
    for (const m of ['cp1', 'cp2', 'cp3']) expect(existsSync(join(dir, 'data', m, 'member'))).toBe(true);
    rmSync(join(dir, 'data', 'cp3.restoring.json'), { recursive: true });
  });
});

describe('total loss: restore from an age-encrypted snapshot held only in S3', { timeout: 240_000 }, () => {
  it("recover --plan snapshot --identity restores the snapshot; every key is the snapshot's, old data moved aside", async () => {
    const doc = parse(readFileSync(config, 'utf8'));
    doc.backups.to = doc.backups.to.filter((t: string) => t.startsWith('s3://'));
    writeFileSync(config, stringify(doc));
    expect((await lab('kill', 'cp1')).code).toBe(0);
    expect((await lab('wipe', 'cp2')).code).toBe(0);
    expect((await lab('wipe', 'cp3')).code).toBe(0);
    const missing = await cli('recover', '--plan', 'snapshot', '--yes');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/age-encrypted and no identity was given/);
    // The identity from the environment (as a systemd unit or the static pod gives it): the plan names what it
    // picked and why.
    const fromEnv = await runCli(['-c', config, 'recover', '--plan', 'snapshot'], {
      env: { ...NO_AWS, LIFEBOAT_AGE_IDENTITY: keyFile },
      timeoutMs: 180_000,
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).toMatch(
      /Why: s3:\/\/recover-faults\/lab\/etcd\/.*\.db\.age: the newest snapshot whose restore drill passed/,
    );
    const res = await cli('recover', '--plan', 'snapshot', '--identity', keyFile, '--yes', '--json');
    expect(res.code, res.stderr).toBe(0);
    expect(json(res)).toMatchObject({ ok: true, plan: 'snapshot' });
    const after = await members();
    expect(after.every((m) => m.running)).toBe(true);
    for (const m of after) {
      await withClient(m.clientUrl, async (c) => {
        expect(await c.count('/registry/')).toBe(300);
        expect(await c.count('/lifeboat-test/')).toBe(0);
      });
    }
    // cp1 kept its data until the restore: moved aside, never deleted.
    expect(readdirSync(join(dir, 'data')).some((n) => n.startsWith('cp1.lifeboat-old-'))).toBe(true);
  });
});

async function realClusterId(): Promise<string> {
  const [m] = await members();
  return withClient(m!.clientUrl, async (c) => (await c.status()).clusterId ?? '');
}
