import * as v from 'valibot';
import { parseJson } from '../validation.js';

/**
 * `NAME.manifest.json`, written beside every snapshot once the snapshot is committed. It says where the snapshot came
 * from and what a restore of it must show (revision, key count, HashKV), and records the latest restore drill.
 * Fields are added freely and never renamed; unknown fields written by a newer version survive a rewrite.
 */

export const MANIFEST_FORMAT = 'lifeboat.etcd-snapshot.v1';

const verificationSchema = v.looseObject({
  ok: v.boolean(),
  at: v.string(),
  revision: v.nullable(v.number()),
  keys: v.nullable(v.number()),
  hashKVMatch: v.nullable(v.boolean()),
  seconds: v.number(),
  problems: v.array(v.string()),
  toolVersion: v.optional(v.string()),
});

const hashKVSchema = v.looseObject({
  hash: v.number(),
  revision: v.number(),
  compactRevision: v.number(),
});

export const manifestSchema = v.looseObject({
  format: v.literal(MANIFEST_FORMAT),
  /** Object name in the store, e.g. etcd/2026-11-27T150905.123Z-home.db. */
  name: v.string(),
  location: v.string(),
  clusterName: v.optional(v.string()),
  clusterId: v.string(),
  memberId: v.string(),
  memberName: v.string(),
  endpoint: v.string(),
  /** Store revision the snapshot holds at least; keys and hashKV are taken at exactly this revision. */
  revision: v.number(),
  raftIndex: v.number(),
  raftTerm: v.number(),
  etcdVersion: v.string(),
  /** Stored bytes (encrypted bytes when encrypted). */
  size: v.number(),
  sha256: v.string(),
  /** The etcd snapshot itself (bbolt database + 32-byte SHA-256 trailer). Equal to size/sha256 when unencrypted. */
  plaintextSize: v.number(),
  plaintextSha256: v.string(),
  /** Source member's HashKV at `revision`; null when a compaction during the backup made it unreliable. */
  hashKV: v.nullable(hashKVSchema),
  hashKVNote: v.optional(v.string()),
  keys: v.number(),
  createdAt: v.string(),
  seconds: v.number(),
  toolVersion: v.string(),
  encrypted: v.boolean(),
  recipients: v.optional(v.array(v.string())),
  verified: v.nullable(verificationSchema),
});

export type BackupManifest = v.InferOutput<typeof manifestSchema>;
export type Verification = v.InferOutput<typeof verificationSchema>;
export type HashKVRecord = v.InferOutput<typeof hashKVSchema>;

/** The manifest in `text`, or a one-line reason it is not one. */
export function parseManifest(text: string): { manifest: BackupManifest } | { error: string } {
  const parsed = parseJson(manifestSchema, text);
  return 'error' in parsed ? parsed : { manifest: parsed.value };
}

export function renderManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function withVerification(manifest: BackupManifest, verification: Verification): BackupManifest {
  return { ...manifest, verified: verification };
}
