import { Command, CommanderError, Option } from 'commander';
import { receiveRelayedSignals } from './adapters/proc/small-heap.js';
import { loadZoneRules } from './adapters/zoneinfo.js';
import { takeExitCode } from './commands/context.js';
import { useZoneRules } from './domain/schedule/tz.js';
import { errorMessage, UserError } from './errors.js';
import { VERSION } from './version.js';

// bin/lifeboat.js sets these up through the bundle, as src/sea.ts does for the single-file executable.
export { exitWhenDone, installProcessGuards } from './process-guards.js';

type Registrar = (program: Command) => void;

interface CommandModule {
  /** Top-level commands the module defines or adds to. */
  commands: string[];
  /**
   * For a top-level command several modules add to: the subcommands this module adds (`backup etcd`, `backup helm`).
   * Then `lifeboat backup etcd` loads only the module with `etcd`; a module without an entry defines the command
   * itself (`verify FILE`).
   */
  subcommands?: Record<string, string[]>;
  load: () => Promise<Registrar>;
}

/**
 * Which module defines which commands. Only the modules of the command being run are loaded: importing all of them
 * (S3, Kubernetes, MySQL clients...) made every start, even `check`, pay for everything. Help and unknown commands
 * load them all, in this order (the order of `lifeboat --help`).
 */
const COMMAND_MODULES: CommandModule[] = [
  { commands: ['status'], load: async () => (await import('./commands/status.js')).registerStatus },
  { commands: ['doctor'], load: async () => (await import('./commands/doctor.js')).registerDoctor },
  { commands: ['check'], load: async () => (await import('./commands/check.js')).registerCheck },
  { commands: ['lab'], load: async () => (await import('./commands/lab.js')).registerLab },
  { commands: ['recover'], load: async () => (await import('./commands/recover.js')).registerRecover },
  {
    commands: ['backup'],
    subcommands: { backup: ['etcd', 'list'] },
    load: async () => (await import('./commands/backup.js')).registerBackup,
  },
  { commands: ['verify'], load: async () => (await import('./commands/verify.js')).registerVerify },
  { commands: ['prune'], load: async () => (await import('./commands/prune.js')).registerPrune },
  {
    commands: ['backup', 'restore'],
    subcommands: { backup: ['helm'], restore: ['helm'] },
    load: async () => (await import('./commands/helm.js')).registerHelm,
  },
  {
    commands: ['restore'],
    subcommands: { restore: ['etcd'] },
    load: async () => (await import('./commands/etcdlog.js')).registerRestoreEtcd,
  },
  { commands: ['agent'], load: async () => (await import('./commands/agent.js')).registerAgent },
  { commands: ['maintain'], load: async () => (await import('./commands/maintain.js')).registerMaintain },
  { commands: ['serve'], load: async () => (await import('./commands/serve.js')).registerServe },
  { commands: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  { commands: ['version'], load: async () => (await import('./commands/version.js')).registerVersion },
  {
    commands: ['completion'],
    // The script covers every command, so it is written from a program with all of them loaded.
    load: async () => (await import('./commands/completion.js')).registerCompletion(() => buildProgram([])),
  },
  {
    commands: ['backup', 'verify', 'restore', 'guide'],
    subcommands: { backup: ['mysql'], verify: ['mysql'], restore: ['mysql'] },
    load: async () => {
      const [mysql, { commandGroup }] = await Promise.all([
        import('./commands/mysql.js'),
        import('./commands/context.js'),
      ]);
      return (program) => {
        mysql.registerBackupMysql(commandGroup(program, 'backup'));
        mysql.registerVerifyMysql(commandGroup(program, 'verify'));
        mysql.registerRestoreMysql(commandGroup(program, 'restore'));
        mysql.registerGuide(program);
      };
    },
  },
];

/**
 * The modules to load for argv. Pure: the command (first operand) picks its modules; where several modules add to
 * it, the word after it picks the one that adds that subcommand, else the module that defines the command itself.
 * Anything unrecognised (no command, `backup --help`, `backup bogus`) loads every candidate, so help is complete
 * and commander can suggest the right name.
 */
export function modulesFor<M extends Pick<CommandModule, 'commands' | 'subcommands'>>(
  modules: M[],
  argv: string[],
): M[] {
  const [name, next] = operandsOf(argv);
  if (name === undefined) return argv.includes('-V') || argv.includes('--version') ? [] : modules;
  const candidates = modules.filter((m) => m.commands.includes(name));
  if (candidates.length === 0) return modules;
  if (candidates.length === 1) return candidates;
  const adding = candidates.filter((m) => next !== undefined && m.subcommands?.[name]?.includes(next));
  if (adding.length > 0) return adding;
  const defining = candidates.filter((m) => m.subcommands?.[name] === undefined);
  return next !== undefined && !next.startsWith('-') && defining.length > 0 ? defining : candidates;
}

/** Global options that take a value: their value is not the command name. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-c', '--config', '--endpoints', '--cacert', '--cert', '--key', '--user']);

/** The top-level command named in argv (the first operand), if any. */
export function commandNameOf(argv: string[]): string | undefined {
  return operandsOf(argv)[0];
}

/** The command and the word right after it (a subcommand, an operand, or an option), past global options. */
function operandsOf(argv: string[]): [string | undefined, string | undefined] {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [argv[i + 1], argv[i + 2]];
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return [arg, argv[i + 1]];
  }
  return [undefined, undefined];
}

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('lifeboat')
    .description("Keep your Kubernetes cluster's etcd alive and recoverable.")
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'lifeboat.yaml to read (default: ./lifeboat.yaml when present)')
    .option('--endpoints <urls>', 'etcd client URLs, comma-separated (like etcdctl; overrides the config)')
    .option('--cacert <file>', 'CA bundle that signed the etcd server certificates')
    .option('--cert <file>', 'client certificate for etcd')
    .option('--key <file>', 'client key for etcd')
    .option('--user <name>', 'etcd user; the password comes from ETCDCTL_PASSWORD, never from the command line')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--debug', 'print stack traces and internal detail on errors'))
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Examples:
  lifeboat lab up --dir ./lab            start a 3-member practice etcd cluster on this machine
  lifeboat -c ./lab/lifeboat.yaml doctor explain what state that cluster is in
  lifeboat --endpoints 10.0.0.11:2379,10.0.0.12:2379,10.0.0.13:2379 \\
    --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt \\
    --key /etc/kubernetes/pki/etcd/healthcheck-client.key status
  lifeboat check -c examples/incident.yaml   find the moments a reboot schedule breaks quorum

Exit codes: 0 ok, 1 problems found, 2 bad input, 3 etcd unreachable or quorum lost.
Every lifeboat.yaml key (type, default, example): docs/CONFIG.md in the source tree.
Colours are off when NO_COLOR is set or stdout is not a terminal.`,
    );
  const registrars = await Promise.all(modulesFor(COMMAND_MODULES, argv).map((m) => m.load()));
  for (const register of registrars) register(program);
  return program;
}

/** Runs the CLI and returns the exit code. Bad input: one line, exit 2; no stack trace unless --debug. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  receiveRelayedSignals();
  // Time zones from the system's tz files, as cron and systemd see them, and without ICU's start-up cost. Nothing
  // is read until a zone is asked for.
  useZoneRules(loadZoneRules);
  const program = await buildProgram(argv);
  let commanderError = '';
  program.exitOverride();
  program.configureOutput({ writeErr: (text) => (commanderError += text) });
  applyToSubcommands(program, (cmd) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (text) => (commanderError += text) });
  });
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      // A command group run without a subcommand (`lifeboat lab`): its help is the useful answer.
      if (err.code === 'commander.help') {
        process.stderr.write(commanderError);
        return 2;
      }
      // Commander's own messages can span two lines ("Did you mean ...?"); keep them on one.
      const text = (commanderError || err.message).replace(/\s*\n\s*/g, ' ').trim();
      process.stderr.write(`lifeboat: ${text.replace(/^error: /, 'error: ')}\n`);
      return 2;
    }
    if (err instanceof UserError) {
      const hint = err.hint ? ` (${err.hint})` : '';
      process.stderr.write(`lifeboat: error: ${printable(`${err.message}${hint}`)}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`lifeboat: error: ${printable(errorMessage(err).split('\n')[0] ?? '')}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('lifeboat: run again with --debug for details\n');
    return 1;
  }
}

/**
 * One line a terminal shows as it is: control and non-printable characters (a binary file's bytes echoed by a parser)
 * become \xNN escapes, and a runaway message is cut.
 */
export function printable(text: string, max = 600): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, (c) =>
    c === '\ufffd' ? '\\ufffd' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped.length > max ? `${escaped.slice(0, max)}... (${escaped.length - max} more characters)` : escaped;
}

function applyToSubcommands(command: Command, fn: (cmd: Command) => void): void {
  for (const sub of command.commands) {
    fn(sub);
    applyToSubcommands(sub, fn);
  }
}
