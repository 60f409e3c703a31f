import type { BackupManifest, HashKVRecord, Verification } from './manifest.js';

/** What a restore drill must show, from the manifest. */
export interface Expectation {
  revision: number;
  keys: number;
  hashKV: HashKVRecord | null;
}

/** What the restored throwaway member showed. keys and hashKV are asked at the expected revision when there is one. */
export interface Observation {
  /** The restored member's current store revision. */
  revision: number;
  keys: number | null;
  keysError?: string;
  hashKV: number | null;
  hashKVError?: string;
}

export interface Comparison {
  ok: boolean;
  /** null when there was nothing to compare with (no manifest, or no HashKV recorded). */
  hashKVMatch: boolean | null;
  problems: string[];
}

export function expectationOf(manifest: BackupManifest): Expectation {
  return { revision: manifest.revision, keys: manifest.keys, hashKV: manifest.hashKV };
}

/** Restored copy vs manifest: each check that fails is one problem naming it. Without a manifest only "it runs". */
export function compareRestore(expected: Expectation | undefined, observed: Observation): Comparison {
  const problems: string[] = [];
  if (!expected) {
    if (observed.keysError) problems.push(`key count: ${observed.keysError}`);
    return { ok: problems.length === 0, hashKVMatch: null, problems };
  }
  if (observed.revision < expected.revision) {
    problems.push(
      `revision: the restored copy is at revision ${observed.revision}, the manifest says ${expected.revision}`,
    );
  }
  if (observed.keysError) problems.push(`key count at revision ${expected.revision}: ${observed.keysError}`);
  else if (observed.keys !== expected.keys) {
    problems.push(
      `key count at revision ${expected.revision}: ${observed.keys} restored, the manifest says ${expected.keys}`,
    );
  }
  let hashKVMatch: boolean | null = null;
  if (expected.hashKV) {
    if (observed.hashKVError) {
      hashKVMatch = false;
      problems.push(`HashKV at revision ${expected.revision}: ${observed.hashKVError}`);
    } else {
      hashKVMatch = observed.hashKV === expected.hashKV.hash;
      if (!hashKVMatch) {
        problems.push(
          `HashKV mismatch at revision ${expected.revision}: restored ${observed.hashKV}, source member had ${expected.hashKV.hash}`,
        );
      }
    }
  }
  return { ok: problems.length === 0, hashKVMatch, problems };
}

/** The stored bytes must be the ones the backup wrote (for an encrypted file this is the only end-to-end check). */
export function storedHashProblem(manifest: BackupManifest | undefined, size: number, sha256: string): string[] {
  if (!manifest) return [];
  if (manifest.size !== size) return [`size: the stored file has ${size} bytes, the manifest says ${manifest.size}`];
  if (manifest.sha256 !== sha256) return ['sha256 of the stored file differs from the manifest (the file changed)'];
  return [];
}

export function verificationRecord(
  result: { ok: boolean; revision: number | null; keys: number | null; hashKVMatch: boolean | null },
  problems: string[],
  at: number,
  seconds: number,
  toolVersion: string,
): Verification {
  return {
    ok: result.ok,
    at: new Date(at).toISOString(),
    revision: result.revision,
    keys: result.keys,
    hashKVMatch: result.hashKVMatch,
    seconds,
    problems,
    toolVersion,
  };
}
