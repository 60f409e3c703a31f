import type { Command } from 'commander';

// Placeholder: replaced by the lab implementation.
export function registerLab(program: Command): void {
  program.command('lab').description('local practice cluster of real etcd processes');
}
