import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_LAB_DIR, type LabMemberPlan } from '../../domain/lab-plan.js';
import { UserError } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import { writeFileAtomic } from '../host/atomic-file.js';

/**
 * D/lab.json: what `lab up` created, so every later `lab` command (a separate process) finds the members again.
 * Written atomically: a `lab kill` racing a crash must never leave half a file that makes the lab unmanageable.
 */

export const LAB_STATE_FILE = 'lab.json';
export const LAB_CONFIG_FILE = 'lifeboat.yaml';

/** A planned member (domain/lab-plan.ts) as started. */
export interface LabMemberState extends LabMemberPlan {
  /** Last pid the CLI started; running-ness is checked against the process table, not trusted from here. */
  pid: number | null;
}

export interface LabState {
  version: 1;
  /** Absolute lab directory. */
  dir: string;
  /** --initial-cluster-token: keeps this lab's members from ever talking to another lab's. */
  token: string;
  initialCluster: string;
  /** Path of the lab's lifeboat.yaml. */
  config: string;
  createdAt: string;
  members: LabMemberState[];
}

/**
 * Where the lab is: --dir, else etcd.lab.dir of the config the user named (relative to that file), else ./.lab.
 * A config without a lab dir is a mistake worth saying, not a reason to fall back silently.
 */
export function resolveLabDir(dirOption: string | undefined, config: LoadedConfig | undefined): string {
  if (dirOption) return resolve(dirOption);
  if (config) {
    const labDir = config.config.etcd?.lab?.dir;
    if (!labDir) throw new UserError(`${config.path} has no etcd.lab.dir`, 'pass the lab directory with --dir');
    return resolve(dirname(config.path), labDir);
  }
  return resolve(DEFAULT_LAB_DIR);
}

export function labStatePath(dir: string): string {
  return join(dir, LAB_STATE_FILE);
}

/** The lab in `dir`, or undefined when there is none. A damaged lab.json is a user-facing error, not a crash. */
export function readLabState(dir: string): LabState | undefined {
  const path = labStatePath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let state: LabState;
  try {
    state = JSON.parse(text) as LabState;
  } catch {
    throw new UserError(`${path} is not valid JSON`, 'remove the lab with `lifeboat lab down --purge` and start again');
  }
  if (state.version !== 1 || !Array.isArray(state.members) || state.members.length === 0) {
    throw new UserError(`${path} is not a lab state file this version understands`);
  }
  return state;
}

export function writeLabState(state: LabState): void {
  writeFileAtomic(labStatePath(state.dir), `${JSON.stringify(state, null, 2)}\n`);
}
