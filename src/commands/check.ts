import type { Command } from 'commander';

// Placeholder: replaced by the schedule checker.
export function registerCheck(program: Command): void {
  program.command('check').description('simulate reboot schedules against etcd quorum');
}
