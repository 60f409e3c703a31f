import { type Command, InvalidArgumentError } from 'commander';
import { type GlobalOptions, Settings } from '../app/settings.js';
import { UserError } from '../errors.js';
import { createOutput, type Output } from '../render/output.js';

export type { EtcdTarget, GlobalOptions } from '../app/settings.js';
export { DEFAULT_CONFIG } from '../app/settings.js';

/** A command's view of the world: the shared settings plus where its output goes. */
export class CommandContext extends Settings {
  readonly out: Output;

  constructor(opts: GlobalOptions) {
    super(opts);
    this.out = createOutput({ json: Boolean(opts.json) });
  }

  static from(command: Command): CommandContext {
    return new CommandContext(command.optsWithGlobals<GlobalOptions>());
  }
}

/** The --timeout flag of status/doctor/recover: a per-endpoint deadline. */
/** The command groups several modules add subcommands to, and their one description. */
const GROUPS = {
  backup: 'take and list backups',
  restore: 'restore from a backup',
  verify: 'restore drills',
  guide: 'recovery paths in plain words',
} as const;

/** `lifeboat backup`, `restore`, `verify`, `guide`: the group with that name, created when no module did yet. */
export function commandGroup(program: Command, name: keyof typeof GROUPS): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(GROUPS[name]);
}

/** commander's argument parser for a repeatable option: every value, in the order given. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseTimeout(text: string): number {
  const ms = wholeNumber(text);
  if (ms === undefined || ms < 100 || ms > 60_000) {
    throw new UserError(`--timeout must be milliseconds between 100 and 60000, got "${text}"`);
  }
  return ms;
}

/**
 * A whole number as people type it, digits only: Number() also takes "", " ", "0x10", "1e3" and "Infinity"
 * (`--days 0x10` meant 16 days, `--verify-every ""` meant 0 = never drill).
 */
export function wholeNumber(text: string): number | undefined {
  return /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

/** A commander argument parser for a whole number: a bad value is commander's one-line error, exit 2. */
export function intArg(ok: (n: number) => boolean, problem: string): (value: string) => number {
  return (value) => {
    const n = wholeNumber(value);
    if (n === undefined || !ok(n)) throw new InvalidArgumentError(problem);
    return n;
  };
}

/** Exit code of the command that ran in this process (commander actions cannot return one). */
let actionExitCode = 0;

export function takeExitCode(): number {
  const code = actionExitCode;
  actionExitCode = 0;
  return code;
}

/**
 * Wrap a command body for commander: builds the context and records the exit code it returns.
 * `opts` are the command's own options; `args` its positional arguments.
 */
export function action<O = Record<string, unknown>>(
  body: (ctx: CommandContext, opts: O, args: string[]) => Promise<number>,
): (...commanderArgs: unknown[]) => Promise<void> {
  return async (...commanderArgs: unknown[]) => {
    const command = commanderArgs[commanderArgs.length - 1] as Command;
    const ctx = CommandContext.from(command);
    actionExitCode = await body(ctx, command.opts() as O, command.args);
  };
}
