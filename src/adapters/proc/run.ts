import { type StdioOptions, spawn } from 'node:child_process';

/**
 * Run a program to its end and collect what it said: the one spawn-and-collect of Lifeboat (restore tool, agent
 * commands, helm, the lab's child lifeboat, MySQL's installer). Never rejects: a program that cannot start is a
 * result with `error`, so every caller words its own failure.
 */

export interface RunOptions {
  /** SIGKILL after this long (the result says `timedOut`). */
  timeoutMs?: number;
  /** Abort: the child gets SIGKILL. */
  signal?: AbortSignal;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Characters kept of stderr and of the interleaved output (default 8192; stdout is kept whole). */
  tailChars?: number;
  /** Where stdout and stderr go instead of being collected (a log file's fd, this process's stderr). */
  stdio?: StdioOptions;
  /** stderr is collected and also copied here as it comes (helm's progress stays visible). */
  echoStderr?: NodeJS.WritableStream;
}

export interface RunResult {
  /** Exit code; null when killed or never started. */
  code: number | null;
  /** The signal that ended it (SIGKILL after the deadline). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  /** The tail of stderr. */
  stderr: string;
  /** The tail of stdout and stderr interleaved as they came. */
  output: string;
  /** Why it did not start (ENOENT, EACCES...). */
  error?: string;
}

export function runToEnd(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const tail = opts.tailChars ?? 8192;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
      signal: opts.signal,
      killSignal: 'SIGKILL',
    });
    const result: RunResult = { code: null, signal: null, timedOut: false, stdout: '', stderr: '', output: '' };
    child.stdout?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      result.stdout += text;
      result.output = (result.output + text).slice(-tail);
    });
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      opts.echoStderr?.write(d);
      result.stderr = (result.stderr + text).slice(-tail);
      result.output = (result.output + text).slice(-tail);
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            result.timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    child.once('error', (err) => {
      // An abort arrives as an error too, followed by 'close': the close carries the signal.
      if ((err as NodeJS.ErrnoException).code === 'ABORT_ERR') return;
      result.error = err.message;
      settle();
    });
    child.once('close', (code, signal) => {
      result.code = code;
      result.signal = signal;
      settle();
    });
  });
}
