import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const BUNDLE = resolve(import.meta.dirname, '../../dist/bundle');
const RUNNER = resolve(import.meta.dirname, 'cli-batch-runner.mjs');

/** What one command line of a batch did. `hung`: still running at its deadline; `crash`: an uncaught error. */
export interface BatchResult {
  argv: string[];
  code: number | 'hung' | 'crash';
  stdout: string;
  stderr: string;
  ms: number;
}

export interface BatchOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** A command line still running after this long is a hang (the process is killed, the batch goes on). */
  deadlineMs: number;
}

/**
 * Run many command lines through the real CLI entry (the bundle's main, as bin/lifeboat.js calls it) in as few Node
 * processes as possible: one, unless a command line hangs or crashes, when that process is killed and another
 * carries on from the next command line. Hundreds of bad inputs then cost seconds, not a Node start each.
 */
export async function runCliBatch(cases: string[][], opts: BatchOptions): Promise<BatchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-batch-'));
  const casesFile = join(dir, 'cases.json');
  writeFileSync(casesFile, JSON.stringify(cases));
  const results: BatchResult[] = [];
  try {
    while (results.length < cases.length) results.push(...(await runFrom(cases, casesFile, results.length, opts)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** One runner process from command line `from` until the end, a hang or a crash (that one is the last result). */
function runFrom(cases: string[][], casesFile: string, from: number, opts: BatchOptions): Promise<BatchResult[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [RUNNER, BUNDLE, casesFile, String(from)], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      // Its own process group: a hang is ended with everything the command line started.
      detached: true,
    });
    const results: BatchResult[] = [];
    let running: { index: number; started: number; timer: NodeJS.Timeout } | undefined;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const end = (code: BatchResult['code'], text: string) => {
      if (!running) return;
      clearTimeout(running.timer);
      results.push({ argv: cases[running.index]!, code, stdout: '', stderr: text, ms: Date.now() - running.started });
      running = undefined;
    };
    createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
      const message = JSON.parse(line) as {
        start?: number;
        done?: number;
        crash?: number;
        code?: number;
        stdout?: string;
        stderr?: string;
        ms?: number;
        error?: string;
      };
      if (message.start !== undefined) {
        const index = message.start;
        const timer = setTimeout(() => {
          end('hung', '');
          killGroup(child.pid!);
        }, opts.deadlineMs);
        running = { index, started: Date.now(), timer };
      } else if (message.done !== undefined && running) {
        clearTimeout(running.timer);
        results.push({
          argv: cases[message.done]!,
          code: message.code!,
          stdout: message.stdout!,
          stderr: message.stderr!,
          ms: message.ms!,
        });
        running = undefined;
      } else if (message.crash !== undefined) {
        end('crash', message.error ?? '');
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      // Died without telling (killed by the kernel, a native crash): the command line that was running did it.
      end('crash', stderr);
      if (results.length === 0) reject(new Error(`batch runner made no progress from ${from}: ${stderr}`));
      else resolvePromise(results);
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
