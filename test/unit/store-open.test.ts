import { join } from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/adapters/config-file.js';
import { isAgeEncrypted } from '../../src/adapters/crypto/age.js';
import { checkName, checkPrefix, StoreError } from '../../src/adapters/store/errors.js';
import { LocalStore } from '../../src/adapters/store/local.js';
import { openStore } from '../../src/adapters/store/open.js';
import { parseS3Url, S3Store } from '../../src/adapters/store/s3.js';
import { parseCredentials, s3Error } from '../../src/adapters/store/s3-client.js';
import { partSizeFor } from '../../src/adapters/store/s3-upload.js';
import { UserError } from '../../src/errors.js';

const MiB = 1024 * 1024;
const env = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' };

describe('openStore', () => {
  it('opens directories (absolute, relative, file://) and s3:// URLs', () => {
    expect(openStore('/mnt/nfs/lifeboat')).toBeInstanceOf(LocalStore);
    expect(openStore('/mnt/nfs/lifeboat/').location).toBe('/mnt/nfs/lifeboat');
    expect(openStore('backups', { cwd: '/srv' }).location).toBe('/srv/backups');
    expect(openStore('file:///var/backups/etcd').location).toBe('/var/backups/etcd');
    const s3 = openStore('s3://bucket/some/prefix/', { s3: { env } });
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.location).toBe('s3://bucket/some/prefix');
    expect(s3.locate('etcd/a.db')).toBe('s3://bucket/some/prefix/etcd/a.db');
    expect(openStore('s3://bucket', { s3: { env } }).locate('a.db')).toBe('s3://bucket/a.db');
  });

  it('refuses other schemes by name, exit 2', () => {
    for (const spec of ['ftp://host/backups', 'gs://bucket/x', 'http://minio:9000/bucket']) {
      let err: unknown;
      try {
        openStore(spec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toContain(`"${spec}"`);
      expect((err as UserError).exitCode).toBe(2);
    }
    expect(() => openStore('  ')).toThrow(/empty backup destination/);
  });

  it('parses s3 URLs strictly', () => {
    expect(parseS3Url('s3://b')).toEqual({ bucket: 'b', prefix: '' });
    expect(parseS3Url('s3://my.bucket/a//b/')).toEqual({ bucket: 'my.bucket', prefix: 'a//b' });
    expect(() => parseS3Url('s3://')).toThrow(/not an S3 destination/);
    expect(() => parseS3Url('s3:///x')).toThrow(/not an S3 destination/);
    expect(() => parseS3Url('s3://b/../x')).toThrow(/not an S3 destination: "s3:\/\/b\/\.\.\/x"/);
    expect(() => openStore('s3://b/p', { s3: { env, endpoint: 'minio:9000' } })).toThrow(/not an S3 endpoint URL/);
  });
});

describe('object names', () => {
  it('accepts relative names and refuses escapes', () => {
    expect(checkName('/x', 'etcd/2026-11-27T150000Z-home.db')).toBe('etcd/2026-11-27T150000Z-home.db');
    expect(checkName('/x', '.hidden')).toBe('.hidden');
    for (const bad of ['', '/abs', 'a/', '..', 'a/../b', './a', 'a//b', 'a\\b', 'a\0b']) {
      expect(() => checkName('/x', bad)).toThrow(StoreError);
    }
    expect(checkPrefix('/x', '')).toBe('');
    expect(checkPrefix('/x', 'etcd/')).toBe('etcd/');
    expect(() => checkPrefix('/x', '../')).toThrow(/escape/);
  });

  it('an invalid name is a one-line error with exit 2', () => {
    const store = new LocalStore('/srv/b');
    let err: unknown;
    try {
      store.locate('../etc/passwd');
    } catch (e) {
      err = e;
    }
    expect((err as StoreError).message).toBe(
      '/srv/b: invalid object name "../etc/passwd": ".." would escape the store',
    );
    expect((err as StoreError).exitCode).toBe(2);
    expect(store.locate('a/b.db')).toBe(join('/srv/b', 'a/b.db'));
  });
});

describe('S3 details', () => {
  it('reads AWS credentials files', () => {
    const text = `# comment\n[default]\naws_access_key_id = AK\naws_secret_access_key=SK\n\n[profile backup]\naws_access_key_id=B1\naws_secret_access_key = B2\naws_session_token = T\n`;
    expect(parseCredentials(text, 'default', 'f')).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    expect(parseCredentials(text, 'backup', 'f')).toEqual({
      accessKeyId: 'B1',
      secretAccessKey: 'B2',
      sessionToken: 'T',
    });
    expect(() => parseCredentials(text, 'nope', 'f')).toThrow('S3 credentials file f has no [nope] profile');
    expect(() => parseCredentials('[default]\naws_access_key_id=x\n', 'default', 'f')).toThrow(
      /needs aws_access_key_id/,
    );
  });

  it('grows parts for huge objects so 10,000 parts always suffice', () => {
    expect(partSizeFor(undefined, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(1024, 8 * MiB)).toBe(8 * MiB);
    const huge = 200 * 1024 * MiB;
    expect(partSizeFor(huge, 8 * MiB) * 9000).toBeGreaterThanOrEqual(huge);
  });

  it('turns SDK errors into one line with the S3 code', () => {
    const noBucket = new S3ServiceException({
      name: 'NoSuchBucket',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
      message: 'The specified bucket does not exist',
    });
    const e = s3Error('s3://b/k', noBucket, 'reading');
    expect(e.message).toBe('s3://b/k: NoSuchBucket (the bucket does not exist) while reading');
    expect(e.exitCode).toBe(2);
    const bodyless = new S3ServiceException({ name: 'Unknown', $fault: 'client', $metadata: { httpStatusCode: 403 } });
    expect(s3Error('s3://b/k', bodyless).code).toBe('AccessDenied');
    const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(s3Error('s3://b', net).message).toBe(
      's3://b: ECONNREFUSED (connection refused (is the S3 endpoint right and up?))',
    );
    expect(s3Error('s3://b', new Error('weird\nmultiline')).message).toBe('s3://b: Error (weird multiline)');
  });
});

describe('age detection', () => {
  it('recognises the binary age header only', () => {
    expect(isAgeEncrypted(Buffer.from('age-encryption.org/v1\n-> X25519 abc\n'))).toBe(true);
    expect(isAgeEncrypted(Buffer.from('age-encryption.org/v1'))).toBe(false);
    expect(isAgeEncrypted(Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----\n'))).toBe(false);
    expect(isAgeEncrypted(new Uint8Array(0))).toBe(false);
  });
});

describe('backups config', () => {
  const base = 'backups:\n  to: [s3://bucket/prefix]\n';
  it('accepts an s3 block and age recipients', () => {
    const config = parseConfigText(
      `${base}  s3: { endpoint: "http://minio.local:9000", region: eu-west-1, forcePathStyle: true, credentialsFile: /etc/lifeboat/s3 }\n` +
        '  encryption: { recipients: [age14rjn08u83y7j86d95kq0ajlfsc72ylypwcgfp0qg4uw77dd3vylqtnag4g] }\n',
      'lifeboat.yaml',
    );
    expect(config.backups?.s3).toEqual({
      endpoint: 'http://minio.local:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      credentialsFile: '/etc/lifeboat/s3',
    });
  });

  it('refuses a secret key as a recipient, a bad endpoint and unknown s3 keys', () => {
    const bad = (extra: string) => () => parseConfigText(base + extra, 'lifeboat.yaml');
    expect(bad('  encryption: { recipients: [AGE-SECRET-KEY-1ABCDEF] }\n')).toThrow(/SECRET key/);
    expect(bad('  encryption: { recipients: [ssh-rsa] }\n')).toThrow(/not an age recipient/);
    expect(bad('  s3: { endpoint: "minio:9000" }\n')).toThrow(/not an http\(s\) URL/);
    expect(bad('  s3: { accessKey: x }\n')).toThrow(UserError);
  });
});
