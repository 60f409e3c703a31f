import { describe, expect, it } from 'vitest';
import { modulesFor } from '../../src/cli.js';

// The table's shape, with names instead of loaders: which modules a command line loads.
const table: Array<{ id: string; commands: string[]; subcommands?: Record<string, string[]> }> = [
  { id: 'status', commands: ['status'] },
  { id: 'backup', commands: ['backup'], subcommands: { backup: ['etcd', 'list'] } },
  { id: 'verify', commands: ['verify'] },
  { id: 'helm', commands: ['backup', 'restore'], subcommands: { backup: ['helm'], restore: ['helm'] } },
  {
    id: 'mysql',
    commands: ['backup', 'verify', 'restore', 'guide'],
    subcommands: { backup: ['mysql'], verify: ['mysql'], restore: ['mysql'] },
  },
];
const load = (...args: string[]) => modulesFor(table, ['node', 'lifeboat', ...args]).map((m) => m.id);

describe('modulesFor: only the modules of the command being run', () => {
  it('a subcommand loads the one module that adds it', () => {
    expect(load('-c', 'x.yaml', 'backup', 'etcd', '--to', 'd')).toEqual(['backup']);
    expect(load('backup', 'list')).toEqual(['backup']);
    expect(load('--json', 'backup', 'helm')).toEqual(['helm']);
    expect(load('verify', 'mysql', '--latest')).toEqual(['mysql']);
    expect(load('restore', 'helm')).toEqual(['helm']);
  });

  it('an operand that is no subcommand loads the module defining the command', () => {
    expect(load('verify', 'snap.db')).toEqual(['verify']);
    expect(load('status')).toEqual(['status']);
    expect(load('guide', 'mysql')).toEqual(['mysql']);
  });

  it('help, a bare group or an unknown word loads every candidate, so help is complete', () => {
    expect(load('backup', '--help')).toEqual(['backup', 'helm', 'mysql']);
    expect(load('backup')).toEqual(['backup', 'helm', 'mysql']);
    expect(load('backup', 'bogus')).toEqual(['backup', 'helm', 'mysql']);
    expect(load('verify', '--latest')).toEqual(['verify', 'mysql']);
    expect(load('nonsense')).toEqual(table.map((m) => m.id));
    expect(load('--help')).toEqual(table.map((m) => m.id));
  });

  it('--version alone loads nothing', () => {
    expect(load('--version')).toEqual([]);
    expect(load('-V')).toEqual([]);
  });
});
