{{- define "lifeboat.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "lifeboat.labels" -}}
app.kubernetes.io/name: lifeboat
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The lifeboat.yaml every component reads. */}}
{{- define "lifeboat.config" -}}
{{ toYaml .Values.config }}
{{- end -}}

{{/* Pods on etcd members: a node carrying any of memberNodeLabels. */}}
{{- define "lifeboat.onMembers" -}}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - { key: {{ index .Values.memberNodeLabels 0 }}, operator: Exists }
        - matchExpressions:
            - { key: {{ index .Values.memberNodeLabels 1 }}, operator: Exists }
tolerations:
  - operator: Exists
{{- end -}}

{{/* The etcd client certificate directory, from the host of an etcd member (the directory of etcd.tls.ca). */}}
{{- define "lifeboat.etcdPkiMount" -}}
- name: etcd-pki
  mountPath: {{ dir .Values.config.etcd.tls.ca }}
  readOnly: true
{{- end -}}
{{- define "lifeboat.etcdPkiVolume" -}}
- name: etcd-pki
  hostPath:
    path: {{ dir .Values.config.etcd.tls.ca }}
    type: Directory
{{- end -}}

{{/* backups.to[0]: S3 credentials from the Secret, or the host directory (an NFS mount) at the same path. */}}
{{- define "lifeboat.backupEnv" -}}
{{- if hasPrefix "s3://" (index .Values.config.backups.to 0) -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ .Values.s3CredentialsSecret }}, key: AWS_ACCESS_KEY_ID, optional: true } }
- name: AWS_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.s3CredentialsSecret }}, key: AWS_SECRET_ACCESS_KEY, optional: true } }
{{- end -}}
{{- end -}}
{{- define "lifeboat.backupMount" -}}
{{- if not (hasPrefix "s3://" (index .Values.config.backups.to 0)) -}}
- name: backups
  mountPath: {{ index .Values.config.backups.to 0 }}
{{- end -}}
{{- end -}}
{{- define "lifeboat.backupVolume" -}}
{{- if not (hasPrefix "s3://" (index .Values.config.backups.to 0)) -}}
- name: backups
  hostPath:
    path: {{ index .Values.config.backups.to 0 }}
    type: Directory
{{- end -}}
{{- end -}}
