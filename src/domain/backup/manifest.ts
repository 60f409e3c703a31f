import { z } from 'zod';

/**
 * `NAME.manifest.json`, written beside every snapshot once the snapshot is committed. It says where the snapshot came
 * from and what a restore of it must show (revision, key count, HashKV), and records the latest restore drill.
 * Fields are added freely and never renamed; unknown fields written by a newer version survive a rewrite.
 */

export const MANIFEST_FORMAT = 'lifeboat.etcd-snapshot.v1';

const verificationSchema = z.looseObject({
  ok: z.boolean(),
  at: z.string(),
  revision: z.number().nullable(),
  keys: z.number().nullable(),
  hashKVMatch: z.boolean().nullable(),
  seconds: z.number(),
  problems: z.array(z.string()),
  toolVersion: z.string().optional(),
});

const hashKVSchema = z.looseObject({
  hash: z.number(),
  revision: z.number(),
  compactRevision: z.number(),
});

export const manifestSchema = z.looseObject({
  format: z.literal(MANIFEST_FORMAT),
  /** Object name in the store, e.g. etcd/2026-11-27T150905.123Z-home.db. */
  name: z.string(),
  location: z.string(),
  clusterName: z.string().optional(),
  clusterId: z.string(),
  memberId: z.string(),
  memberName: z.string(),
  endpoint: z.string(),
  /** Store revision the snapshot holds at least; keys and hashKV are taken at exactly this revision. */
  revision: z.number(),
  raftIndex: z.number(),
  raftTerm: z.number(),
  etcdVersion: z.string(),
  /** Stored bytes (encrypted bytes when encrypted). */
  size: z.number(),
  sha256: z.string(),
  /** The etcd snapshot itself (bbolt database + 32-byte SHA-256 trailer). Equal to size/sha256 when unencrypted. */
  plaintextSize: z.number(),
  plaintextSha256: z.string(),
  /** Source member's HashKV at `revision`; null when a compaction during the backup made it unreliable. */
  hashKV: hashKVSchema.nullable(),
  hashKVNote: z.string().optional(),
  keys: z.number(),
  createdAt: z.string(),
  seconds: z.number(),
  toolVersion: z.string(),
  encrypted: z.boolean(),
  recipients: z.array(z.string()).optional(),
  verified: verificationSchema.nullable(),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type Verification = z.infer<typeof verificationSchema>;
export type HashKVRecord = z.infer<typeof hashKVSchema>;

/** The manifest in `text`, or a one-line reason it is not one. */
export function parseManifest(text: string): { manifest: BackupManifest } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { error: 'not valid JSON' };
  }
  const result = manifestSchema.safeParse(data);
  if (result.success) return { manifest: result.data };
  const issue = result.error.issues[0]!;
  return { error: `${issue.path.join('.') || '(top)'}: ${issue.message}` };
}

export function renderManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function withVerification(manifest: BackupManifest, verification: Verification): BackupManifest {
  return { ...manifest, verified: verification };
}
