import type { Command } from 'commander';

/**
 * Command lines written for people and machines (README, --help examples, systemd units, pod args) checked against
 * the real command tree: the commands exist, their options exist, and values shown for options with choices are
 * among them. Words are shell words; `[--flag]` and `a|b` alternatives are read as a synopsis writes them.
 */

/** Each `lifeboat` invocation in a shell snippet: the words after `lifeboat`, `/usr/local/bin/lifeboat` or `node bin/lifeboat.js`. */
export function invocations(snippet: string): string[][] {
  const found: string[][] = [];
  for (const segment of snippet.split(/&&|\|\||;|\$\(|\s\|\s/)) {
    const words = segment.trim().split(/\s+/).filter(Boolean);
    let i = 0;
    while (i < words.length && (/^[A-Z_]+=/.test(words[i]!) || words[i] === 'sudo')) i++;
    if (words[i] === 'lifeboat' || words[i] === '/usr/local/bin/lifeboat') found.push(words.slice(i + 1));
    else if (words[i] === 'node' && words[i + 1] === 'bin/lifeboat.js') found.push(words.slice(i + 2));
  }
  return found;
}

function optionOf(chain: Command[], flag: string): { takesValue: boolean; choices?: string[] } | undefined {
  if (flag === '--help' || flag === '-h') return { takesValue: false };
  for (const cmd of chain) {
    const option = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (option) return { takesValue: option.required || option.optional, choices: option.argChoices };
  }
  return undefined;
}

/** What is wrong with one invocation, if anything: an unknown command or an option no command in its chain has. */
export function commandLineProblems(program: Command, words: string[]): string[] {
  const wrong: string[] = [];
  const chain: Command[] = [program];
  let positional = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!.replace(/^\[|\]$/g, '').replace(/^["']|["']$/g, '');
    if (word === '' || word === '...' || word === '…') continue;
    if (word.startsWith('-')) {
      for (const alt of word.split('|')) {
        const flag = alt.replace(/=.*$/, '').replace(/[\])]+$/, '');
        if (!flag.startsWith('-')) continue;
        const option = optionOf(chain, flag);
        if (!option) wrong.push(`${chain.map((c) => c.name()).join(' ')}: no option ${flag}`);
        else if (option.takesValue) {
          const value = alt.includes('=') ? alt.slice(alt.indexOf('=') + 1) : words[++i];
          // A value shown for an option with choices (`--plan snapshot`) must be one of them; NAME is a placeholder.
          for (const v of (value ?? '').replace(/[[\]]/g, '').split('|')) {
            if (option.choices && v !== '' && !/^[A-Z_]+$/.test(v) && !option.choices.includes(v))
              wrong.push(`${chain.map((c) => c.name()).join(' ')}: ${flag} has no choice ${v}`);
          }
        }
      }
      continue;
    }
    const current = chain[chain.length - 1]!;
    if (positional || current.commands.length === 0) {
      positional = true;
      continue;
    }
    const alternatives = word.split(/[|/]/);
    const subs = alternatives.map((w) => current.commands.find((c) => c.name() === w || c.aliases().includes(w)));
    if (subs.every((s) => s === undefined)) {
      // An operand of a command that also has subcommands (`verify FILE`), else a command that does not exist.
      if (current === program || current.registeredArguments.length === 0)
        wrong.push(`${chain.map((c) => c.name()).join(' ')}: no command ${word}`);
      positional = true;
      continue;
    }
    subs.forEach((s, k) => {
      if (s === undefined) wrong.push(`${chain.map((c) => c.name()).join(' ')}: no command ${alternatives[k]}`);
    });
    chain.push(subs.find((s) => s !== undefined)!);
  }
  return wrong;
}
