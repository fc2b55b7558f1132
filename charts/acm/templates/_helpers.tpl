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

{{- /* The cloud of a cluster to provision, as JSON {name, region, machine}: aws, azure or None. */ -}}
{{- define "acm.cloud" -}}
{{- $platform := .platform | default dict -}}
{{- if $platform.aws -}}
{{- toJson (dict "name" "aws" "region" $platform.aws.region "machine" "m5.xlarge") -}}
{{- else if $platform.azure -}}
{{- toJson (dict "name" "azure" "region" $platform.azure.region "machine" "Standard_D8s_v3") -}}
{{- else -}}
{{- toJson (dict "name" "None" "region" "None" "machine" "None") -}}
{{- end -}}
{{- end -}}

{{- /*
The install-config of a cluster to provision (Hive injects the pull secret and SSH key).
*/ -}}
{{- define "acm.installConfig" -}}
{{- $cloud := include "acm.cloud" . | fromJson -}}
{{- $default := dict $cloud.name (dict "type" $cloud.machine) -}}
{{- $control := dict "architecture" "amd64" "hyperthreading" "Enabled" "name" "controlPlane" "replicas" 3 "platform" $default -}}
{{- with .controlPlane -}}
{{- $control = dict "architecture" "amd64" "hyperthreading" "Enabled" "name" "controlPlane" "replicas" (.count | default 3) -}}
{{- with .platform }}{{ $_ := set $control "platform" . }}{{ end -}}
{{- end -}}
{{- $workers := dict "architecture" "amd64" "hyperthreading" "Enabled" "name" "worker" "replicas" 3 "platform" $default -}}
{{- with .workers -}}
{{- $workers = dict "architecture" "amd64" "hyperthreading" "Enabled" "name" "worker" "replicas" (.count | default 0) -}}
{{- with .platform }}{{ $_ := set $workers "platform" . }}{{ end -}}
{{- end -}}
{{- toYaml (dict
  "apiVersion" "v1"
  "metadata" (dict "name" .name)
  "baseDomain" .baseDomain
  "controlPlane" $control
  "compute" (list $workers)
  "networking" (dict
    "clusterNetwork" (list (dict "cidr" "10.128.0.0/14" "hostPrefix" 23))
    "machineNetwork" (list (dict "cidr" "10.0.0.0/16"))
    "networkType" "OVNKubernetes"
    "serviceNetwork" (list "172.30.0.0/16"))
  "platform" .platform
  "pullSecret" ""
  "sshKey" ""
) -}}
{{- end -}}

{{- /*
The secrets of a cluster to provision: its install-config, and ExternalSecrets for the pull
secret, the SSH key and the cloud credentials (plus the credentials ACM's console uses to create
clusters by hand). Argument: dict with root, name, cluster (its values) and namespace.
*/ -}}
{{- define "acm.clusterSecrets" -}}
{{- $store := .root.Values.secretStore -}}
{{- $cluster := .cluster -}}
{{- $cloud := include "acm.cloud" $cluster | fromJson -}}
{{- $pull := dict "secretKey" "openshiftPullSecret" "remoteRef" (dict "key" ($cluster.pullSecretKeyPath | default "secret/data/hub/openshiftPullSecret") "property" "content") -}}
{{- $private := dict "secretKey" "sshPrivateKey" "remoteRef" (dict "key" ($cluster.sshPrivateKeyPath | default "secret/data/hub/privatekey") "property" "content") -}}
{{- $public := dict "secretKey" "sshPublicKey" "remoteRef" (dict "key" ($cluster.sshPublicKeyPath | default "secret/data/hub/publickey") "property" "content") -}}
{{- $secrets := list
  (dict "suffix" "pull-secret" "data" (list $pull) "template" (dict "type" "kubernetes.io/dockerconfigjson" "data" (dict ".dockerconfigjson" "{{ .openshiftPullSecret }}")))
  (dict "suffix" "ssh-private-key" "data" (list $private) "template" (dict "type" "Opaque" "data" (dict "ssh-privatekey" "{{ .sshPrivateKey }}")))
-}}
{{- $consoleLabels := dict "cluster.open-cluster-management.io/credentials" "" "cluster.open-cluster-management.io/type" "aws" -}}
{{- $consoleData := dict
  "baseDomain" (toString $cluster.baseDomain)
  "pullSecret" "{{ .openshiftPullSecret }}"
  "ssh-privatekey" "{{ .sshPrivateKey }}"
  "ssh-publickey" "{{ .sshPublicKey }}"
  "httpProxy" "" "httpsProxy" "" "noProxy" "" "additionalTrustBundle" ""
-}}
{{- if eq $cloud.name "aws" -}}
{{- $keys := $cluster.awsKeyPath | default "secret/data/hub/aws" -}}
{{- $secrets = append $secrets (dict "suffix" "creds" "dataFrom" (list (dict "extract" (dict "key" $keys))) "template" (dict "type" "Opaque")) -}}
{{- $_ := set $consoleData "aws_access_key_id" "{{ .awsKeyId }}" -}}
{{- $_ := set $consoleData "aws_secret_access_key" "{{ .awsAccessKey }}" -}}
{{- $secrets = append $secrets (dict "suffix" "infra-creds" "data" (list $pull
  (dict "secretKey" "awsKeyId" "remoteRef" (dict "key" $keys "property" "aws_access_key_id"))
  (dict "secretKey" "awsAccessKey" "remoteRef" (dict "key" $keys "property" "aws_secret_access_key"))
  $public $private) "template" (dict "type" "Opaque" "metadata" (dict "labels" $consoleLabels) "data" $consoleData)) -}}
{{- else if eq $cloud.name "azure" -}}
{{- $principal := dict "secretKey" "azureOsServicePrincipal" "remoteRef" (dict "key" ($cluster.azureKeyPath | default "secret/data/hub/azureOsServicePrincipal") "property" "content") -}}
{{- $secrets = append $secrets (dict "suffix" "creds" "data" (list $principal) "template" (dict "type" "Opaque" "data" (dict "osServicePrincipal.json" "{{ .azureOsServicePrincipal }}"))) -}}
{{- $_ := set $consoleData "cloudName" "AzurePublicCloud" -}}
{{- $_ := set $consoleData "osServicePrincipal.json" "{{ .azureOsServicePrincipal }}" -}}
{{- $_ := set $consoleData "baseDomainResourceGroupName" (toString $cluster.platform.azure.baseDomainResourceGroupName) -}}
{{- $secrets = append $secrets (dict "suffix" "infra-creds" "data" (list $pull $public $private $principal) "template" (dict "type" "Opaque" "metadata" (dict "labels" $consoleLabels) "data" $consoleData)) -}}
{{- end }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}-install-config
  namespace: {{ .namespace }}
type: Opaque
data:
  install-config.yaml: {{ include "acm.installConfig" $cluster | b64enc }}
{{- range $secrets }}
{{- $spec := dict
  "refreshInterval" "24h0m0s"
  "secretStoreRef" (dict "name" $store.name "kind" $store.kind)
  "target" (dict "name" (printf "%s-%s" $.name .suffix) "creationPolicy" "Owner" "template" .template)
}}
{{- with .data }}{{ $_ := set $spec "data" . }}{{ end }}
{{- with .dataFrom }}{{ $_ := set $spec "dataFrom" . }}{{ end }}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ printf "%s-%s" $.name .suffix }}
  namespace: {{ $.namespace }}
spec: {{ $spec | toJson }}
{{- end }}
{{- end -}}
