import { dirname, resolve } from 'node:path';
import { parseDuration } from '../../domain/duration.js';
import { UserError } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import type { S3Options } from '../store/s3-client.js';
import type { BackupStore } from '../store/types.js';
import type { ByteTransform } from './stream.js';

/**
 * Where backups go and how they are sealed, from flags and lifeboat.yaml (flags win).
 *
 * The S3 SDK and the age library are loaded only when a command needs them: together they cost ~0.4 s and ~25 MB
 * at start-up, which every other command (and a backup to a local directory) would otherwise pay.
 */

export const IDENTITY_ENV = 'LIFEBOAT_AGE_IDENTITY';

/**
 * `--to` wins; else the first of `backups.to` (the primary). A relative directory in the config is relative to the
 * config file, so the same lifeboat.yaml works from any working directory.
 */
export async function openDestination(flag: string | undefined, loaded?: LoadedConfig): Promise<BackupStore> {
  const configured = loaded?.config.backups?.to[0];
  const spec = (flag ?? configured)?.trim();
  if (!spec) {
    throw new UserError(
      'no backup destination',
      'pass --to DIR or --to s3://bucket/prefix, or set backups.to in lifeboat.yaml',
    );
  }
  const cwd = flag || !loaded ? process.cwd() : dirname(loaded.path);
  return openStoreAt(spec, loaded, cwd);
}

/**
 * The one way a destination becomes a store: every path that opens one (backup, prune, verify, recover, serve, the
 * agent's freshness check, MySQL, Helm) comes through here, so `backups.s3` (endpoint, region, path style,
 * credentials file) applies everywhere. A relative directory is taken relative to `cwd`.
 */
export async function openStoreAt(spec: string, loaded: LoadedConfig | undefined, cwd: string): Promise<BackupStore> {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    const { LocalStore } = await import('../store/local.js');
    return new LocalStore(resolve(cwd, spec));
  }
  const { openStore } = await import('../store/open.js');
  return openStore(spec, { cwd, s3: s3OptionsOf(loaded) });
}

/** `backups.s3` of the config, with a relative credentials file taken relative to the config file. */
export function s3OptionsOf(loaded: LoadedConfig | undefined): S3Options | undefined {
  const s3 = loaded?.config.backups?.s3;
  if (!s3 || !loaded) return undefined;
  const { credentialsFile, timeout, ...rest } = s3;
  return {
    ...rest,
    ...(credentialsFile ? { credentialsFile: resolve(dirname(loaded.path), credentialsFile) } : {}),
    ...(timeout ? { timeoutMs: parseDuration(timeout) } : {}),
  };
}

export interface Encryption {
  recipients: string[];
  encrypt: ByteTransform;
}

/** age encryption to these recipients (checked now: a typo fails before the snapshot streams), or none. */
export async function encryptionFor(recipients: string[]): Promise<Encryption | undefined> {
  if (recipients.length === 0) return undefined;
  const age = await import('../crypto/age.js');
  await age.loadAge();
  const checked = age.checkRecipients(recipients);
  return { recipients: checked, encrypt: age.ageEncrypt(checked) };
}

/**
 * The decryption stage for encrypted snapshots: identities from `--identity FILE`, else $LIFEBOAT_AGE_IDENTITY (a
 * file path, or the AGE-SECRET-KEY-1... itself, for secret stores that inject values rather than files).
 */
export async function decryptionFor(file: string | undefined): Promise<ByteTransform> {
  const age = await import('../crypto/age.js');
  await age.loadAge();
  const env = process.env[IDENTITY_ENV]?.trim();
  if (!file && !env) {
    throw new UserError(
      'this snapshot is age-encrypted and no identity was given',
      `pass --identity FILE or set ${IDENTITY_ENV}`,
    );
  }
  const identities = file
    ? age.readIdentityFile(file)
    : env!.startsWith('AGE-SECRET-KEY-')
      ? age.parseIdentities(env!, `$${IDENTITY_ENV}`)
      : age.readIdentityFile(env!);
  return age.ageDecrypt(identities);
}
