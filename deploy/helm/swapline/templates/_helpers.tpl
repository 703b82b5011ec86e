{{- define "swapline.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "swapline.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "swapline.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The cluster options every node gives: the store and where segments go. */}}
{{- define "swapline.clusterArgs" -}}
- --database
- $(DATABASE_URL)
- --storage
{{- if .Values.s3.enabled }}
- {{ .Values.s3.url | quote }}
{{- if .Values.s3.endpoint }}
- --s3-endpoint
- {{ .Values.s3.endpoint | quote }}
{{- end }}
- --s3-region
- {{ .Values.s3.region | quote }}
{{- else }}
- {{ printf "%s/segments" .Values.sharedData.mountPath | quote }}
{{- end }}
{{- end -}}

{{- define "swapline.env" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.secretKey }}
{{- if .Values.s3.enabled }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
- name: TMPDIR
  value: /tmp
{{- end -}}

{{- define "swapline.volumes" -}}
- name: data
  persistentVolumeClaim:
    claimName: {{ .Values.sharedData.existingClaim }}
- name: tmp
  emptyDir: {}
{{- if .Values.models.existingClaim }}
- name: models
  persistentVolumeClaim:
    claimName: {{ .Values.models.existingClaim }}
    readOnly: true
{{- end }}
{{- end -}}

{{- define "swapline.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.sharedData.mountPath }}
- name: tmp
  mountPath: /tmp
{{- if .Values.models.existingClaim }}
- name: models
  mountPath: {{ .Values.models.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}
