import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runInit } from '../app/init.js';
import { UserError } from '../errors.js';
import { action, collect, parseTimeout } from './context.js';

interface InitFlags {
  root: string;
  output: string;
  force?: boolean;
  backupTo: string[];
  clusterName?: string;
  kubeconfig?: string;
  timeout: string;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('look at this host and write a commented lifeboat.yaml for it, then run check and doctor on it')
    .option('--root <dir>', 'read the host files under this directory (for tests and chroots)', '/')
    .option('-o, --output <file>', 'where to write the config', 'lifeboat.yaml')
    .option('--force', 'replace the output file when it exists')
    .option(
      '--backup-to <dest>',
      'a backups.to destination (repeatable; default ROOT/var/backups/lifeboat)',
      collect,
      [],
    )
    .option('--cluster-name <name>', 'cluster.name')
    .option('--kubeconfig <file>', 'kubeconfig for node names (default: admin.conf or k3s.yaml on this host)')
    .option('--timeout <ms>', 'deadline for etcd and Kubernetes, in milliseconds', '3000')
    .addHelpText(
      'after',
      `
Looks for kubeadm (/etc/kubernetes/manifests/etcd.yaml, /etc/kubernetes/pki/etcd) or k3s
(/var/lib/rancher/k3s/server/tls/etcd, /etc/rancher/k3s), asks etcd for its members and Kubernetes for its
nodes when they answer, reads the crontabs (/etc/crontab, /etc/cron.d, user crontabs) and systemd timers that
reboot this host, and writes backups, retention and schedules. An existing file is never replaced without --force.

Examples:
  sudo lifeboat init                                   on a control-plane node: ./lifeboat.yaml
  sudo lifeboat init --backup-to s3://backups/etcd --backup-to /mnt/nfs/lifeboat -o /etc/lifeboat/lifeboat.yaml
  lifeboat init --root ./fake-host --output ./fake-host/lifeboat.yaml --json`,
    )
    .action(
      action<InitFlags>(async (ctx, opts) => {
        if (opts.clusterName !== undefined && opts.clusterName.trim() === '')
          throw new UserError('--cluster-name is empty');
        // The only clock read of init: the use case gets time as a parameter.
        const report = await runInit({
          root: resolve(opts.root),
          output: resolve(opts.output),
          force: Boolean(opts.force),
          backupTo: opts.backupTo,
          clusterName: opts.clusterName,
          kubeconfig: opts.kubeconfig,
          deadlineMs: parseTimeout(opts.timeout),
          now: Date.now(),
        });
        if (ctx.out.json) ctx.out.printJson(report);
        else {
          const lines = [
            `wrote ${report.output} (${report.layout}; this node: ${report.thisNode}; nodes: ${report.nodes.join(', ')})`,
            ...report.notes.map((n) => `  found: ${n}`),
            '',
            `check: ${report.check.errors} errors, ${report.check.warnings} warnings`,
            ...report.check.findings.map((f) => `  ${f.severity.toUpperCase()} ${f.code}: ${f.message}`),
            `doctor: etcd is ${report.doctor.state.toUpperCase()} (exit ${report.doctor.exitCode})`,
            ...report.doctor.findings.map((f) => `  ${f.severity.toUpperCase()} ${f.code}`),
            '',
            `Next: lifeboat -c ${report.output} doctor   (details), then backup etcd and verify --latest`,
          ];
          ctx.out.print(lines.join('\n'));
        }
        return 0;
      }),
    );
}
