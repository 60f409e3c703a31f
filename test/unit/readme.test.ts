import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { commandLineProblems, invocations } from '../helpers/command-line.js';

/**
 * The README is the newcomer's way in (issue 15): every `lifeboat …` it shows, and every example in a command's
 * --help, must be a command that exists, with options (and option choices) that exist; every `npm run X` a script of
 * package.json; every link and every repo path it names a file in the repo. A renamed flag or a moved file then
 * fails here instead of in a reader's terminal.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = ['README.md', 'deploy/chart/lifeboat/templates/NOTES.txt'];
const text = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Shell lines of fenced code blocks (continuations joined, comments dropped) and inline `code` spans. */
function snippets(markdown: string): string[] {
  const out: string[] = [];
  const fences = markdown.split(/^```[^\n]*$/m);
  fences.forEach((part, i) => {
    if (i % 2 === 1) {
      const joined = part.replace(/\\\n\s*/g, ' ');
      for (const line of joined.split('\n')) out.push(line.replace(/(^|\s)#.*$/, ''));
    } else {
      for (const m of part.matchAll(/`([^`\n]+)`/g)) out.push(m[1]!.replace(/\\\|/g, '|'));
    }
  });
  return out;
}

describe('the README tells the truth', () => {
  it('finds the invocations to check (a changed layout must not make this test vacuous)', () => {
    const all = DOCS.flatMap((f) => snippets(text(f)).flatMap(invocations));
    expect(all.length).toBeGreaterThan(40);
    expect(invocations('sudo lifeboat init --backup-to s3://b/etcd && lifeboat doctor')).toEqual([
      ['init', '--backup-to', 's3://b/etcd'],
      ['doctor'],
    ]);
  });

  it('every lifeboat command it shows exists, with options that exist', async () => {
    const program = await buildProgram([]);
    const wrong = DOCS.flatMap((file) =>
      snippets(text(file))
        .flatMap(invocations)
        .flatMap((words) =>
          commandLineProblems(program, words).map((p) => `${file}: lifeboat ${words.join(' ')}: ${p}`),
        ),
    );
    expect(wrong).toEqual([]);
  });

  it("every example in the commands' --help exists too, with options that exist", async () => {
    const program = await buildProgram([]);
    const commands: Command[] = [];
    const walk = (c: Command) => {
      commands.push(c);
      c.commands.forEach(walk);
    };
    walk(program);
    const wrong: string[] = [];
    let examples = 0;
    for (const c of commands) {
      let help = '';
      c.configureOutput({ writeOut: (t) => (help += t), writeErr: (t) => (help += t) });
      c.outputHelp();
      for (const line of help.replace(/\\\n\s*/g, ' ').split('\n')) {
        // `  lifeboat doctor --json      what it does`: the command ends where the two-space gap to its words begins.
        const example = /^\s*(?:\$ )?((?:[A-Z_]+=\S+\s+)*lifeboat .*)$/.exec(line)?.[1]?.split(/\s{2,}/)[0];
        if (example === undefined) continue;
        for (const words of invocations(example)) {
          examples++;
          wrong.push(...commandLineProblems(program, words).map((p) => `${c.name()} --help: ${example}: ${p}`));
        }
      }
    }
    expect(examples).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });

  it('every npm run script it names is in package.json', () => {
    const scripts = Object.keys(JSON.parse(text('package.json')).scripts as Record<string, string>);
    const named = [...text('README.md').matchAll(/npm run ([\w:.-]+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('every link and repo path it names exists in the repo', () => {
    const readme = text('README.md');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((l) => !/^[a-z]+:/.test(l));
    const paths = [...readme.matchAll(/`((?:deploy|docs|scripts|examples|test|src|bench|\.ci)\/[^`\s]*)`/g)]
      .map((m) => m[1]!)
      .flatMap(expandBraces)
      .map((p) => p.replace(/[.,:;]+$/, ''));
    expect(links.length + paths.length).toBeGreaterThan(10);
    // Inside the repo: a fresh clone has nothing beside it.
    const missing = [...links, ...paths].filter((p) => {
      const target = resolve(ROOT, dirname('README.md'), p);
      return !target.startsWith(`${ROOT}/`) || !existsSync(target);
    });
    expect(missing).toEqual([]);
  });
});

/** `a/{b,c}.{x,y}` → a/b.x, a/b.y, a/c.x, a/c.y (as the shell reads the README's install lines). */
function expandBraces(path: string): string[] {
  const m = path.match(/\{([^{}]*)\}/);
  if (!m) return [path];
  return m[1]!.split(',').flatMap((alt) => expandBraces(path.replace(m[0], alt)));
}
