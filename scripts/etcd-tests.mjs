// Which test files start etcd, and so run on both etcd versions in `npm test` (scripts/test-suite.mjs): the
// distribution's 3.4 (Debian 12) and 3.5 (kubeadm's; scripts/etcd-3.5.sh). test/unit/scripts/etcd-tests.test.ts
// fails when a test file that starts etcd is missing here. Why the split is what it is: README, Development.

/** Start etcd (a test cluster, a lab, a restore drill, an agent cluster): every one runs on 3.4 and on 3.5. */
export const ETCD_TESTS = [
  'test/integration/agent-incident.test.ts',
  'test/integration/agent-kube.test.ts',
  'test/integration/agent-workers.test.ts',
  'test/integration/backup-large.test.ts',
  'test/integration/backup-secure.test.ts',
  'test/integration/backup.test.ts',
  'test/integration/doctor-root-causes.test.ts',
  'test/integration/doctor-tls.test.ts',
  'test/integration/doctor.test.ts',
  'test/integration/drill.test.ts',
  'test/integration/etcd-client.test.ts',
  'test/integration/etcd-tls.test.ts',
  'test/integration/etcdlog-s3.test.ts',
  'test/integration/etcdlog-backend.test.ts',
  'test/integration/etcdlog.test.ts',
  'test/integration/init.test.ts',
  'test/integration/lab.test.ts',
  'test/integration/lock.test.ts',
  'test/integration/plans-agree.test.ts',
  'test/integration/recover.test.ts',
  'test/integration/s3-options.test.ts',
  'test/integration/sea.test.ts',
  'test/integration/verify.test.ts',
  'test/e2e/serve.test.ts',
  'test/faults/bad-files.test.ts',
  'test/faults/concurrent.test.ts',
  'test/faults/damaged-snapshots.test.ts',
  'test/faults/deadlines.test.ts',
  'test/faults/kill-mid-stream.test.ts',
  'test/faults/leftovers.test.ts',
  'test/faults/recover-interrupted.test.ts',
  'test/faults/recover-snapshot.test.ts',
];

/**
 * The kubeadm node simulator (test/helpers/kubeadm-sim.ts): minutes each, but mostly waiting (scripts started 60 s
 * late, the kubelet's back-off) on about a fifth of a core, so they run in a Vitest of their own beside the other
 * passes. All of them on 3.5, the etcd kubeadm runs (kubeadm 1.22+ ships 3.5); on 3.4 the files whose runbooks take
 * a 3.4-only path: the snapshot restore with etcdctl where no etcdutl is installed (Debian's 3.4 etcd-client).
 * By hand, every one passes on both: `npx vitest run FILE` (3.4), `npm run test:etcd-3.5 FILE`.
 */
export const SIMULATOR_TESTS = [
  'test/integration/kubeadm-late.test.ts',
  'test/integration/kubeadm-nodes.test.ts',
  'test/integration/kubeadm-plans.test.ts',
  'test/integration/kubeadm-survivor.test.ts',
];
export const SIMULATOR_TESTS_ON_3_4 = [
  'test/integration/kubeadm-late.test.ts',
  'test/integration/kubeadm-plans.test.ts',
];
