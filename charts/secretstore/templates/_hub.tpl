{{- /* "true" when this cluster is the hub: the deprecated clusterGroup.isHubCluster decides when
       it is set; otherwise the hub is where the local apps domain (unset = the hub's) is the
       hub's apps domain; without a hub domain nothing says hub, so it is a managed cluster. */ -}}
{{- define "secretstore.isHub" -}}
{{- $flag := index .Values.clusterGroup "isHubCluster" -}}
{{- $hubDomain := .Values.global.hubClusterDomain -}}
{{- if not (kindIs "invalid" $flag) -}}
{{- $flag | toString -}}
{{- else if $hubDomain -}}
{{- eq (.Values.global.localClusterDomain | default $hubDomain) $hubDomain | toString -}}
{{- else -}}
false
{{- end -}}
{{- end -}}

{{- /* "true" when the store logs in as the hub: on the hub, or where this group runs Vault itself
       (an application of chart hashicorp-vault). */ -}}
{{- define "secretstore.logsInAsHub" -}}
{{- $asHub := eq (include "secretstore.isHub" .) "true" -}}
{{- range $app := .Values.clusterGroup.applications -}}
{{- if and $app (eq (toString (index $app "chart")) "hashicorp-vault") -}}
{{- $asHub = true -}}
{{- end -}}
{{- end -}}
{{- $asHub | toString -}}
{{- end -}}

{{- /* The caProvider block of a store: the hub's own CA where it logs in as the hub (given as
       the first argument), else the hub CA copied to the managed cluster. */ -}}
{{- define "secretstore.caProvider" -}}
{{- $ca := index . 1 -}}
{{- $from := ternary $ca.hostCluster $ca.clientCluster (index . 0) -}}
caProvider:
  type: {{ $from.type }}
  name: {{ $from.name }}
  key: {{ $from.key }}
  namespace: {{ $from.namespace }}
{{- end -}}
