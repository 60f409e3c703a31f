import { Command, CommanderError, Option } from 'commander';
import { registerCheck } from './commands/check.js';
import { takeExitCode } from './commands/context.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLab } from './commands/lab.js';
import { registerStatus } from './commands/status.js';
import { errorMessage, UserError } from './errors.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
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
Colours are off when NO_COLOR is set or stdout is not a terminal.`,
    );
  registerStatus(program);
  registerDoctor(program);
  registerCheck(program);
  registerLab(program);
  return program;
}

/** Runs the CLI and returns the exit code. Bad input: one line, exit 2; no stack trace unless --debug. */
export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const program = buildProgram();
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
      process.stderr.write(`lifeboat: error: ${err.message}${hint}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return err.exitCode;
    }
    process.stderr.write(`lifeboat: error: ${errorMessage(err).split('\n')[0]}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('lifeboat: run again with --debug for details\n');
    return 1;
  }
}

function applyToSubcommands(command: Command, fn: (cmd: Command) => void): void {
  for (const sub of command.commands) {
    fn(sub);
    applyToSubcommands(sub, fn);
  }
}
