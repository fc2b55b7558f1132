{{- /*
Managed cluster groups given as a map or a list, as JSON {"items": [...]}: null and disabled
entries dropped; a map entry's `name` defaults to its key.
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
"true" when the chart runs on the hub: clusterGroup.isHubCluster when set (deprecated), else
whether the local apps domain (default: the hub's) is the hub's.
*/ -}}
{{- define "acm.isHub" -}}
{{- $group := .Values.clusterGroup -}}
{{- $global := .Values.global -}}
{{- if and (hasKey $group "isHubCluster") (not (kindIs "invalid" $group.isHubCluster)) -}}
{{- toString $group.isHubCluster -}}
{{- else if $global.hubClusterDomain -}}
{{- eq (coalesce $global.localClusterDomain $global.hubClusterDomain) $global.hubClusterDomain | toString -}}
{{- else -}}
false
{{- end -}}
{{- end -}}

{{- /*
Facts of a managed cluster, as ACM templates its policy controller resolves on that cluster
(the hub's own facts would be wrong there).
*/ -}}
{{- define "acm.spokeFacts" -}}
{{- $ingress := `(lookup "config.openshift.io/v1" "Ingress" "" "cluster").spec.domain` -}}
{{- $version := `(semver (index (lookup "config.openshift.io/v1" "ClusterVersion" "" "version").status.history 0).version)` -}}
{{- toJson (dict
  "platform" `{{ (lookup "config.openshift.io/v1" "Infrastructure" "" "cluster").spec.platformSpec.type }}`
  "version" (printf "{{ printf \"%%d.%%d\" (%s).Major (%s).Minor }}" $version $version)
  "domain" (printf "{{ %s }}" $ingress)
  "baseDomain" (printf "{{ %s | replace \"apps.\" \"\" }}" $ingress)
  "name" (printf "{{ index (splitList \".\" %s) 1 }}" $ingress)
) -}}
{{- end -}}

{{- /*
The Placement predicates choosing a group's clusters: its clusterSelector as given, else the
clusters labelled with its acmlabels (a list of {name, value} or a map), else the clusters
labelled clusterGroup=<name>; but never the hub itself (local-cluster).
*/ -}}
{{- define "acm.predicates" -}}
{{- $selector := .clusterSelector -}}
{{- if not $selector -}}
{{- $labels := dict -}}
{{- if and (kindIs "slice" .acmlabels) .acmlabels -}}
{{- range .acmlabels -}}
{{- $_ := set $labels (toString .name) .value -}}
{{- end -}}
{{- else if and (kindIs "map" .acmlabels) .acmlabels -}}
{{- $labels = .acmlabels -}}
{{- else -}}
{{- $labels = dict "clusterGroup" .name -}}
{{- end -}}
{{- $selector = dict
  "matchLabels" $labels
  "matchExpressions" (list (dict "key" "local-cluster" "operator" "NotIn" "values" (list "true")))
-}}
{{- end -}}
{{- toJson (list (dict "requiredClusterSelector" (dict "labelSelector" $selector))) -}}
{{- end -}}

{{- /*
A policy enforced on a group's clusters, with the PlacementBinding and Placement that send it
there. The objects are in the release's namespace (upstream leaves it to Argo CD; naming it here shows
it in the rendered output). Argument: dict with root ($), policy, config, binding, placement (names), objects (the object
templates, as YAML list text), namespaces (namespaceSelector include list), annotations (extra
policy annotations), prune (pruneObjectBehavior or ""), predicates (JSON, default the group's)
and group.
*/ -}}
{{- define "acm.boundPolicy" -}}
{{- $sync := dict "argocd.argoproj.io/sync-options" "SkipDryRunOnMissingResource=true" -}}
---
apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: {{ .policy }}
  namespace: {{ .root.Release.Namespace }}
  annotations: {{ merge (dict "argocd.argoproj.io/compare-options" "IgnoreExtraneous") $sync (.annotations | default dict) | toJson }}
spec:
  remediationAction: enforce
  disabled: false
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata:
          name: {{ .config }}
        spec:
          {{- with .prune }}
          pruneObjectBehavior: {{ . }}
          {{- end }}
          remediationAction: enforce
          severity: medium
          namespaceSelector:
            include: {{ .namespaces | default (list "default") | toJson }}
          object-templates:
            {{- .objects | nindent 12 }}
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata:
  name: {{ .binding }}
  namespace: {{ .root.Release.Namespace }}
  annotations: {{ $sync | toJson }}
placementRef:
  apiGroup: cluster.open-cluster-management.io
  kind: Placement
  name: {{ .placement }}
subjects:
  - apiGroup: policy.open-cluster-management.io
    kind: Policy
    name: {{ .policy }}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata:
  name: {{ .placement }}
  namespace: {{ .root.Release.Namespace }}
  annotations: {{ $sync | toJson }}
spec:
  predicates: {{ .predicates | default (include "acm.predicates" .group) }}
{{- end -}}

{{- /* A ConfigMap of the hub's CA certificates, copied by ACM. Argument: its namespace. */ -}}
{{- define "acm.hubBundle" -}}
- complianceType: mustonlyhave
  objectDefinition:
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: trusted-hub-bundle
      namespace: {{ . }}
    data:
      hub-kube-root-ca.crt: {{ `{{hub (fromConfigMap "" "kube-root-ca.crt" "ca.crt") | autoindent hub}}` | printf "%s\n" | quote }}
      hub-openshift-service-ca.crt: {{ `{{hub (fromConfigMap "" "openshift-service-ca.crt" "service-ca.crt") | autoindent hub}}` | printf "%s\n" | quote }}
{{- end -}}

{{- /* A value as text: "" for nothing. */ -}}
{{- define "acm.text" -}}
{{- if not (kindIs "invalid" .) -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{- /*
Health checks of the spokes' Argo CD: a Subscription is healthy once installed, progressing
while an install or an unapproved first install is pending, degraded when OLM fails (an upgrade
waiting for manual approval counts as healthy); a PersistentVolumeClaim is healthy while Pending
(waiting for its first consumer) as well as Bound.
*/ -}}
{{- define "acm.healthChecks" -}}
- group: operators.coreos.com
  kind: Subscription
  check: |
    local health = {status = "Progressing", message = "An install plan for a subscription is pending installation"}
    local status = obj.status
    if status == nil or status.conditions == nil then
      return health
    end
    local manual = obj.spec ~= nil and obj.spec.installPlanApproval == "Manual"
    local awaitingApproval = false
    for _, c in ipairs(status.conditions) do
      if manual and status.installedCSV ~= nil and c.type == "InstallPlanPending"
          and c.status == "True" and c.reason == "RequiresApproval" then
        awaitingApproval = true
      end
    end
    local pending, failing, lines = 0, 0, {}
    for i, c in ipairs(status.conditions) do
      if not (awaitingApproval and c.type == "InstallPlanPending") then
        table.insert(lines, i .. ": " .. c.type .. " | " .. c.status)
        if c.type == "InstallPlanPending" and c.status == "True" then
          pending = pending + 1
        elseif c.type == "InstallPlanMissing" and c.reason ~= "ReferencedInstallPlanNotFound" then
          failing = failing + 1
        elseif c.status == "True" and (c.type == "CatalogSourcesUnhealthy"
            or c.type == "InstallPlanFailed" or c.type == "ResolutionFailed") then
          failing = failing + 1
        end
      end
    end
    local state = status.state
    if state == nil or state == "" or state == "UpgradeAvailable"
        or (state == "UpgradePending" and not awaitingApproval) then
      pending = pending + 1
    elseif state == "UpgradeFailed" then
      failing = failing + 1
    end
    table.insert(lines, ".status.state is '" .. tostring(state) .. "'")
    health.message = table.concat(lines, "\n")
    if failing > 0 then
      health.status = "Degraded"
    elseif pending > 0 then
      health.status = "Progressing"
    else
      health.status = "Healthy"
    end
    return health
- kind: PersistentVolumeClaim
  check: |
    local health = {status = "Progressing", message = "Waiting for PVC"}
    local phase = obj.status ~= nil and obj.status.phase or nil
    if phase == "Pending" or phase == "Bound" then
      health.status = "Healthy"
      health.message = phase
    end
    return health
{{- end -}}
