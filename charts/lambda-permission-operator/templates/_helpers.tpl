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

{{/*
The instances of the manager: the main one (shard "") and one per value of
shards, each reconciling the objects labelled lambda.permissions.dev/shard
with its name (the main one, those without the label). Iterate with
  range $shard := include "lambda-permission-operator.instances" . | fromJsonArray
*/}}
{{- define "lambda-permission-operator.instances" -}}
{{- include "lambda-permission-operator.checkShards" . }}
{{- prepend (.Values.shards | default list) "" | toJson }}
{{- end }}

{{/*
Refuses shards that cannot work: a name that is no label value or no part
of an object's name, twice the same shard, or a --watch-label-selector of
extraArgs beside the chart's own.
*/}}
{{- define "lambda-permission-operator.checkShards" -}}
{{- $seen := dict }}
{{- range .Values.shards }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .) }}
{{- fail (printf "shards: %q is no shard name: lower-case letters, digits and '-', starting and ending with a letter or digit (it is a label value and part of the names of its Deployment and Service)" .) }}
{{- end }}
{{- if hasKey $seen . }}
{{- fail (printf "shards: %q is there twice; each shard is one Deployment and one leader election lease" .) }}
{{- end }}
{{- $_ := set $seen . true }}
{{- end }}
{{- if .Values.shards }}
{{- range .Values.extraArgs }}
{{- if hasPrefix "--watch-label-selector" . }}
{{- fail "extraArgs: --watch-label-selector is set by the chart for each instance when shards are set" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The name of an instance's objects (dict "root" $ "shard" NAME): the
release's full name, with -shard-NAME for a shard. Its metrics Service adds
-metrics, so the name leaves room for it within 63 characters.
*/}}
{{- define "lambda-permission-operator.instanceName" -}}
{{- $fullname := include "lambda-permission-operator.fullname" .root }}
{{- if .shard }}
{{- $name := printf "%s-shard-%s" $fullname .shard }}
{{- if gt (len $name) 55 }}
{{- fail (printf "shards: %q makes the name %s, over 55 characters (its metrics Service's would be over 63); use a shorter shard name or fullnameOverride" .shard $name) }}
{{- end }}
{{- $name }}
{{- else }}
{{- $fullname }}
{{- end }}
{{- end }}

{{/*
Labels that select an instance's pods (dict "root" $ "shard" NAME). A
shard's pods have a name of their own, so that no Deployment selects
another's pods.
*/}}
{{- define "lambda-permission-operator.instanceSelectorLabels" -}}
{{- if .shard }}
app.kubernetes.io/name: {{ include "lambda-permission-operator.name" .root }}-shard
app.kubernetes.io/instance: {{ .root.Release.Name }}
lambda.permissions.dev/shard: {{ .shard }}
{{- else }}
{{- include "lambda-permission-operator.selectorLabels" .root }}
{{- end }}
{{- end }}

{{/*
The --watch-label-selector of an instance (dict "root" $ "shard" NAME):
its shard's objects, or, beside shards, the objects of none; without
shards, none (every object).
*/}}
{{- define "lambda-permission-operator.watchLabelSelector" -}}
{{- if .shard }}
{{- printf "lambda.permissions.dev/shard=%s" .shard }}
{{- else if .root.Values.shards }}
{{- print "!lambda.permissions.dev/shard" }}
{{- end }}
{{- end }}
