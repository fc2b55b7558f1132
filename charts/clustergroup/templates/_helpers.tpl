{{- /*
The namespace of the Argo CD instance that owns this group's applications and projects: the
group's own instance in <pattern>-<group>, or the cluster-wide one with global.singleArgoCD.
*/ -}}
{{- define "clustergroup.argoNamespace" -}}
{{- if .Values.global.singleArgoCD -}}
{{- .Values.global.vpArgoNamespace -}}
{{- else -}}
{{- printf "%s-%s" .Values.global.pattern .Values.clusterGroup.name -}}
{{- end -}}
{{- end -}}

{{- /*
"true" when this cluster is the hub: clusterGroup.isHubCluster when set (deprecated), else
whether the local apps domain (default: the hub's) is the hub's; "false" without a hub domain.
*/ -}}
{{- define "clustergroup.isHub" -}}
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
Whether the imperative jobs may manage Vault here: the secret store is Vault (the default) and
the cluster is the hub or runs the hashicorp-vault chart itself.
*/ -}}
{{- define "clustergroup.vaultHere" -}}
{{- $store := .Values.global.secretStore | default dict -}}
{{- $vaultChart := false -}}
{{- range .Values.clusterGroup.applications -}}
{{- if and (kindIs "map" .) (eq (toString .chart) "hashicorp-vault") -}}
{{- $vaultChart = true -}}
{{- end -}}
{{- end -}}
{{- if and (or (not (hasKey $store "backend")) (eq (toString $store.backend) "vault")) (ne (toString .Values.enabled) "plumbing") (or (eq (include "clustergroup.isHub" .) "true") $vaultChart) -}}
true
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
{"items": [{"name", "settings", "plain", "listed"}]}; disabled ones dropped. `plain` marks a bare
name in a list, `listed` any list entry: OperatorGroups treat the shapes differently (below).
*/ -}}
{{- define "clustergroup.namespaces" -}}
{{- $items := list -}}
{{- if kindIs "map" . -}}
{{- range $name, $settings := . -}}
{{- $items = append $items (dict "name" $name "settings" (default dict $settings) "plain" false "listed" false) -}}
{{- end -}}
{{- else -}}
{{- range $entry := . -}}
{{- if kindIs "map" $entry -}}
{{- range $name, $settings := $entry -}}
{{- $items = append $items (dict "name" $name "settings" (default dict $settings) "plain" false "listed" true) -}}
{{- end -}}
{{- else if $entry -}}
{{- $items = append $items (dict "name" (toString $entry) "settings" dict "plain" true "listed" true) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $enabled := list -}}
{{- range $items -}}
{{- if not .settings.disabled -}}
{{- $enabled = append $enabled . -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $enabled) -}}
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
A value as the text of a Helm parameter: "" for nothing, booleans and numbers as Helm prints them.
*/ -}}
{{- define "clustergroup.text" -}}
{{- if not (kindIs "invalid" .) -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{- /*
A value file named by the user, rendered with tpl (it may name facts such as
{{ $.Values.global.clusterPlatform }}) and, for multi-source apps, put under $patternref the way
Argo CD reads it: "$patternref" followed by the path as written. Argument: (list $file $ $prefix).
*/ -}}
{{- define "clustergroup.userValueFile" -}}
{{- $file := tpl (toString (index . 0)) (index . 1) -}}
{{- $prefix := index . 2 -}}
{{- if and $prefix (not (hasPrefix (printf "%s/" $prefix) $file)) -}}
{{- $file = printf "%s%s" $prefix $file -}}
{{- end -}}
{{- $file | quote -}}
{{- end -}}

{{- /*
The value files of an application, in the operator's order: the pattern's chain (global, group,
platform, platform-version, platform-group, version-group, this cluster), global.extraValueFiles,
clusterGroup.sharedValueFiles, the app's extraValueFiles. Argument: (list $app $ $prefix) where
$prefix is "" for single-source apps or "$patternref" for multi-source ones.
*/ -}}
{{- define "clustergroup.valueFiles" -}}
{{- $app := index . 0 -}}
{{- $root := index . 1 -}}
{{- $prefix := index . 2 -}}
{{- $global := $root.Values.global -}}
{{- $group := $root.Values.clusterGroup.name -}}
{{- $chain := list "global" $group -}}
{{- with $global.clusterPlatform -}}
{{- $chain = append $chain . -}}
{{- if $global.clusterVersion -}}
{{- $chain = append $chain (printf "%s-%s" . (toString $global.clusterVersion)) -}}
{{- end -}}
{{- $chain = append $chain (printf "%s-%s" . $group) -}}
{{- end -}}
{{- with $global.clusterVersion -}}
{{- $chain = append $chain (printf "%s-%s" (toString .) $group) -}}
{{- end -}}
{{- with $global.localClusterName -}}
{{- $chain = append $chain (toString .) -}}
{{- end -}}
{{- range $chain }}
- {{ printf "%s/values-%s.yaml" $prefix . | quote }}
{{- end }}
{{- range $global.extraValueFiles }}
- {{ ternary (printf "%s/%s" $prefix (toString .)) (toString .) (ne $prefix "") | quote }}
{{- end }}
{{- range $root.Values.clusterGroup.sharedValueFiles }}
- {{ include "clustergroup.userValueFile" (list . $root $prefix) }}
{{- end }}
{{- range $app.extraValueFiles }}
- {{ include "clustergroup.userValueFile" (list . $root $prefix) }}
{{- end }}
{{- end -}}

{{- /*
Helm parameters every application gets: the facts the operator injected, the app's extra fields
that want a fact, extraParametersNested, then the app's overrides (rendered with tpl, so that
they may name facts too). Argument: (list $app $).
*/ -}}
{{- define "clustergroup.parameters" -}}
{{- $app := index . 0 -}}
{{- $root := index . 1 -}}
{{- $global := $root.Values.global -}}
{{- $params := list
  (list "global.repoURL" $global.repoURL)
  (list "global.originURL" $global.originURL)
  (list "global.targetRevision" $global.targetRevision)
  (list "global.namespace" "$ARGOCD_APP_NAMESPACE")
  (list "global.pattern" $global.pattern)
  (list "global.clusterDomain" $global.clusterDomain)
  (list "global.localClusterName" $global.localClusterName)
  (list "global.clusterVersion" $global.clusterVersion)
  (list "global.clusterPlatform" $global.clusterPlatform)
  (list "global.hubClusterDomain" $global.hubClusterDomain)
  (list "global.multiSourceSupport" $global.multiSourceSupport)
  (list "global.multiSourceRepoUrl" $global.multiSourceRepoUrl)
  (list "global.multiSourceTargetRevision" $global.multiSourceTargetRevision)
  (list "global.localClusterDomain" (coalesce $global.localClusterDomain $global.hubClusterDomain))
  (list "global.privateRepo" $global.privateRepo)
  (list "global.experimentalCapabilities" $global.experimentalCapabilities)
  (list "global.deletePattern" $global.deletePattern)
  (list "global.gitOpsSubNamespace" $global.gitOpsSubNamespace)
  (list "global.vpArgoNamespace" $global.vpArgoNamespace)
-}}
{{- $facts := dict
  "extraHubClusterDomainFields" $global.hubClusterDomain
  "extraLocalClusterDomainFields" $global.localClusterDomain
  "extraRepoURLFields" "$ARGOCD_APP_SOURCE_REPO_URL"
  "extraTargetRevisionFields" "$ARGOCD_APP_SOURCE_TARGET_REVISION"
  "extraNamespaceFields" "$ARGOCD_APP_NAMESPACE"
  "extraPatternNameFields" $global.pattern
-}}
{{- range $field := list "extraHubClusterDomainFields" "extraLocalClusterDomainFields" "extraRepoURLFields" "extraTargetRevisionFields" "extraNamespaceFields" "extraPatternNameFields" -}}
{{- range (get $app $field | default list) -}}
{{- $params = append $params (list (toString .) (get $facts $field)) -}}
{{- end -}}
{{- end -}}
{{- range $name, $value := $root.Values.extraParametersNested -}}
{{- $params = append $params (list $name (printf "%s" $value)) -}}
{{- end -}}
{{- range $params }}
- name: {{ index . 0 | quote }}
  value: {{ include "clustergroup.text" (index . 1) | quote }}
{{- end }}
{{- range $app.overrides }}
- name: {{ .name | toString | quote }}
  value: {{ tpl (toString .value) $root | quote }}
{{- if .forceString }}
  forceString: true
{{- end }}
{{- end }}
{{- end -}}

{{- /*
The `helm` block of an application source. Argument: (list $app $ $prefix).
*/ -}}
{{- define "clustergroup.helmSource" -}}
{{- $app := index . 0 -}}
{{- $root := index . 1 -}}
{{- $nested := "extraParametersNested:\n" -}}
{{- range $name, $value := $root.Values.extraParametersNested -}}
{{- $nested = printf "%s  %s: %s\n" $nested $name (printf "%s" $value | quote) -}}
{{- end -}}
helm:
  ignoreMissingValueFiles: true
  values: {{ $nested | quote }}
  valueFiles:
    {{- include "clustergroup.valueFiles" . | nindent 4 }}
  parameters:
    {{- include "clustergroup.parameters" (list $app $root) | nindent 4 }}
  {{- with $app.fileParameters }}
  fileParameters:
    {{- range . }}
    - name: {{ .name | quote }}
      path: {{ .path | quote }}
    {{- end }}
  {{- end }}
{{- end -}}

{{- /*
The init containers that every imperative CronJob starts with: gather the cluster's CA bundles,
clone the pattern repository (with the operator's private-repository credentials when there
are some), and in Ansible development mode install the collections first.
*/ -}}
{{- define "clustergroup.imperativeInit" -}}
{{- $imperative := .Values.clusterGroup.imperative -}}
{{- $argo := .Values.global.vpArgoNamespace -}}
- name: fetch-ca
  image: {{ $imperative.image }}
  imagePullPolicy: {{ $imperative.imagePullPolicy }}
  env:
    - name: HOME
      value: /git/home
  command:
    - sh
    - -c
    - >-
      for bundle in /var/run/kube-root-ca/ca.crt /var/run/trusted-ca/ca-bundle.crt
      /var/run/trusted-hub/hub-kube-root-ca.crt; do [ -r "$bundle" ] && cat "$bundle"; done
      > /tmp/ca-bundles/ca-bundle.crt; true
  volumeMounts:
    {{- include "clustergroup.caMounts" "/tmp/ca-bundles" | nindent 4 }}
- name: git-init
  image: {{ $imperative.image }}
  imagePullPolicy: {{ $imperative.imagePullPolicy }}
  env:
    - name: HOME
      value: /git/home
  volumeMounts:
    - name: git
      mountPath: /git
    - name: ca-bundles
      mountPath: /etc/pki/tls/certs
  command:
    - sh
    - -c
    - |-
      creds="oc get secret -n {{ $argo }} vp-private-repo-credentials"
      field() { $creds -o go-template="{{ `{{` }}index .data.$1 | base64decode{{ `}}` }}" 2>/dev/null; }
      url={{ .Values.global.repoURL | quote }}
      if $creds >/dev/null 2>&1; then
        key="$(field sshPrivateKey)"
        if [ -n "$key" ]; then
          mkdir -p -m 0700 "$HOME/.ssh" && printf '%s\n' "$key" > "$HOME/.ssh/id_rsa" && chmod 0600 "$HOME/.ssh/id_rsa"
          git config --global core.sshCommand "ssh -i $HOME/.ssh/id_rsa -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
          url="$(printf '%s' "$url" | sed -E 's#^(https?://)#\1git@#')"
        else
          url="$(printf '%s' "$url" | sed -E "s#^(https?://)#\1$(field username):$(field password)@#")"
        fi
      fi
      for setting in httpProxy:HTTP_PROXY httpsProxy:HTTPS_PROXY noProxy:NO_PROXY; do
        value="$(oc get proxy.config.openshift.io/cluster -o jsonpath="{.spec.${setting%%:*}}" 2>/dev/null)"
        [ -n "$value" ] && export "${setting#*:}=$value"
      done
      revision={{ .Values.global.targetRevision | toString | quote }}
      branch=""; [ "$revision" = HEAD ] || branch="--branch $revision"
      mkdir -p /git/repo /git/home
      git clone --recurse-submodules --single-branch $branch --depth 1 -- "$url" /git/repo
      chmod 0770 /git/repo /git/home
{{- with $imperative.ansibleDevMode }}
{{- if .enabled }}
- name: ansible-dev-mode
  image: {{ $imperative.image }}
  imagePullPolicy: {{ $imperative.imagePullPolicy }}
  env:
    - name: HOME
      value: /git/home
  workingDir: /git/repo
  command:
    - sh
    - -c
    - |-
      {{- if .requirementsContent }}
      echo {{ .requirementsContent | b64enc }} | base64 -d > {{ .requirementsFile | quote }}
      {{- end }}
      {{- if .ansibleCfgContent }}
      echo {{ .ansibleCfgContent | b64enc }} | base64 -d > {{ .ansibleCfgFile | quote }}
      {{- end }}
      ansible-galaxy collection install -r {{ .requirementsFile | quote }} && ansible-galaxy collection list
  volumeMounts:
    {{- include "clustergroup.jobMounts" . | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{- /* Where the CA bundles are mounted; the argument is the folder the merged bundle goes to. */ -}}
{{- define "clustergroup.caMounts" -}}
- name: kube-root-ca
  mountPath: /var/run/kube-root-ca
- name: trusted-ca-bundle
  mountPath: /var/run/trusted-ca
- name: trusted-hub-bundle
  mountPath: /var/run/trusted-hub
- name: ca-bundles
  mountPath: {{ . }}
{{- end -}}

{{- /* The mounts of a playbook container: the clone, the values, the CA bundles. */ -}}
{{- define "clustergroup.jobMounts" -}}
- name: git
  mountPath: /git
- name: values-volume
  mountPath: /values/values.yaml
  subPath: values.yaml
{{ include "clustergroup.caMounts" "/etc/pki/tls/certs" }}
{{- end -}}

{{- /*
An imperative CronJob. Argument: dict with root ($), name, schedule, jobName, serviceAccount and
playbooks (the playbook containers, as YAML list text).
*/ -}}
{{- define "clustergroup.imperativeCronJob" -}}
{{- $root := .root -}}
{{- $imperative := $root.Values.clusterGroup.imperative -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ .name }}
  namespace: {{ $imperative.namespace }}
spec:
  schedule: {{ .schedule | quote }}
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      activeDeadlineSeconds: {{ $imperative.activeDeadlineSeconds }}
      template:
        metadata:
          name: {{ .jobName }}
        spec:
          serviceAccountName: {{ .serviceAccount }}
          restartPolicy: Never
          initContainers:
            {{- include "clustergroup.imperativeInit" $root | nindent 12 }}
            {{- .playbooks | nindent 12 }}
          containers:
            - name: done
              image: {{ $imperative.image }}
              imagePullPolicy: {{ $imperative.imagePullPolicy }}
              command: ["sh", "-c", "echo done"]
          volumes:
            - name: git
              emptyDir: {}
            - name: values-volume
              configMap:
                name: {{ printf "%s-%s" $imperative.valuesConfigMap $root.Values.clusterGroup.name }}
            - name: kube-root-ca
              configMap:
                name: kube-root-ca.crt
            - name: trusted-ca-bundle
              configMap:
                name: trusted-ca-bundle
                optional: true
            - name: trusted-hub-bundle
              configMap:
                name: trusted-hub-bundle
                optional: true
            - name: ca-bundles
              emptyDir: {}
{{- end -}}

{{- /*
One playbook container. Argument: dict with root, name, image, timeout, verbosity, tags,
extravars and playbook.
*/ -}}
{{- define "clustergroup.playbook" -}}
{{- $imperative := .root.Values.clusterGroup.imperative -}}
- name: {{ .name }}
  image: {{ .image | default $imperative.image }}
  imagePullPolicy: {{ $imperative.imagePullPolicy }}
  env:
    - name: HOME
      value: /git/home
  workingDir: /git/repo
  command:
    - timeout
    - {{ .timeout | default "600" | toString | quote }}
    - ansible-playbook
    {{- with .verbosity }}
    - {{ . | toString | quote }}
    {{- end }}
    {{- with .tags }}
    - -t
    - {{ . | toString | quote }}
    {{- end }}
    - -e
    - "@/values/values.yaml"
    {{- range .extravars }}
    - -e
    - {{ . | toString | quote }}
    {{- end }}
    {{- range $imperative.extraPlaybookArgs }}
    - {{ . | toString | quote }}
    {{- end }}
    {{- with .extraArgs }}
    {{- range . }}
    - {{ . | quote }}
    {{- end }}
    {{- end }}
    - {{ .playbook | toString | quote }}
  volumeMounts:
    {{- include "clustergroup.jobMounts" . | nindent 4 }}
{{- end -}}
