import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps a long byte stream's memory flat. Every gRPC message becomes a few short-lived Buffers whose memory lives
 * outside the JS heap; V8 only collects their (tiny) JS handles when the heap itself fills, so tens of MB of dead
 * chunk memory pile up between collections. A young-generation collection every few MB frees them (about 1 ms each,
 * < 1% of the stream time) and holds the process to roughly its idle size plus the chunks in flight.
 * Best effort: where the runtime refuses, this does nothing.
 */

type Gc = (opts?: { type?: 'minor' | 'major'; execution?: 'sync' }) => void;

let gc: Gc | null | undefined;

function loadGc(): Gc | null {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Gc;
  } catch {
    return null;
  }
}

/**
 * Returns a per-chunk hook that runs a minor collection every `minorBytes` and a full one every `majorBytes` (chunks
 * still queued for writing at a minor collection get promoted, and only a full collection frees those).
 */
export function memoryHygiene(minorBytes = 2 * MiB, majorBytes = 32 * MiB): (bytes: number) => void {
  gc ??= loadGc();
  const collect = gc;
  if (!collect) return () => undefined;
  let sinceMinor = 0;
  let sinceMajor = 0;
  return (bytes) => {
    sinceMinor += bytes;
    sinceMajor += bytes;
    if (sinceMajor >= majorBytes) {
      sinceMajor = 0;
      sinceMinor = 0;
      collect({ type: 'major' });
    } else if (sinceMinor >= minorBytes) {
      sinceMinor = 0;
      collect({ type: 'minor' });
    }
  };
}

const MiB = 1024 * 1024;
