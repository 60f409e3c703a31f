import { Argument, type Command, type Option } from 'commander';
import { UserError } from '../errors.js';
import { type CompletionCommand, completionScript, SHELLS, type Shell } from '../render/completion.js';
import { action } from './context.js';

/** commander's tree as the completion scripts need it: names, options, descriptions. */
export function completionTree(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    options: command.options
      .filter((o: Option) => !o.hidden)
      .map((o: Option) => ({
        flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
        description: o.description,
        takesValue: o.required || o.optional,
      })),
    choices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
    subcommands: command.commands.filter((c) => !(c as { _hidden?: boolean })._hidden).map(completionTree),
  };
}

/**
 * `lifeboat completion SHELL`. `fullProgram` builds the program with every command: the one running this command
 * loaded only this module (see cli.ts).
 */
export function registerCompletion(fullProgram: () => Promise<Command>): (program: Command) => void {
  return (program) => {
    program
      .command('completion')
      .description('print a shell completion script (bash, zsh or fish) for every command and option')
      .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
      .addHelpText(
        'after',
        `
Examples:
  lifeboat completion bash > /etc/bash_completion.d/lifeboat
  source <(lifeboat completion bash)                     this shell only
  lifeboat completion zsh > "\${fpath[1]}/_lifeboat"
  lifeboat completion fish > ~/.config/fish/completions/lifeboat.fish`,
      )
      .action(
        action(async (ctx, _opts, args) => {
          const shell = args[0] as Shell;
          if (!SHELLS.includes(shell)) {
            throw new UserError(`unknown shell "${args[0]}"`, `one of: ${SHELLS.join(', ')}`);
          }
          const script = completionScript(shell, completionTree(await fullProgram()));
          if (ctx.out.json) ctx.out.printJson({ shell, script });
          else process.stdout.write(script);
          return 0;
        }),
      );
  };
}
