import { UserError } from '../../errors.js';
import type { LoadedConfig } from '../config-file.js';
import { readLabState, resolveLabDir } from '../lab/state.js';
import { K3sExecutor } from './k3s.js';
import { KubeadmExecutor } from './kubeadm.js';
import { LabExecutor } from './lab.js';
import { SystemdExecutor } from './systemd.js';
import type { RunbookExecutor, StepExecutor } from './types.js';

export interface ExecutorOptions {
  force?: boolean;
  manifest?: string;
  unit?: string;
  k3sConfig?: string;
}

/** The executor named by `etcd.executor` in the config (lab, systemd, kubeadm, k3s). */
export function openExecutor(config: LoadedConfig | undefined, opts: ExecutorOptions): StepExecutor | RunbookExecutor {
  const kind = config?.config.etcd?.executor;
  if (!kind) {
    throw new UserError(
      'recover needs to know how etcd runs on your nodes: set etcd.executor in lifeboat.yaml',
      'executor: kubeadm | systemd | k3s | lab',
    );
  }
  const nodes = (config?.config.nodes ?? [])
    .filter((n) => n.roles.includes('etcd') || n.roles.includes('control-plane'))
    .map((n) => ({ node: n.name, member: n.etcdMember ?? n.name }));
  switch (kind) {
    case 'lab': {
      const dir = resolveLabDir(undefined, config);
      const lab = readLabState(dir);
      if (!lab) throw new UserError(`no lab in ${dir}`, 'start one with `lifeboat lab up`');
      return new LabExecutor(lab, { force: Boolean(opts.force) });
    }
    case 'kubeadm':
      return new KubeadmExecutor(opts.manifest ?? '/etc/kubernetes/manifests/etcd.yaml', nodes);
    case 'systemd':
      return new SystemdExecutor(opts.unit ?? '/etc/systemd/system/etcd.service', nodes);
    case 'k3s':
      return new K3sExecutor(opts.k3sConfig ?? '/etc/rancher/k3s/config.yaml', nodes);
  }
}
