{{/*
The chart's name, or nameOverride.
*/}}
{{- define "lambda-permission-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The fully qualified name of the release's objects: fullnameOverride, else the
release name when it already contains the chart's name, else
RELEASE-CHART. Truncated to 63 characters (some fields are DNS labels).
*/}}
{{- define "lambda-permission-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "lambda-permission-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "lambda-permission-operator.labels" -}}
helm.sh/chart: {{ include "lambda-permission-operator.chart" . }}
{{ include "lambda-permission-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lambda-permission-operator
{{- end }}

{{/*
Labels that select the manager's pods.
*/}}
{{- define "lambda-permission-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lambda-permission-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "lambda-permission-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lambda-permission-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
"true" when the manager runs with --leader-elect: always with more than one
replica, or when leaderElect forces it.
*/}}
{{- define "lambda-permission-operator.leaderElect" -}}
{{- if or .Values.leaderElect (gt (int .Values.replicas) 1) }}true{{ end }}
{{- end }}

{{/*
The manager's image.
*/}}
{{- define "lambda-permission-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}
