{{/* Names and labels shared by every template. */}}
{{- define "ce.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "ce.svcname" -}}
{{- printf "%s-%s" (include "ce.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ce.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: ce-suite
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "ce.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The services a service calls. */}}
{{- define "ce.peers" -}}
{{- $peers := dict "registry" (list) "crediting" (list "registry" "supervision") "supervision" (list "registry" "crediting") "quality" (list "registry" "supervision" "crediting") -}}
{{- get $peers . | toJson -}}
{{- end -}}

{{/* The services that call a service: it trusts their keys, by name. */}}
{{- define "ce.callers" -}}
{{- $name := . -}}
{{- $callers := list -}}
{{- range $caller := list "registry" "crediting" "supervision" "quality" -}}
{{- if has $name (include "ce.peers" $caller | fromJsonArray) -}}
{{- $callers = append $callers $caller -}}
{{- end -}}
{{- end -}}
{{- $callers | toJson -}}
{{- end -}}

{{/* The Secret holding a service's own signing key for calls to its peers. */}}
{{- define "ce.serviceKeySecret" -}}
{{- $secret := get .root.Values.keys.serviceKeys .name -}}
{{- $secret | default (printf "ce-%s-service-key" .name) -}}
{{- end -}}

{{- define "ce.dbSecret" -}}
{{- default (printf "%s-database" (include "ce.fullname" .)) .Values.database.existingSecret -}}
{{- end -}}
