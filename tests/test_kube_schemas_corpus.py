"""Our hand-written CRD schemas against the upstream ones (the oracle in ../shared).

Every object of the valid corpus must pass both our schema and the oracle's; every object of the
invalid corpus must fail both. Ours may be stricter than the oracle only where the oracle is
known to be looser than the API (it has no strict root or metadata).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from generator.checks.kube_schemas import SchemaRegistry, split_api_version

ORACLE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "crd-schemas"

VALID = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: config-demo
  namespace: mcg-hub
  labels: {validatedpatterns.io/pattern: multicloud-gitops}
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: hub
  destination: {server: https://kubernetes.default.svc, namespace: config-demo}
  sources:
    - repoURL: https://github.com/validatedpatterns/multicloud-gitops
      targetRevision: main
      ref: patternref
    - repoURL: https://charts.validatedpatterns.io
      chart: config-demo
      targetRevision: 0.1.*
      helm:
        ignoreMissingValueFiles: true
        valueFiles:
          - $patternref/values-global.yaml
          - $patternref/values-hub.yaml
        parameters:
          - {name: global.pattern, value: multicloud-gitops}
          - {name: global.hubClusterDomain, value: apps.hub.example.com, forceString: true}
        valuesObject:
          replicas: 2
          nested: {anything: [1, 2, {goes: here}]}
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
    - kind: Secret
      jqPathExpressions: [.data]
      managedFieldsManagers: [kube-controller-manager]
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, ServerSideApply=true]
    retry:
      limit: 20
      backoff: {duration: 5s, factor: 2, maxDuration: 3m}
    managedNamespaceMetadata:
      labels: {argocd.argoproj.io/managed-by: openshift-gitops}
  info:
    - {name: docs, value: https://validatedpatterns.io}
  revisionHistoryLimit: 5
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: kustomized, namespace: openshift-gitops}
spec:
  project: default
  destination: {name: in-cluster}
  source:
    repoURL: https://github.com/example/apps
    path: overlays/prod
    kustomize:
      namePrefix: prod-
      images: [quay.io/example/app:v2]
      commonLabels: {team: a}
      replicas:
        - {name: web, count: 3}
        - {name: worker, count: "2"}
      patches:
        - target: {kind: Deployment, name: web}
          patch: '[{"op": "replace", "path": "/spec/replicas", "value": 3}]'
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: jsonnet, namespace: openshift-gitops}
spec:
  project: default
  destination: {server: https://kubernetes.default.svc}
  source:
    repoURL: https://github.com/example/apps
    path: jsonnet
    directory:
      recurse: true
      jsonnet:
        extVars: [{name: env, value: prod}]
        tlas: [{name: replicas, value: "3", code: true}]
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: hub, namespace: openshift-gitops}
spec:
  description: Applications of the hub cluster group
  sourceRepos: ['*']
  destinations: [{namespace: '*', server: '*'}]
  clusterResourceWhitelist: [{group: '*', kind: '*'}]
  namespaceResourceBlacklist: [{group: '', kind: ResourceQuota}]
  orphanedResources: {warn: false}
  roles:
    - name: ci
      policies: ['p, proj:hub:ci, applications, sync, hub/*, allow']
      groups: [ci-team]
  syncWindows:
    - {kind: allow, schedule: '10 1 * * *', duration: 1h, applications: ['*'], manualSync: true}
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: edge-apps, namespace: openshift-gitops}
spec:
  goTemplate: true
  goTemplateOptions: [missingkey=error]
  generators:
    - matrix:
        generators:
          - git:
              repoURL: https://github.com/example/apps
              revision: main
              directories: [{path: apps/*}, {path: apps/legacy, exclude: true}]
          - clusterDecisionResource:
              configMapRef: acm-placement
              labelSelector:
                matchLabels: {cluster.open-cluster-management.io/placement: edge}
              requeueAfterSeconds: 180
    - list:
        elements:
          - {cluster: edge-1, url: https://edge-1.example.com}
  template:
    metadata:
      name: '{{.path.basename}}-{{.name}}'
      labels: {app: '{{.path.basename}}'}
    spec:
      project: default
      source:
        repoURL: https://github.com/example/apps
        targetRevision: main
        path: '{{.path.path}}'
      destination: {server: '{{.server}}', namespace: '{{.path.basename}}'}
      syncPolicy:
        automated: {prune: true}
  syncPolicy: {preserveResourcesOnDeletion: true, applicationsSync: create-update}
  strategy:
    type: RollingSync
    rollingSync:
      steps:
        - matchExpressions: [{key: env, operator: In, values: [dev]}]
          maxUpdate: 25%
        - matchExpressions: [{key: env, operator: In, values: [prod]}]
          maxUpdate: 1
---
apiVersion: policy.open-cluster-management.io/v1
kind: Policy
metadata:
  name: hub-argo-ca-policy
  namespace: open-cluster-management
  annotations:
    policy.open-cluster-management.io/standards: NIST SP 800-53
    argocd.argoproj.io/compare-options: IgnoreExtraneous
spec:
  remediationAction: enforce
  disabled: false
  dependencies:
    - apiVersion: policy.open-cluster-management.io/v1
      kind: Policy
      name: base
      namespace: open-cluster-management
      compliance: Compliant
  policy-templates:
    - objectDefinition:
        apiVersion: policy.open-cluster-management.io/v1
        kind: ConfigurationPolicy
        metadata: {name: hub-argo-ca-config-policy}
        spec:
          remediationAction: enforce
          severity: medium
          namespaceSelector: {include: [default], exclude: [kube-*]}
          evaluationInterval: {compliant: 10m, noncompliant: 30s}
          pruneObjectBehavior: DeleteIfCreated
          object-templates:
            - complianceType: mustonlyhave
              recordDiff: InStatus
              objectDefinition:
                kind: ConfigMap
                apiVersion: v1
                metadata: {name: trusted-hub-bundle, namespace: openshift-config}
                data:
                  hub-kube-root-ca.crt: >-
                    {{hub fromConfigMap "" "kube-root-ca.crt" "ca.crt" | autoindent hub}}
      extraDependencies:
        - apiVersion: policy.open-cluster-management.io/v1
          kind: ConfigurationPolicy
          name: other
          compliance: Compliant
      ignorePending: true
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata: {name: hub-argo-ca-placement-binding, namespace: open-cluster-management}
placementRef:
  name: hub-argo-ca-placement
  kind: Placement
  apiGroup: cluster.open-cluster-management.io
subjects:
  - {name: hub-argo-ca-policy, kind: Policy, apiGroup: policy.open-cluster-management.io}
bindingOverrides: {remediationAction: enforce}
---
apiVersion: policy.open-cluster-management.io/v1
kind: PlacementBinding
metadata: {name: legacy-binding, namespace: open-cluster-management}
placementRef: {name: legacy-rule, kind: PlacementRule, apiGroup: apps.open-cluster-management.io}
subjects:
  - {name: set-a, kind: PolicySet, apiGroup: policy.open-cluster-management.io}
---
apiVersion: policy.open-cluster-management.io/v1
kind: ConfigurationPolicy
metadata: {name: raw-templates}
spec:
  remediationAction: inform
  customMessage: {compliant: all good, noncompliant: fix it}
  object-templates-raw: |
    {{- range (lookup "v1" "ConfigMap" "default" "").items }}
    - complianceType: musthave
      objectDefinition: {kind: ConfigMap, apiVersion: v1, metadata: {name: '{{ .metadata.name }}'}}
    {{- end }}
---
apiVersion: policy.open-cluster-management.io/v1beta1
kind: OperatorPolicy
metadata: {name: install-gitops}
spec:
  remediationAction: enforce
  severity: high
  complianceType: musthave
  upgradeApproval: Automatic
  subscription:
    channel: gitops-1.15
    name: openshift-gitops-operator
    namespace: openshift-gitops-operator
    source: redhat-operators
    sourceNamespace: openshift-marketplace
  operatorGroup: {name: gitops, namespace: openshift-gitops-operator, targetNamespaces: []}
  versions: [openshift-gitops-operator.v1.15.0]
  complianceConfig: {upgradesAvailable: NonCompliant}
  removalBehavior: {operatorGroups: DeleteIfUnused, subscriptions: Delete}
---
apiVersion: cluster.open-cluster-management.io/v1beta1
kind: Placement
metadata: {name: region-one-placement, namespace: open-cluster-management}
spec:
  clusterSets: [region-one]
  numberOfClusters: 2
  predicates:
    - requiredClusterSelector:
        labelSelector:
          matchLabels: {clusterGroup: region-one}
          matchExpressions:
            - {key: vendor, operator: In, values: [OpenShift]}
        claimSelector:
          matchExpressions:
            - {key: platform.open-cluster-management.io, operator: In, values: [AWS]}
  tolerations:
    - {key: cluster.open-cluster-management.io/unreachable, operator: Exists}
    - key: cluster.open-cluster-management.io/unavailable
      operator: Exists
      tolerationSeconds: 300
  prioritizerPolicy:
    mode: Additive
    configurations:
      - scoreCoordinate: {type: BuiltIn, builtIn: ResourceAllocatableMemory}
        weight: 2
  decisionStrategy:
    groupStrategy:
      clustersPerDecisionGroup: 25%
      decisionGroups:
        - groupName: canary
          groupClusterSelector: {labelSelector: {matchLabels: {canary: "true"}}}
---
apiVersion: cluster.open-cluster-management.io/v1beta2
kind: ManagedClusterSetBinding
metadata: {name: region-one, namespace: open-cluster-management}
spec: {clusterSet: region-one}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: config-demo-secret, namespace: config-demo}
spec:
  refreshInterval: 15s
  secretStoreRef: {name: vault-backend, kind: ClusterSecretStore}
  target:
    name: config-demo-secret
    creationPolicy: Owner
    template:
      type: Opaque
      engineVersion: v2
      metadata: {labels: {app: config-demo}}
      data:
        config.yaml: |
          password: "{{ .secret }}"
  data:
    - secretKey: secret
      remoteRef: {key: secret/data/global/config-demo, property: secret}
  dataFrom:
    - extract: {key: secret/data/hub/config-demo, decodingStrategy: None}
      rewrite:
        - regexp: {source: (.*), target: demo-$1}
    - find:
        path: secret/data/hub
        name: {regexp: ^demo-.*}
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: vault-backend}
spec:
  provider:
    vault:
      server: https://vault-vault.apps.hub.example.com
      path: secret
      version: v2
      caProvider:
        type: ConfigMap
        name: kube-root-ca.crt
        key: ca.crt
        namespace: golang-external-secrets
      auth:
        kubernetes:
          mountPath: hub
          role: hub-role
          serviceAccountRef: {name: golang-external-secrets, namespace: golang-external-secrets}
  conditions:
    - namespaceSelector: {matchLabels: {vault-access: "true"}}
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: in-cluster, namespace: app}
spec:
  provider:
    kubernetes:
      remoteNamespace: source
      server:
        caProvider: {type: ConfigMap, name: kube-root-ca.crt, key: ca.crt}
      auth:
        serviceAccount: {name: reader}
---
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: advanced-cluster-management, namespace: open-cluster-management}
spec:
  name: advanced-cluster-management
  source: redhat-operators
  sourceNamespace: openshift-marketplace
  channel: release-2.13
  installPlanApproval: Automatic
  startingCSV: advanced-cluster-management.v2.13.0
  config:
    env: [{name: DISABLE_X, value: "true"}]
    nodeSelector: {node-role.kubernetes.io/infra: ""}
    tolerations: [{key: node-role.kubernetes.io/infra, operator: Exists, effect: NoSchedule}]
    resources: {limits: {memory: 1Gi}}
---
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: open-cluster-management-operator-group, namespace: open-cluster-management}
spec:
  targetNamespaces: [open-cluster-management]
  upgradeStrategy: Default
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web, namespace: app}
spec:
  host: web.apps.example.com
  path: /
  to: {kind: Service, name: web, weight: 100}
  alternateBackends: [{kind: Service, name: web-canary, weight: 10}]
  port: {targetPort: 8080-tcp}
  tls: {termination: edge, insecureEdgeTerminationPolicy: Redirect}
  wildcardPolicy: None
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: api, namespace: app}
spec:
  to: {kind: Service, name: api}
  port: {targetPort: 8443}
  tls: {termination: reencrypt, destinationCACertificate: "-----BEGIN CERTIFICATE-----"}
---
apiVersion: image.openshift.io/v1
kind: ImageStream
metadata: {name: app, namespace: app}
spec:
  lookupPolicy: {local: true}
  tags:
    - name: latest
      from: {kind: DockerImage, name: quay.io/example/app:latest}
      importPolicy: {scheduled: true}
      referencePolicy: {type: Local}
---
apiVersion: build.openshift.io/v1
kind: BuildConfig
metadata: {name: app, namespace: app}
spec:
  runPolicy: Serial
  source:
    type: Git
    git: {uri: https://github.com/example/app, ref: main}
    contextDir: src
  strategy:
    type: Docker
    dockerStrategy:
      dockerfilePath: Containerfile
      buildArgs: [{name: VERSION, value: "1.0"}]
      from: {kind: ImageStreamTag, name: ubi9:latest, namespace: openshift}
  output:
    to: {kind: ImageStreamTag, name: app:latest}
  triggers:
    - type: ConfigChange
    - type: GitHub
      github: {secretReference: {name: webhook-secret}}
    - type: ImageChange
      imageChange: {}
  resources: {limits: {cpu: "1", memory: 2Gi}}
  successfulBuildsHistoryLimit: 3
---
apiVersion: operator.open-cluster-management.io/v1
kind: MultiClusterHub
metadata: {name: multiclusterhub, namespace: open-cluster-management}
spec:
  availabilityConfig: Basic
  nodeSelector: {node-role.kubernetes.io/infra: ""}
  overrides:
    components:
      - {name: cluster-backup, enabled: true}
---
apiVersion: console.openshift.io/v1
kind: ConsoleLink
metadata: {name: hub-gitops-link}
spec:
  text: Hub ArgoCD
  href: https://hub-gitops-server-openshift-gitops.apps.hub.example.com
  location: ApplicationMenu
  applicationMenu: {section: OpenShift GitOps, imageURL: https://example.com/argo.png}
"""


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the dotted `path` set (digits index lists); `value` None deletes."""
    result = copy.deepcopy(body)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = result
    for part in parents:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return result


_BY_KIND = {(doc["kind"], doc["metadata"]["name"]): doc for doc in _documents(VALID)}


def _mutant(kind: str, name: str, path: str, value: Any) -> dict[str, Any]:
    return _set(_BY_KIND[(kind, name)], path, value)


# (description, object): each breaks the real API in one place, at different depths.
INVALID = [
    ("unknown spec field", _mutant("Application", "config-demo", "spec.sourcez", {})),
    (
        "helm valueFile typo",
        _mutant("Application", "config-demo", "spec.sources.1.helm.valueFile", ["a.yaml"]),
    ),
    (
        "parameter value not a string",
        _mutant("Application", "config-demo", "spec.sources.1.helm.parameters.0.value", 3),
    ),
    ("missing project", _mutant("Application", "kustomized", "spec.project", None)),
    ("source without repoURL", _mutant("Application", "jsonnet", "spec.source.repoURL", None)),
    (
        "retry limit as string",
        _mutant("Application", "config-demo", "spec.syncPolicy.retry.limit", "twenty"),
    ),
    (
        "ignoreDifferences without kind",
        _mutant("Application", "config-demo", "spec.ignoreDifferences.0.kind", None),
    ),
    ("appproject role without name", _mutant("AppProject", "hub", "spec.roles.0.name", None)),
    (
        "applicationset git without revision",
        _mutant(
            "ApplicationSet",
            "edge-apps",
            "spec.generators.0.matrix.generators.0.git.revision",
            None,
        ),
    ),
    (
        "applicationsSync not an allowed value",
        _mutant("ApplicationSet", "edge-apps", "spec.syncPolicy.applicationsSync", "always"),
    ),
    ("policy without disabled", _mutant("Policy", "hub-argo-ca-policy", "spec.disabled", None)),
    (
        "policy remediationAction wrong",
        _mutant("Policy", "hub-argo-ca-policy", "spec.remediationAction", "fix"),
    ),
    (
        "policy template typo",
        _mutant("Policy", "hub-argo-ca-policy", "spec.policy-templates.0.objectDefinitions", {}),
    ),
    (
        "placement binding mixes Placement with the apps group",
        _mutant(
            "PlacementBinding",
            "hub-argo-ca-placement-binding",
            "placementRef.apiGroup",
            "apps.open-cluster-management.io",
        ),
    ),
    (
        "placement binding without subjects",
        _mutant("PlacementBinding", "legacy-binding", "subjects", None),
    ),
    (
        "configuration policy severity wrong",
        _mutant("ConfigurationPolicy", "raw-templates", "spec.severity", "urgent"),
    ),
    (
        "operator policy upgradeApproval missing",
        _mutant("OperatorPolicy", "install-gitops", "spec.upgradeApproval", None),
    ),
    (
        "placement predicate typo",
        _mutant(
            "Placement",
            "region-one-placement",
            "spec.predicates.0.requiredClusterSelector.labelSelectors",
            {},
        ),
    ),
    (
        "placement numberOfClusters as string",
        _mutant("Placement", "region-one-placement", "spec.numberOfClusters", "two"),
    ),
    (
        "toleration effect wrong",
        _mutant("Placement", "region-one-placement", "spec.tolerations.0.effect", "NoSchedule"),
    ),
    (
        "cluster set binding with an empty set",
        _mutant("ManagedClusterSetBinding", "region-one", "spec.clusterSet", ""),
    ),
    (
        "external secret remoteRef without key",
        _mutant("ExternalSecret", "config-demo-secret", "spec.data.0.remoteRef.key", None),
    ),
    (
        "external secret store kind wrong",
        _mutant("ExternalSecret", "config-demo-secret", "spec.secretStoreRef.kind", "Vault"),
    ),
    (
        "external secret template typo",
        _mutant("ExternalSecret", "config-demo-secret", "spec.target.template.datas", {}),
    ),
    (
        "vault kubernetes auth without role",
        _mutant(
            "ClusterSecretStore", "vault-backend", "spec.provider.vault.auth.kubernetes.role", None
        ),
    ),
    (
        "vault auth typo",
        _mutant("ClusterSecretStore", "vault-backend", "spec.provider.vault.auth.kubernetess", {}),
    ),
    ("store without provider", _mutant("SecretStore", "in-cluster", "spec.provider", None)),
    (
        "subscription without source",
        _mutant("Subscription", "advanced-cluster-management", "spec.source", None),
    ),
    (
        "subscription config typo",
        _mutant("Subscription", "advanced-cluster-management", "spec.config.envs", []),
    ),
    (
        "operator group targetNamespaces as a string",
        _mutant(
            "OperatorGroup",
            "open-cluster-management-operator-group",
            "spec.targetNamespaces",
            "open-cluster-management",
        ),
    ),
    ("route targetPort as a float", _mutant("Route", "web", "spec.port.targetPort", 80.5)),
    ("route without to", _mutant("Route", "api", "spec.to", None)),
    ("route tls termination wrong", _mutant("Route", "web", "spec.tls.termination", "none")),
    ("imagestream tag without name", _mutant("ImageStream", "app", "spec.tags.0.name", None)),
    ("buildconfig without strategy", _mutant("BuildConfig", "app", "spec.strategy", None)),
    (
        "buildconfig git without uri",
        _mutant("BuildConfig", "app", "spec.source.git.uri", None),
    ),
    (
        "multiclusterhub component without enabled",
        _mutant("MultiClusterHub", "multiclusterhub", "spec.overrides.components.0.enabled", None),
    ),
    (
        "multiclusterhub typo",
        _mutant("MultiClusterHub", "multiclusterhub", "spec.nodeSelectors", {}),
    ),
    (
        "consolelink href not https",
        _mutant("ConsoleLink", "hub-gitops-link", "spec.href", "http://example.com"),
    ),
    (
        "consolelink location wrong",
        _mutant("ConsoleLink", "hub-gitops-link", "spec.location", "Sidebar"),
    ),
]


def _schema_path(body: dict[str, Any]) -> str:
    group, version = split_api_version(body["apiVersion"])
    return f"{group}/{body['kind'].lower()}_{version}.json"


def _oracle_accepts(body: dict[str, Any]) -> bool:
    schema = json.loads((ORACLE / _schema_path(body)).read_text(encoding="utf-8"))
    return bool(Draft7Validator(schema).is_valid(body))


def _ours_accepts(registry: SchemaRegistry, body: dict[str, Any]) -> bool:
    schema = registry.lookup(body["apiVersion"], body["kind"])
    assert schema is not None, f"no bundled schema for {body['kind']}"
    verdict = schema.is_valid(body)
    # The fast path and jsonschema must agree on every corpus object.
    assert verdict == (not any(schema.validator.iter_errors(body)))
    return verdict


needs_oracle = pytest.mark.skipif(
    not ORACLE.is_dir(), reason="reference schemas (../shared) are not next to the repository"
)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry()


@needs_oracle
@pytest.mark.parametrize(
    "body", _documents(VALID), ids=lambda b: f"{b['kind']}/{b['metadata']['name']}"
)
def test_valid_objects_pass_ours_and_the_oracle(
    registry: SchemaRegistry, body: dict[str, Any]
) -> None:
    assert _oracle_accepts(body), "the corpus object itself is wrong"
    schema = registry.lookup(body["apiVersion"], body["kind"])
    assert schema is not None
    errors = [error.message for error in schema.validator.iter_errors(body)]
    assert errors == []
    assert _ours_accepts(registry, body)


@needs_oracle
@pytest.mark.parametrize(("what", "body"), INVALID, ids=[what for what, _ in INVALID])
def test_invalid_objects_fail_ours_and_the_oracle(
    registry: SchemaRegistry, what: str, body: dict[str, Any]
) -> None:
    assert not _oracle_accepts(body), f"the oracle accepts: {what}"
    assert not _ours_accepts(registry, body), f"our schema accepts: {what}"


def test_every_kind_of_the_brief_has_a_bundled_schema(registry: SchemaRegistry) -> None:
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in _documents(VALID)}
    assert len(kinds) == 19
    for api_version, kind in kinds:
        schema = registry.lookup(api_version, kind)
        assert schema is not None and "schemas" in schema.origin


def test_metadata_and_root_are_strict_though_the_oracle_is_not(registry: SchemaRegistry) -> None:
    body = _BY_KIND[("Route", "web")]
    for path in ("metadata.label", "specs"):
        broken = _set(body, path, {"a": "b"})
        assert not _ours_accepts(registry, broken), path


def _retrieve(uri: str) -> Any:
    from urllib.parse import urlparse

    from referencing import Resource
    from referencing.jsonschema import DRAFT7

    contents = json.loads(Path(urlparse(uri).path).read_text(encoding="utf-8"))
    return Resource.from_contents(contents, default_specification=DRAFT7)


def _rejected_fields(oracle: Any, ours: Any, resolver: Any, path: str) -> list[str]:
    """Fields the oracle allows where our schema is closed and does not list them."""
    while isinstance(ours, dict) and "$ref" in ours:
        resolved = resolver.lookup(ours["$ref"])
        ours, resolver = resolved.contents, resolved.resolver
    if not isinstance(oracle, dict) or not isinstance(ours, dict):
        return []
    missing = []
    known = ours.get("properties") or {}
    for name, sub in (oracle.get("properties") or {}).items():
        if name in known:
            missing += _rejected_fields(sub, known[name], resolver, f"{path}.{name}")
        elif ours.get("additionalProperties") is False:
            missing.append(f"{path}.{name}")
    for keyword in ("items", "additionalProperties"):
        if isinstance(oracle.get(keyword), dict) and isinstance(ours.get(keyword), dict):
            missing += _rejected_fields(oracle[keyword], ours[keyword], resolver, f"{path}[]")
    return missing


@needs_oracle
def test_no_field_of_the_real_api_is_rejected(registry: SchemaRegistry) -> None:
    from referencing import Registry

    checked = 0
    for ours in sorted(registry.locations[-1].glob("*/*.json")):
        oracle_file = ORACLE / ours.parent.name / ours.name
        if not oracle_file.is_file():
            continue
        oracle = json.loads(oracle_file.read_text(encoding="utf-8"))
        uri = ours.resolve().as_uri()
        resolver = Registry(retrieve=_retrieve).resolver(uri)  # type: ignore[call-arg]
        missing = _rejected_fields(oracle, {"$ref": uri}, resolver, ours.stem)
        assert [field for field in missing if ".status" not in field] == []
        checked += 1
    assert checked >= 18
