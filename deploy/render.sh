#!/bin/sh
# Re-render deploy/manifests/ from the chart when helm is available. The manifests are committed so a cluster can be
# set up with `kubectl apply -f deploy/manifests/` and no helm; test/unit/kube/rbac.test.ts keeps their RBAC in step
# with the code.
set -eu
cd "$(dirname "$0")"
helm template lifeboat chart/lifeboat --namespace lifeboat --set namespace.create=true > /tmp/lifeboat-rendered.yaml
echo "rendered to /tmp/lifeboat-rendered.yaml; compare with manifests/ and update them"
