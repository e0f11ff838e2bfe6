{{/* Names and labels, as `helm create` makes them. */}}
{{- define "sluice.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sluice.image" -}}
{{- $image := .Values.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag | toString) }}
{{- end }}
{{- end }}

{{/* The metrics port: config.metrics.port, as Sluice will listen on it. */}}
{{- define "sluice.metricsPort" -}}
{{- dig "metrics" "port" 9464 .Values.config | int }}
{{- end }}

{{/* The HTTP source's port (broker.type http): config.broker.http.port, as Sluice will listen on it. */}}
{{- define "sluice.ingestPort" -}}
{{- dig "broker" "http" "port" 8080 .Values.config | int }}
{{- end }}

{{/* https when the HTTP source serves TLS (tls.certFile set), else http. */}}
{{- define "sluice.ingestScheme" -}}
{{- $http := dig "broker" "http" dict .Values.config | default dict }}
{{- $tls := dig "tls" dict $http | default dict }}
{{- ternary "https" "http" (not (empty (dig "certFile" "" $tls))) }}
{{- end }}

{{- define "sluice.workloadKind" -}}
{{- $kind := .Values.workload.kind }}
{{- if not (has $kind (list "Deployment" "StatefulSet")) }}
{{- fail (printf "workload.kind must be Deployment or StatefulSet, not %q" $kind) }}
{{- end }}
{{- $kind }}
{{- end }}

{{/*
terminationGracePeriodSeconds: Sluice drains for config.shutdown.timeoutMs after SIGTERM, then
nacks, commits and closes; Kubernetes must not SIGKILL it before. An explicit value at or below
the drain time is refused rather than silently losing the graceful shutdown.
*/}}
{{- define "sluice.terminationGracePeriodSeconds" -}}
{{- $drain := divf (dig "shutdown" "timeoutMs" 30000 .Values.config) 1000 | ceil | int }}
{{- $explicit := .Values.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $explicit }}
{{- add $drain .Values.shutdownMarginSeconds }}
{{- else if le (int $explicit) $drain }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above config.shutdown.timeoutMs (%d s): Kubernetes would kill Sluice while it drains. Raise it, lower the timeout, or unset it to get %d." (int $explicit) $drain (add $drain .Values.shutdownMarginSeconds)) }}
{{- else }}
{{- $explicit | int }}
{{- end }}
{{- end }}

{{/*
Config checks that need the chart's view: the metrics server must be reachable by probes and
Prometheus, every env var the config names for a secret must come from secretEnv (or extraEnv),
and static cloud keys are refused in favour of workload identity.
*/}}
{{- define "sluice.checkConfig" -}}
{{- $names := list }}
{{- range concat .Values.secretEnv .Values.extraEnv }}{{ $names = append $names .name }}{{ end }}
{{- $sections := list (dig "broker" "kafka" dict .Values.config) (dig "deadLetter" "broker" "kafka" dict .Values.config) }}
{{- range $sections }}
{{- $env := dig "sasl" "passwordEnv" "" . }}
{{- if and $env (not (has $env $names)) }}
{{- fail (printf "config names sasl.passwordEnv %q but no secretEnv entry provides it: add { name: %s, secretName: <secret>, key: <key> }" $env $env) }}
{{- end }}
{{- end }}
{{- if not (dig "metrics" "enabled" true .Values.config) }}
{{- fail "config.metrics.enabled is false: the probes (/healthz, /readyz), the ServiceMonitor and the lag autoscaling all need Sluice's metrics server" }}
{{- end }}
{{- if has (dig "metrics" "host" "0.0.0.0" .Values.config) (list "127.0.0.1" "localhost" "::1") }}
{{- fail "config.metrics.host is a loopback address: the kubelet's probes and Prometheus could not reach it; use 0.0.0.0" }}
{{- end }}
{{- if eq (dig "broker" "type" "memory" .Values.config) "http" }}
{{- include "sluice.checkHttp" (dict "Values" .Values "names" $names) }}
{{- end }}
{{- if or (dig "broker" "kinesis" "credentials" nil .Values.config) (dig "deadLetter" "broker" "kinesis" "credentials" nil .Values.config) }}
{{- fail "config.broker.kinesis.credentials holds static keys in values: remove it; Sluice uses the AWS SDK default chain (IRSA / EKS Pod Identity)" }}
{{- end }}
{{- end }}

{{/*
broker.type http: a fixed port apart from the metrics one (the Service targets it by name), the
tokens variable provided by secretEnv (the tokens are a secret: never in values), and every TLS
or tokens file inside a secretMounts path (the pod has no other place those files could be).
*/}}
{{- define "sluice.checkHttp" -}}
{{- $http := dig "broker" "http" dict .Values.config | default dict }}
{{- $tls := dig "tls" dict $http | default dict }}
{{- $auth := dig "auth" dict $http | default dict }}
{{- $port := dig "port" 8080 $http | int }}
{{- if eq $port 0 }}
{{- fail "config.broker.http.port is 0 (any free port): the ingest Service needs a fixed port" }}
{{- end }}
{{- if eq $port (dig "metrics" "port" 9464 .Values.config | int) }}
{{- fail (printf "config.broker.http.port %d is the metrics port too: give the events server a port of its own" $port) }}
{{- end }}
{{- $env := dig "tokensEnv" "" $auth }}
{{- if and $env (not (has $env .names)) }}
{{- fail (printf "config names broker.http.auth.tokensEnv %q but no secretEnv entry provides it: add { name: %s, secretName: <secret>, key: <key> }" $env $env) }}
{{- end }}
{{- $mounts := list }}
{{- range .Values.secretMounts }}{{ $mounts = append $mounts (trimSuffix "/" .mountPath) }}{{ end }}
{{- range $key, $file := dict "tls.certFile" (dig "certFile" "" $tls) "tls.keyFile" (dig "keyFile" "" $tls) "tls.clientCaFile" (dig "clientCaFile" "" $tls) "auth.tokensFile" (dig "tokensFile" "" $auth) }}
{{- if $file }}
{{- $inside := false }}
{{- range $mounts }}{{ if hasPrefix (printf "%s/" .) $file }}{{ $inside = true }}{{ end }}{{ end }}
{{- if not $inside }}
{{- fail (printf "config.broker.http.%s %q is not inside any secretMounts path: mount the Secret that holds it (secretMounts: [{ secretName: <secret>, mountPath: <dir> }])" $key $file) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
