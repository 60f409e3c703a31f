import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { DumpParser, type DumpSummary } from '../../domain/mysql/dump-parser.js';
import { explainToolFailure, StderrKeeper } from '../../domain/mysql/errors.js';
import { DatabaseRenamer } from '../../domain/mysql/rename.js';
import type { MysqlTls } from '../../domain/mysql/tls.js';
import {
  chooseTool,
  dumpArgs,
  type Flavor,
  loadArgs,
  type ProgramPaths,
  type ServerInfo,
} from '../../domain/mysql/tools.js';
import { UserError } from '../../errors.js';
import { stopProcess } from '../proc/process.js';
import type { ByteTransform } from '../snapshot/stream.js';
import { clientEnv, clientTool, dumpTools, programPaths, withDefaultsFile } from './programs.js';

/** How to log in with the stock clients (through an option file; never argv). */
export interface ClientLogin {
  user: string;
  password?: string;
  host: string;
  port: number;
  socket?: string;
  tls?: MysqlTls;
}

export interface LoadRequest {
  /** The stored object as read from the store (gzip, maybe age). */
  input: Readable;
  decrypt?: ByteTransform;
  login: ClientLogin;
  /** Load a single-database dump under another name. */
  rename?: { from: string; to: string };
  onProgress?: (plaintextBytes: number, rows: number) => void;
  signal?: AbortSignal;
  /** The engine of the server loaded into: its own client program is used. Default MariaDB. */
  flavor?: Flavor;
  paths?: ProgramPaths;
}

export interface Loaded {
  /** What the dump held, read as it streamed into the server. */
  summary: DumpSummary;
  /** The stored bytes as read (compare with the manifest). */
  stored: { size: number; sha256: string };
}

/** A client program rejected the dump (the first SQL error it hit is in the message). */
export class LoadFailedError extends UserError {
  /** What the parser saw, and whether it saw the whole input (a cut-short file fails at its end). */
  partial?: { summary: DumpSummary; inputEnded: boolean };
}

/** Stream a stored dump into a server: read, (decrypt), gunzip, parse on the way, (rename), into `mariadb`/`mysql`. */
export async function loadDump(req: LoadRequest): Promise<Loaded> {
  const tool = clientTool(req.flavor ?? 'mariadb', programPaths(req.paths));
  return withDefaultsFile({ ...req.login, flavor: tool.flavor }, async (file) => {
    const child = spawn(tool.path, loadArgs(tool, { defaultsFile: file, socket: req.login.socket }), {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: clientEnv(),
    });
    const status = watch(child);
    const hash = createHash('sha256');
    let size = 0;
    const parser = new DumpParser();
    const renamer = req.rename ? new DatabaseRenamer(req.rename.from, req.rename.to) : undefined;
    let inputEnded = false;
    async function* measure(input: AsyncIterable<Buffer>) {
      for await (const chunk of input) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    }
    async function* parse(input: AsyncIterable<Buffer>) {
      for await (const chunk of input) {
        parser.feed(chunk);
        req.onProgress?.(parser.bytesSoFar, parser.rowsSoFar);
        yield renamer ? renamer.push(chunk) : chunk;
      }
      inputEnded = true;
      if (renamer) yield renamer.flush();
    }
    const fail = (exit: Exit) => {
      const error = failed(tool.command, exit, status.stderr());
      error.partial = { summary: parser.end(), inputEnded };
      return error;
    };
    const decrypt = req.decrypt ?? ((input: AsyncIterable<Buffer>) => input);
    try {
      await pipeline(req.input, measure, decrypt, createGunzip(), parse, child.stdin, { signal: req.signal });
    } catch (err) {
      // The client quitting at the first SQL error shows up here as EPIPE: then its own message is the news. When it
      // was still running, the failure is on our side (store, decryption, gzip): that is the news, the client is
      // stopped.
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const clientQuit = status.child.exitCode !== null || ['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'].includes(code);
      const exit = await settle(child.pid, status);
      if (req.signal?.aborted) throw err;
      if (clientQuit && exit.code !== 0) throw fail(exit);
      throw new LoadFailedError(`cannot read the dump: ${readProblem(err)}`, undefined, 1);
    }
    const exit = await status.exited;
    if (exit.code !== 0) throw fail(exit);
    return { summary: parser.end(), stored: { size, sha256: hash.digest('hex') } };
  });
}

/**
 * Dump `databases` again from a server (the restored scratch) and run the same parser over the output, without
 * storing it: the other side of the comparison. Uses the dump tool of the server's own vendor.
 */
export async function redump(
  login: ClientLogin,
  server: ServerInfo,
  databases: string[],
  opts: { signal?: AbortSignal; paths?: ProgramPaths } = {},
) {
  const { signal } = opts;
  const choice = chooseTool(server, dumpTools(programPaths(opts.paths)));
  if (!choice) throw new UserError('no dump program found', undefined, 1);
  if ('refused' in choice) throw new UserError(choice.refused, choice.hint, 1);
  const { tool } = choice;
  return withDefaultsFile({ ...login, flavor: tool.flavor }, async (file) => {
    const child = spawn(tool.path, dumpArgs(tool, { defaultsFile: file, socket: login.socket }, databases), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: clientEnv(),
    });
    const status = watch(child);
    const parser = new DumpParser();
    try {
      await pipeline(
        child.stdout,
        async (input: AsyncIterable<Buffer>) => {
          for await (const chunk of input) parser.feed(chunk);
        },
        { signal },
      );
    } catch (err) {
      await settle(child.pid, status);
      throw err;
    }
    const exit = await status.exited;
    if (exit.code !== 0) throw failed(tool.command, exit, status.stderr());
    return parser.end();
  });
}

type Exit = { code: number | null; signal: string | null };

function watch(child: import('node:child_process').ChildProcess) {
  const kept = new StderrKeeper();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => kept.push(d));
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err) => {
      kept.push(`${err.message}\n`);
      resolve({ code: -1, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { exited, stderr: () => kept.text(), child };
}

async function settle(pid: number | undefined, status: ReturnType<typeof watch>): Promise<Exit> {
  if (status.child.exitCode === null && status.child.signalCode === null && pid !== undefined) {
    status.child.stdin?.destroy();
    const quick = await Promise.race([status.exited, deadline(2000)]);
    if (!quick) await stopProcess(pid, 3000);
  }
  return status.exited;
}

/** zlib's words for a damaged file, in the operator's. */
function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/.test(e.message ?? '')) {
    return 'the compressed file is cut short (unexpected end of file)';
  }
  if (e.code === 'Z_DATA_ERROR') return `not gzip data, or damaged (${e.message})`;
  return e.message ?? String(err);
}

function deadline(ms: number): Promise<undefined> {
  return sleep(ms, undefined, { ref: false });
}

function failed(command: string, exit: Exit, stderr: string): LoadFailedError {
  const e = explainToolFailure(command, exit.code, exit.signal, stderr);
  return new LoadFailedError(e.message, e.hint, e.exitCode);
}
