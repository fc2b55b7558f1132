{{- /*
Managed cluster groups given as a map (key = default name) or a list, as JSON {"items": [...]}:
null and disabled entries dropped. Same rules as the clustergroup chart's entries.
*/ -}}
{{- define "acm.groups" -}}
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
The label selector of a group's Placement: clusterSelector, else acmlabels, else
clusterGroup=<name>; the local cluster (the hub) is always excluded, by label and by name.
*/ -}}
{{- define "acm.labelSelector" -}}
{{- $group := . -}}
{{- $matchLabels := dict -}}
{{- $matchExpressions := list -}}
{{- if $group.clusterSelector -}}
{{- $matchLabels = $group.clusterSelector.matchLabels | default dict -}}
{{- $matchExpressions = $group.clusterSelector.matchExpressions | default list -}}
{{- else if kindIs "map" $group.acmlabels -}}
{{- $matchLabels = $group.acmlabels -}}
{{- else if $group.acmlabels -}}
{{- range $group.acmlabels -}}
{{- $_ := set $matchLabels (toString .name) (toString .value) -}}
{{- end -}}
{{- else -}}
{{- $matchLabels = dict "clusterGroup" $group.name -}}
{{- end -}}
{{- $matchExpressions = concat $matchExpressions (list
  (dict "key" "local-cluster" "operator" "NotIn" "values" (list "true"))
  (dict "key" "name" "operator" "NotIn" "values" (list "local-cluster"))
) -}}
{{- $selector := dict "matchExpressions" $matchExpressions -}}
{{- if $matchLabels -}}
{{- $_ := set $selector "matchLabels" $matchLabels -}}
{{- end -}}
{{- toYaml $selector -}}
{{- end -}}
