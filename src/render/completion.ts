/**
 * Shell completion scripts, written from the command tree (src/commands/completion.ts reads it from commander), so a
 * new command or option is completed the day it exists. The scripts hold the tree as data: completing costs no start
 * of Lifeboat.
 */
export interface CompletionOption {
  /** `-c`, `--config`. */
  flags: string[];
  description: string;
  /** The option is followed by a value (a file, a URL...): complete files after it, not words. */
  takesValue: boolean;
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  /** Fixed values of its arguments (`completion bash|zsh|fish`). */
  choices: string[];
  subcommands: CompletionCommand[];
}

export type Shell = 'bash' | 'zsh' | 'fish';
export const SHELLS: Shell[] = ['bash', 'zsh', 'fish'];

export function completionScript(shell: Shell, root: CompletionCommand): string {
  if (shell === 'fish') return fishScript(root);
  const bash = bashScript(root);
  // zsh runs bash completion functions through bashcompinit: one script to keep right, not two.
  return shell === 'zsh' ? `#compdef ${root.name}\nautoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

interface Level {
  /** Command words from the root: `lifeboat backup`. */
  path: string[];
  command: CompletionCommand;
}

function levels(root: CompletionCommand): Level[] {
  const out: Level[] = [];
  const walk = (command: CompletionCommand, path: string[]) => {
    out.push({ path, command });
    for (const sub of command.subcommands) walk(sub, [...path, sub.name]);
  };
  walk(root, [root.name]);
  return out;
}

/** Words safe inside single quotes and case patterns: command and option names never hold quotes. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function bashScript(root: CompletionCommand): string {
  const fn = `_${root.name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  const all = levels(root);
  // Options of the root are accepted after any subcommand too (commander reads them anywhere).
  const globalFlags = root.options.flatMap((o) => o.flags);
  const valueFlags = [
    ...new Set(all.flatMap((l) => l.command.options.filter((o) => o.takesValue).flatMap((o) => o.flags))),
  ];
  const descend = all
    .filter((l) => l.path.length > 1)
    .map(
      (l) =>
        `      ${quote(`${l.path.slice(0, -1).join(' ')}:${l.command.name}`)}) path+=${quote(` ${l.command.name}`)} ;;`,
    );
  const words = all.map((l) => {
    const own = l.command.options.flatMap((o) => o.flags);
    const list = [
      ...l.command.subcommands.map((s) => s.name),
      ...l.command.choices,
      ...new Set([...own, ...(l.path.length > 1 ? globalFlags : [])]),
    ];
    return `    ${quote(l.path.join(' '))}) words=${quote(list.join(' '))} ;;`;
  });
  return `# ${root.name} completion for bash: source it, or put it in /etc/bash_completion.d/${root.name}
# (written by \`${root.name} completion bash\` from the command tree).
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev= path=${quote(root.name)} i w words=
  ((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD-1]}
  case "$prev" in
    ${valueFlags.length ? valueFlags.join('|') : '--'}) return 0 ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case "$w" in
      ${valueFlags.length ? valueFlags.join('|') : '--'}) ((i++)); continue ;;
    esac
    case "$path:$w" in
${descend.join('\n')}
    esac
  done
  case "$path" in
${words.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${root.name}
`;
}

function fishScript(root: CompletionCommand): string {
  const lines = [
    `# ${root.name} completion for fish: put it in ~/.config/fish/completions/${root.name}.fish`,
    `# (written by \`${root.name} completion fish\` from the command tree).`,
  ];
  const option = (o: CompletionOption, condition: string | undefined) => {
    const parts = [`complete -c ${root.name}`];
    if (condition) parts.push(`-n ${quote(condition)}`);
    for (const flag of o.flags) parts.push(flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`);
    parts.push(o.takesValue ? '-r' : '-f');
    if (o.description) parts.push(`-d ${quote(o.description)}`);
    return parts.join(' ');
  };
  for (const o of root.options) lines.push(option(o, undefined));
  for (const level of levels(root)) {
    const inside = level.path.slice(1);
    const subs = level.command.subcommands.map((s) => s.name);
    // At this level: every command word of the path seen, and none of this level's subcommands yet.
    const seen = inside.map((w) => `__fish_seen_subcommand_from ${w}`);
    const here = level.path.length === 1 ? ['__fish_use_subcommand'] : seen;
    const atLevel = subs.length ? [...here, `not __fish_seen_subcommand_from ${subs.join(' ')}`] : here;
    for (const sub of level.command.subcommands) {
      lines.push(
        `complete -c ${root.name} -f -n ${quote(atLevel.join('; and '))} -a ${sub.name} -d ${quote(sub.description)}`,
      );
    }
    if (level.command.choices.length && level.path.length > 1) {
      lines.push(
        `complete -c ${root.name} -f -n ${quote(here.join('; and '))} -a ${quote(level.command.choices.join(' '))}`,
      );
    }
    if (level.path.length > 1) for (const o of level.command.options) lines.push(option(o, here.join('; and ')));
  }
  return `${lines.join('\n')}\n`;
}
