import { describe, expect, it } from 'vitest';
import { mapMembersToNodes, parseEtcdPod } from '../../../src/domain/kube/members.js';

const nodes = [
  { name: 'cp1', addresses: [{ type: 'InternalIP', address: '10.0.0.11' }] },
  { name: 'cp2', addresses: [{ type: 'InternalIP', address: '10.0.0.12' }] },
  {
    name: 'k3s-a',
    addresses: [
      { type: 'InternalIP', address: '10.0.0.31' },
      { type: 'Hostname', address: 'k3s-a' },
    ],
  },
];

describe('parseEtcdPod', () => {
  it('reads the member name and URLs from the etcd flags (separate-value form too), else the kubeadm annotation', () => {
    const pod = parseEtcdPod({
      metadata: { name: 'etcd-cp1' },
      spec: {
        nodeName: 'cp1',
        containers: [
          {
            name: 'etcd',
            command: ['etcd', '--name', 'cp1', '--advertise-client-urls=https://10.0.0.11:2379'],
            args: ['--initial-advertise-peer-urls=https://10.0.0.11:2380'],
          },
        ],
      },
    });
    expect(pod).toEqual({
      podName: 'etcd-cp1',
      nodeName: 'cp1',
      memberName: 'cp1',
      clientURLs: ['https://10.0.0.11:2379'],
      peerURLs: ['https://10.0.0.11:2380'],
    });
    const annotated = parseEtcdPod({
      metadata: {
        name: 'etcd-cp2',
        annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://10.0.0.12:2379' },
      },
      spec: { nodeName: 'cp2', containers: [{ name: 'etcd', command: ['etcd'] }] },
    });
    expect(annotated.clientURLs).toEqual(['https://10.0.0.12:2379']);
  });
});

describe('mapMembersToNodes', () => {
  it('static pod first (by URL, then by name), then node address, then node name', () => {
    const pods = [
      { podName: 'etcd-cp1', nodeName: 'cp1', memberName: 'cp1', clientURLs: ['https://10.0.0.11:2379'], peerURLs: [] },
      { podName: 'etcd-cp2', nodeName: 'cp2', memberName: 'm-two', clientURLs: [], peerURLs: [] },
    ];
    const result = mapMembersToNodes(
      [
        { name: 'renamed', id: '1', clientURLs: ['https://10.0.0.11:2379/'] },
        { name: 'm-two', id: '2' },
        { name: 'k3s-member', id: '3', peerURLs: ['https://10.0.0.31:2380'] },
        { name: 'cp2', id: '4', clientURLs: ['https://10.9.9.9:2379'] },
        { name: 'nowhere', clientURLs: ['not a url'] },
      ],
      nodes,
      pods,
    );
    expect(result).toEqual([
      { member: 'renamed', id: '1', node: 'cp1', via: 'static-pod' },
      { member: 'm-two', id: '2', node: 'cp2', via: 'static-pod' },
      { member: 'k3s-member', id: '3', node: 'k3s-a', via: 'address' },
      { member: 'cp2', id: '4', node: 'cp2', via: 'name' },
      { member: 'nowhere', node: null, via: null },
    ]);
  });

  it('a host shared by several members (a lab on one machine) is not evidence', () => {
    const lab = [
      { name: 'm1', clientURLs: ['http://10.0.0.11:2379'] },
      { name: 'm2', clientURLs: ['http://10.0.0.11:22379'] },
    ];
    expect(mapMembersToNodes(lab, nodes).map((m) => m.node)).toEqual([null, null]);
  });
});
