{{- /*
The namespace of the Argo CD instance that owns this group's applications and projects.
*/ -}}
{{- define "clustergroup.argoNamespace" -}}
{{- if .Values.global.singleArgoCD -}}
{{- .Values.global.vpArgoNamespace -}}
{{- else -}}
{{- printf "%s-%s" .Values.global.pattern .Values.clusterGroup.name -}}
{{- end -}}
{{- end -}}

{{- /*
Entries given as a map (key = default name) or a list, as JSON {"items": [...]}: null and
disabled entries dropped, map entries in key order with `name` defaulting to their key.
Use: fromJson (include "clustergroup.entries" .Values.clusterGroup.applications)
*/ -}}
{{- define "clustergroup.entries" -}}
{{- $items := list -}}
{{- if kindIs "map" . -}}
{{- range $key, $entry := . -}}
{{- if and (kindIs "map" $entry) (not $entry.disabled) -}}
{{- $items = append $items (merge (deepCopy $entry) (dict "name" $key)) -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- range $entry := . -}}
{{- if and (kindIs "map" $entry) (not $entry.disabled) -}}
{{- $items = append $items $entry -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{- /*
Namespaces in every accepted shape (list of names, list of one-key maps, map), as JSON
{"items": [{"name": ..., "settings": {...}}]}; disabled ones dropped.
*/ -}}
{{- define "clustergroup.namespaces" -}}
{{- $items := list -}}
{{- $pairs := list -}}
{{- if kindIs "map" . -}}
{{- range $name, $settings := . -}}
{{- $pairs = append $pairs (list $name $settings) -}}
{{- end -}}
{{- else -}}
{{- range $entry := . -}}
{{- if kindIs "map" $entry -}}
{{- range $name, $settings := $entry -}}
{{- $pairs = append $pairs (list $name $settings) -}}
{{- end -}}
{{- else if $entry -}}
{{- $pairs = append $pairs (list (toString $entry) dict) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $pair := $pairs -}}
{{- $settings := default dict (index $pair 1) -}}
{{- if not $settings.disabled -}}
{{- $items = append $items (dict "name" (index $pair 0) "settings" $settings) -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{- /*
Labels and annotations given by the user, as YAML mapping entries (values always strings).
*/ -}}
{{- define "clustergroup.stringMap" -}}
{{- range $key, $value := . }}
{{ $key | quote }}: {{ $value | default "" | toString | quote }}
{{- end -}}
{{- end -}}

{{- /*
The value files of an application, in Argo CD's order. Argument: (list $app $ $prefix) where
$prefix is "" for single-source apps (paths from the repository root) or "$patternref" for
multi-source ones. sharedValueFiles may name facts and are rendered with tpl, as upstream does.
*/ -}}
{{- define "clustergroup.valueFiles" -}}
{{- $app := index . 0 -}}
{{- $root := index . 1 -}}
{{- $prefix := index . 2 -}}
{{- $global := $root.Values.global -}}
{{- $group := $root.Values.clusterGroup.name -}}
{{- $files := list "/values-global.yaml" (printf "/values-%s.yaml" $group) -}}
{{- if $global.clusterPlatform -}}
{{- $files = append $files (printf "/values-%s.yaml" $global.clusterPlatform) -}}
{{- if $global.clusterVersion -}}
{{- $files = append $files (printf "/values-%s-%s.yaml" $global.clusterPlatform (toString $global.clusterVersion)) -}}
{{- end -}}
{{- $files = append $files (printf "/values-%s-%s.yaml" $global.clusterPlatform $group) -}}
{{- end -}}
{{- if $global.clusterVersion -}}
{{- $files = append $files (printf "/values-%s-%s.yaml" (toString $global.clusterVersion) $group) -}}
{{- end -}}
{{- range $global.extraValueFiles -}}
{{- $files = append $files (toString .) -}}
{{- end -}}
{{- range $root.Values.clusterGroup.sharedValueFiles -}}
{{- $files = append $files (tpl (toString .) $root) -}}
{{- end -}}
{{- range $app.extraValueFiles -}}
{{- $files = append $files (toString .) -}}
{{- end -}}
{{- range $files }}
{{- $file := . }}
{{- if and $prefix (not (hasPrefix (printf "%s/" $prefix) $file)) }}
{{- $file = printf "%s/%s" $prefix (trimPrefix "/" $file) }}
{{- end }}
- {{ $file | quote }}
{{- end -}}
{{- end -}}

{{- /*
Helm parameters every application gets: the cluster facts and the group name, then the
application's overrides (values are data: never rendered as templates).
Argument: (list $app $).
*/ -}}
{{- define "clustergroup.parameters" -}}
{{- $app := index . 0 -}}
{{- $global := (index . 1).Values.global -}}
{{- $params := list
  (list "global.repoURL" $global.repoURL)
  (list "global.targetRevision" $global.targetRevision)
  (list "global.namespace" "$ARGOCD_APP_NAMESPACE")
  (list "global.pattern" $global.pattern)
  (list "global.hubClusterDomain" $global.hubClusterDomain)
  (list "global.localClusterDomain" (coalesce $global.localClusterDomain $global.hubClusterDomain))
  (list "global.clusterDomain" $global.clusterDomain)
  (list "global.clusterVersion" $global.clusterVersion)
  (list "global.clusterPlatform" $global.clusterPlatform)
  (list "clusterGroup.name" (index . 1).Values.clusterGroup.name)
-}}
{{- range $params }}
- name: {{ index . 0 }}
  value: {{ index . 1 | default "" | toString | quote }}
{{- end }}
{{- range $app.overrides }}
- name: {{ .name | toString | quote }}
  value: {{ .value | toString | quote }}
{{- if .forceString }}
  forceString: true
{{- end }}
{{- end }}
{{- end -}}
