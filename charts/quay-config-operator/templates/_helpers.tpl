{{/*
Name of the chart, or nameOverride.
*/}}
{{- define "quay-config-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the objects: fullnameOverride, or the release name when it
already contains the chart name, or release-chart. At most 63 characters.
*/}}
{{- define "quay-config-operator.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "quay-config-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "quay-config-operator.labels" -}}
helm.sh/chart: {{ include "quay-config-operator.chart" . }}
{{ include "quay-config-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the operator pods.
*/}}
{{- define "quay-config-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quay-config-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount.
*/}}
{{- define "quay-config-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "quay-config-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "quay-config-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Namespace of the default QuayConnection.
*/}}
{{- define "quay-config-operator.connectionNamespace" -}}
{{- default .Release.Namespace .Values.defaultConnection.namespace }}
{{- end }}

{{/*
What the operator does with the Kubernetes API, for the ClusterRole or for
the Role in each watched namespace. Exactly the verbs the operator uses; each
rule says why.
*/}}
{{- define "quay-config-operator.rules" -}}
{{- /* The operator's kinds (plurals), from the chart's CRD files. */}}
{{- $kinds := list -}}
{{- range $path, $_ := .Files.Glob "crds/quayconfig.io_*.yaml" -}}
{{- $kinds = append $kinds (base $path | trimPrefix "quayconfig.io_" | trimSuffix ".yaml") -}}
{{- end -}}
# The custom resources: watched and cached (get, list, watch); the finalizer
# quayconfig.io/finalizer is added before anything is created in Quay and
# removed after cleanup (patch).
- apiGroups: ["quayconfig.io"]
  resources: [{{ range $i, $kind := $kinds }}{{ if $i }}, {{ end }}"{{ $kind }}"{{ end }}]
  verbs: ["get", "list", "watch", "patch"]
# Their status (conditions, observedGeneration, what Quay reported) is read
# (get) and written with a merge patch (patch).
- apiGroups: ["quayconfig.io"]
  resources: [{{ range $i, $kind := $kinds }}{{ if $i }}, {{ end }}"{{ $kind }}/status"{{ end }}]
  verbs: ["get", "patch"]
# Objects the operator creates carry an owner reference with
# blockOwnerDeletion to their custom resource; where the
# OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift),
# that needs update on the owner's finalizers subresource.
- apiGroups: ["quayconfig.io"]
  resources: [{{ range $i, $kind := $kinds }}{{ if $i }}, {{ end }}"{{ $kind }}/finalizers"{{ end }}]
  verbs: ["update"]
# Secrets: the Quay token (and CA bundle) Secrets that QuayConnections name,
# and credentials resources reference, are read (get); Secret metadata is
# watched (list, watch) so that a rotated token is picked up at once. The
# robot credential Secrets the operator owns are written by server-side apply
# (create, patch) and the one of a renamed spec.secretName removed (delete).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# Namespaces: their labels are read (get) when a ClusterQuayConnection's
# tenancy rules select namespaces by labels.
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["get"]
# ConfigMaps: the CA bundle a QuayConnection names is read (get).
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
# Events: creates, updates, adoptions, deletions and errors are recorded
# (create); repeats of one Event are counted on it (patch).
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
Combinations of values the schema cannot check: fail early with the fix.
*/}}
{{- define "quay-config-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount above 1 needs leaderElection.enabled=true, or the replicas would all act" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (lt (int .Values.replicaCount) 2) }}
{{- fail "podDisruptionBudget.enabled needs replicaCount of 2 or more, or node drains would block" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.service.enabled) }}
{{- fail "serviceMonitor.enabled needs service.enabled=true" }}
{{- end }}
{{- with .Values.defaultConnection }}
{{- if .enabled }}
{{- if not .url }}
{{- fail "defaultConnection.url is required when defaultConnection.enabled is true" }}
{{- end }}
{{- if and .token .existingSecret.name }}
{{- fail "set either defaultConnection.token or defaultConnection.existingSecret.name, not both" }}
{{- end }}
{{- if not (or .token .existingSecret.name) }}
{{- fail "defaultConnection needs a token: set defaultConnection.existingSecret.name (recommended) or defaultConnection.token" }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.defaultConnection.enabled .Values.watchNamespaces }}
{{- if not (has (include "quay-config-operator.connectionNamespace" .) .Values.watchNamespaces) }}
{{- fail "defaultConnection.namespace (default: the release namespace) must be one of watchNamespaces" }}
{{- end }}
{{- end }}
{{- end }}
