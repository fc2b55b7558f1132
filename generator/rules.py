"""The catalogue of every rule `mcg-gen validate` reports, declared once: id, usual severity,
summary, explanation, and whether it is about a rendered object (whose line is one of Helm's
output, not of the template the user edits).

Check modules import the constants below and emit `RULE.id`; `mcg-gen rules`, the SARIF
reporter and the finding filters read the same declarations. A finding carries its own
severity; the catalogue gives the usual one.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.findings import Severity

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    explanation: str
    rendered: bool = False  # about a rendered object: its line is Helm's output, not a template's


_CATALOGUE: dict[str, Rule] = {}


def _rule(
    rule_id: str, severity: Severity, summary: str, explanation: str, *, rendered: bool = False
) -> Rule:
    declared = Rule(rule_id, severity, summary, explanation, rendered)
    if rule_id in _CATALOGUE:
        raise ValueError(f"rule {rule_id} declared twice")
    _CATALOGUE[rule_id] = declared
    return declared


YAML_INVALID = _rule(
    "yaml/invalid",
    _E,
    "a file that is not safe, well-formed YAML",
    "A syntax error, a duplicate key, a tab in indentation, an alias that expands beyond the "
    "limits, an unsafe tag (such as !!python/object), or a file too large or binary to be YAML. "
    "Argo CD, Helm and the patterns operator read these files with parsers that either fail or, "
    "for duplicate keys, silently keep one of the values. Fix the file at the line shown; "
    "nothing else in it can be checked until then.",
)

SPEC_INVALID = _rule(
    "spec/invalid",
    _E,
    "a problem in pattern.yaml",
    "pattern.yaml, the spec mcg-gen generates the repository from, has a value that cannot be "
    "turned into a valid pattern: an unknown key, a bad name, a reference to a cluster group or "
    "secret that does not exist. 'mcg-gen generate' would refuse it. Correct pattern.yaml at "
    "the place shown.",
)

SPEC_OUT_OF_DATE = _rule(
    "spec/out-of-date",
    _E,
    "generated files do not match pattern.yaml",
    "pattern.yaml changed (or a generated file was deleted) since 'mcg-gen generate' last ran, "
    "so the values files and charts in the repository are not what the spec says, and the "
    "cluster would get something else than the spec shows in review. Edits you made to a "
    "generated file are yours and do not count, unless the spec changed that file too: then "
    "'mcg-gen generate' merges both, and until it has run the repository is out of date. A "
    "merge that left conflict markers counts until they are resolved. Run 'mcg-gen generate' "
    "and commit the result.",
)

VALUES_DEPRECATED_KEY = _rule(
    "values/deprecated-key",
    _W,
    "a key still accepted but deprecated; use its replacement",
    "A key the charts still accept but mean to remove. It works today; a later version of the "
    "common charts will ignore it. Move to the replacement the message names.",
)

VALUES_EXCLUSIVE_KEYS = _rule(
    "values/exclusive-keys",
    _E,
    "keys that cannot be used together: the chart ignores one of them",
    "Two keys that cannot be used together, such as an application with both a chart name and a "
    "Git path. The chart picks one of them and ignores the other without a word, so what is "
    "deployed is not what the file says. Keep only one of them.",
)

VALUES_INVALID = _rule(
    "values/invalid",
    _E,
    "a value outside what the charts accept",
    "A value outside what the charts accept: a name that is not a valid Kubernetes name, an "
    "unknown enumeration value, an empty string where one is needed. Kubernetes or Argo CD "
    "reject the resulting object when it is applied. Correct the value as the message "
    "describes.",
)

VALUES_MISSING_KEY = _rule(
    "values/missing-key",
    _E,
    "a key the charts need is missing",
    "A key the charts need is absent, such as an application's path or chart, or "
    "clusterGroup.name. The template either fails to render or produces an Argo CD Application "
    "without a source, which never syncs. Add the key the message names.",
)

VALUES_NO_OP_OVERRIDE = _rule(
    "values/no-op-override",
    _W,
    "an empty map in an override file, which removes nothing",
    "An override file (values-4.18-hub.yaml, values-AWS.yaml, ...) is merged on top of the "
    "group's file the way Helm merges values: maps merge key by key, so 'subscriptions: {}' "
    "adds nothing and the group keeps every subscription it had. It is almost always meant as "
    "a removal. To remove one entry set it to null (subscriptions: {acm: null}) or give it "
    "'disabled: true'; if the file is only a placeholder, delete the empty map.",
)

VALUES_UNKNOWN_KEY = _rule(
    "values/unknown-key",
    _E,
    "a key the charts never read (usually a typo); Helm ignores it silently",
    "A key in values-global.yaml or values-<group>.yaml that no chart of the pattern reads. "
    "Helm never complains about extra keys, so a misspelt key (aplications instead of "
    "applications) silently drops that part of the configuration and the cluster group misses "
    "an application, namespace or subscription. Fix the spelling (the message suggests the "
    "closest known key) or remove the key.",
)

VALUES_WRONG_TYPE = _rule(
    "values/wrong-type",
    _E,
    "a value of the wrong type, such as a map where the chart ranges a list",
    "A value whose type differs from what the charts expect, such as a list where a template "
    "ranges over a map, or a string where it compares a boolean. Helm then fails with a "
    "template error on the cluster, or worse renders something unintended without an error. "
    "Write the value in the shape the message names.",
)

SECRETS_BOOTSTRAP_SHADOWED = _rule(
    "secrets/bootstrap-shadowed",
    _W,
    "a secrets entry named like a bootstrap secret: the loader omits it",
    "A secret of the secrets list has the name of a bootstrap secret. The loader omits that "
    "entry (with a warning) and writes nothing of it to Vault: the bootstrap secret is only ever "
    "created as Kubernetes Secrets, early. ExternalSecrets reading it from Vault find nothing. "
    "Rename one of the two, or remove the entry from secrets.",
)

SECRETS_DEPRECATED_KEY = _rule(
    "secrets/deprecated-key",
    _W,
    "a key still accepted but deprecated",
    "A key of the secret template that the loader still accepts but is deprecated. It works "
    "today; move to its replacement before the loader drops it.",
)

SECRETS_DUPLICATE_FIELD = _rule(
    "secrets/duplicate-field",
    _E,
    "two fields of a secret with the same name: the loader refuses it",
    "Two fields of one secret share a name, so one value would hide the other in Vault. The "
    "loader refuses the secret. Rename or remove one of the fields.",
)

SECRETS_DUPLICATE_NAME = _rule(
    "secrets/duplicate-name",
    _E,
    "two secrets with the same name: the loader refuses the file",
    "Two secrets share a name. Their Vault paths would collide, so the loader refuses the file "
    "rather than let one overwrite the other. Rename one of them, and the ExternalSecrets that "
    "read it.",
)

SECRETS_EXCLUSIVE_KEYS = _rule(
    "secrets/exclusive-keys",
    _E,
    "keys that cannot be used together (generate with a value, ...)",
    "Keys that cannot be used together in one field, such as a value together with "
    "onMissingValue: generate, or a path and an ini_file. The loader refuses the field. Keep "
    "the one you mean.",
)

SECRETS_GENERATE_NEEDS_VAULT = _rule(
    "secrets/generate-needs-vault",
    _E,
    "onMissingValue: generate without the vault backend",
    "onMissingValue: generate asks Vault to generate a value with a password policy; other "
    "backing stores cannot, so loading the secrets fails. Give the value, a path or an ini_file "
    "instead, or use the vault backend.",
)

SECRETS_IGNORED_KEY = _rule(
    "secrets/ignored-key",
    _W,
    "a key the loader accepts but never reads",
    "A key the secrets loader accepts without complaint but never reads, such as defaultNamespace "
    "or top-level labels and annotations (the loader reads defaultLabels and defaultAnnotations, "
    "and labels and annotations on each secret). It has no effect. Move it to the key the "
    "message names, or remove it.",
)

SECRETS_INVALID = _rule(
    "secrets/invalid",
    _E,
    "a value the loader rejects (unsupported version, empty list, ...)",
    "A value the secrets loader rejects: an unsupported version of the file format, an empty "
    "list of fields, an unknown backing store. Nothing is loaded into Vault until it is fixed. "
    "Correct the value as the message describes.",
)

SECRETS_MISSING_KEY = _rule(
    "secrets/missing-key",
    _E,
    "a key the loader needs is missing (name, fields, vaultPolicy, ...)",
    "A key the secrets loader needs is missing: a secret without name or fields, a field "
    "without name, a policy without its rule. The loader refuses the file. Add the key.",
)

SECRETS_NO_VALUE = _rule(
    "secrets/no-value",
    _W,
    "a field with no value, path or ini_file: loading the file as is fails",
    "A field with neither a value nor a path nor an ini_file, and onMissingValue left at error. "
    "The template is fine as a template, but loading it as it is fails: fill the value in your "
    "private copy (never in the repository), or let the loader prompt for it or generate it.",
)

SECRETS_PLAINTEXT_VALUE = _rule(
    "secrets/plaintext-value",
    _E,
    "a secret in plain text in a values file or chart",
    "Something that looks like a credential (a private key, a known token format, a long "
    "high-entropy string) is committed in a values file or chart, where everyone with access to "
    "the repository, and Argo CD's cache, can read it. Rotate it, remove it from the Git "
    "history, and deliver it through the values-secret file, Vault and an ExternalSecret "
    "instead. A match on entropy alone is a warning, as it may be a harmless digest or "
    "identifier.",
)

SECRETS_UNKNOWN_KEY = _rule(
    "secrets/unknown-key",
    _E,
    "a key the secrets loader does not know (usually a typo)",
    "A key in the values-secret template that the secrets loader does not know, usually a typo "
    "(feilds instead of fields, vaultPolcy instead of vaultPolicy). The loader skips keys it does "
    "not read, so what the key meant does not happen: a secret without fields or a generated "
    "field without a policy is refused, a misspelt base64 stores the raw value. Fix the spelling "
    "or remove the key.",
)

SECRETS_UNKNOWN_POLICY = _rule(
    "secrets/unknown-policy",
    _E,
    "a vaultPolicy neither in vaultPolicies nor the default policy",
    "A field's vaultPolicy names a password policy that neither vaultPolicies nor the loader's "
    "default policy defines. Generating the value fails when the secrets are loaded. Define the "
    "policy under vaultPolicies or use an existing one.",
)

SECRETS_VALUES_SECRET_COMMITTED = _rule(
    "secrets/values-secret-committed",
    _E,
    "a values-secret file is part of the repository",
    "values-secret*.yaml holds the real secret values the loader puts into Vault and must never "
    "be committed; only the template (values-secret.yaml.template) belongs in the repository. "
    "Keep the file in your home folder (~/values-secret-<pattern>.yaml), remove it from the "
    "repository and its history, and rotate what it contained.",
)

SECRETS_VALUES_SECRET_NOT_IGNORED = _rule(
    "secrets/values-secret-not-ignored",
    _W,
    ".gitignore does not cover values-secret*.yaml",
    "Without an ignore rule, a values-secret file copied into the repository is one 'git add .' "
    "away from being committed. Add values-secret*.yaml (and !*.template if the template must "
    "stay tracked) to .gitignore.",
)

SECRETS_WRONG_TYPE = _rule(
    "secrets/wrong-type",
    _E,
    "a value of the wrong type",
    "A value of the wrong type in the secret template, such as a single field where a list of "
    "fields is expected. The loader stops at it and no secret is loaded. Write the value in the "
    "shape the message names.",
)

CHART_DUPLICATE_KEY = _rule(
    "chart/duplicate-key",
    _W,
    "a rendered object repeats a key; the last one is used",
    "A template rendered a mapping with the same key twice (older clustergroup charts emit "
    "'repo.resources' twice in their ArgoCD object). Helm and Argo CD accept it and keep the "
    "last value, so mcg-gen renders and checks the object the same way; the first value is "
    "lost without a word, which is rarely what the template's author meant. Fix the template, "
    "or update the chart to a version without the repetition.",
    rendered=True,
)

CHART_LINT = _rule(
    "chart/lint",
    _W,
    "a message of helm lint about a chart",
    "helm lint found something in a chart of the repository, such as a missing Chart.yaml "
    "field, a missing icon, or values that do not match values.schema.json. Lint messages at "
    "helm's ERROR level are reported as errors, since Argo CD fails to render such charts; the "
    "others are advice. Follow the message.",
)

CHART_NOT_RENDERED = _rule(
    "chart/not-rendered",
    _I,
    "a remote chart that cannot be rendered offline",
    "An application uses a chart from a Helm repository or another Git repository that is "
    "neither in mcg-gen's cache nor given as a local copy, so its resources were not rendered "
    "or checked. 'mcg-gen charts pull' downloads the charts the repository pins (the only "
    "command that uses the network); --chart-dir DIR renders local copies instead.",
)

CHART_RENDER_CRASH = _rule(
    "chart/render-crash",
    _E,
    "the chart renderer died: recursion, memory or time limit",
    "Rendering the chart crashed or ran out of bounds: a template that includes itself without "
    "end, a 'tpl' fed its own output, or an expansion that exhausts memory or time. mcg-gen "
    "renders in a child process with limits, so only this chart is lost; Argo CD's repo server "
    "would crash or time out on it the same way. Look for self-recursive templates.",
)

CHART_RENDER_ERROR = _rule(
    "chart/render-error",
    _E,
    "a chart fails to render with the pattern's values",
    "Helm stopped with a template error (a nil pointer, a failed 'required', a type mismatch in "
    "a template function) when rendering the chart with the values the cluster group gives it. "
    "Argo CD hits the same error and the application stays OutOfSync with a ComparisonError. "
    "The message has Helm's own text; fix the values or the template it names.",
)

CHART_SCHEMA_REFERENCE = _rule(
    "chart/schema-reference",
    _E,
    "a chart's values.schema.json refers to a schema outside itself",
    "Helm follows a '$ref' (and an unknown '$schema') in values.schema.json to URLs and files: "
    "rendering would reach the network or read files outside the chart, and its errors would "
    "tell whether they exist. mcg-gen refuses such a schema and does not render the chart. "
    "Inline the referenced schema (keep only '#/...' references).",
)

CHART_TIMEOUT = _rule(
    "chart/timeout",
    _E,
    "the run's time limit passed before this was rendered and checked",
    "validate and render share one deadline (--timeout, in seconds) so that no repository can "
    "keep a pre-commit hook or CI job busy without end. What could not be rendered in time is "
    "reported here, unchecked; a chart that ran out of time once is not rendered again for the "
    "other groups. Raise --timeout for a very large pattern, or look for a template that loops.",
)

CHART_UNCHECKED_VALUE_FILE = _rule(
    "chart/unchecked-value-file",
    _I,
    "a templated value-file path that could not be expanded",
    "A valueFiles entry contains a template (such as {{ .Values.global.clusterPlatform }}) that "
    "depends on facts known only on the cluster, so mcg-gen cannot tell which file Argo CD will "
    "read and did not check it. Pass the facts (--facts, --platform, --version) to have it "
    "expanded.",
)

SCHEMA_INVALID = _rule(
    "schema/invalid",
    _E,
    "a rendered resource does not match the schema of its kind",
    "A rendered resource that does not match the schema of its kind: a misspelt field, a "
    "missing required field, a value of the wrong type. The API server, or the operator owning "
    "the kind (Argo CD, ACM, External Secrets, OLM), rejects it when Argo CD or an ACM policy "
    "applies it, and the sync fails on the cluster. The message gives the path inside the "
    "resource; fix the values or the template that produced it.",
    rendered=True,
)

SCHEMA_UNKNOWN_KIND = _rule(
    "schema/unknown-kind",
    _W,
    "a rendered resource of a kind no known schema describes",
    "A rendered resource whose apiVersion and kind match no schema mcg-gen knows, so it could "
    "not be checked. Often a typo in apiVersion or kind, which the cluster rejects with 'no "
    "matches for kind'; otherwise a custom resource whose operator must be installed first. Fix "
    "the spelling, or ignore the warning for your own CRDs.",
    rendered=True,
)

SCHEMA_REJECTED_KIND = _rule(
    "schema/rejected-kind",
    _E,
    "a manifest holds a kind the run was told to reject",
    "`mcg-gen validate --manifests` was given --reject-kind (as kubeconform's -reject) for kinds "
    "that must not be applied, such as cluster-scoped RBAC in an application's manifests, and a "
    "resource of such a kind was found. Remove it, or move it to where it belongs.",
    rendered=True,
)

LINKS_APP_PATH_MISSING = _rule(
    "links/app-path-missing",
    _E,
    "an application's path does not exist in the repository",
    "An Argo CD application of a cluster group points at a folder of this repository that does "
    "not exist: Argo CD reports 'app path does not exist' and the application never syncs. A "
    "folder without Chart.yaml (nor kustomization.yaml) is a warning: Argo CD applies its files "
    "as plain manifests, which is rarely what was meant. Fix the path or add the chart.",
)

LINKS_EXTERNAL_SECRET_PREFIX = _rule(
    "links/external-secret-prefix",
    _E,
    "an ExternalSecret reads a Vault prefix its cluster group cannot read",
    "Each cluster's ClusterSecretStore authenticates to Vault with the role the pattern's "
    "Vault configuration (the loader's vault_utils, or mcg-gen secrets init) gives it: every "
    "cluster reads secret/data/global and secret/data/pushsecrets, the hub also "
    "secret/data/hub, a managed cluster also secret/data/<its cluster domain>; no role reads a "
    "cluster group's name. An ExternalSecret outside them is denied by Vault (403). Move the "
    "secret under a prefix the cluster reads (vaultPrefixes in the template) or read it from "
    "one.",
    rendered=True,
)

LINKS_EXTERNAL_SECRET_UNKNOWN = _rule(
    "links/external-secret-unknown",
    _E,
    "an ExternalSecret reads a secret or field the secret template does not define",
    "An ExternalSecret's remoteRef names a Vault key or property that no secret of the "
    "values-secret template provides, so External Secrets reports SecretSyncedError and the "
    "workload's Secret is never created. Fix the key or property, or add the secret or field to "
    "the template. Without any template in the repository this is a warning: the secret may be "
    "loaded from elsewhere.",
    rendered=True,
)

LINKS_GROUP_NAME_MISMATCH = _rule(
    "links/group-name-mismatch",
    _E,
    "clusterGroup.name differs from the name of its values file",
    "The patterns operator and the ACM policies choose values-<group>.yaml by the group name, "
    "and the clustergroup chart names Argo CD instances and namespaces after clusterGroup.name. "
    "When the two differ the cluster reads one file and names things after another. Make "
    "clusterGroup.name equal the <group> part of the file name.",
)

LINKS_GROUP_VALUES_MISSING = _rule(
    "links/group-values-missing",
    _E,
    "a cluster group has no values-<group>.yaml",
    "A cluster group is named (as the main group, or as a managed group of the hub) but its "
    "values file values-<group>.yaml does not exist, so the group gets no applications, "
    "namespaces or subscriptions. Create the file ('mcg-gen generate' does) or remove the "
    "group.",
)

LINKS_MAIN_GROUP_MISSING = _rule(
    "links/main-group-missing",
    _E,
    "main.clusterGroupName names a group without a values file",
    "values-global.yaml's main.clusterGroupName is the hub's cluster group; the patterns "
    "operator installs it first and everything else follows from it. If that group has no "
    "values file, nothing is deployed. Fix the name or add the group's file.",
)

LINKS_NAMESPACE_UNDECLARED = _rule(
    "links/namespace-undeclared",
    _W,
    "an application deploys into a namespace its group does not declare",
    "The clustergroup chart creates only the namespaces listed under clusterGroup.namespaces, "
    "and the applications it renders do not create their destination namespace, so the sync "
    "fails with 'namespace not found' unless something else (another application, an operator) "
    "creates it first. Add the namespace to the group's namespaces.",
)

LINKS_PROJECT_UNDECLARED = _rule(
    "links/project-undeclared",
    _E,
    "an application uses an Argo CD project its group does not declare",
    "Each application names an Argo CD project, and the clustergroup chart creates only the "
    "projects listed under clusterGroup.argoProjects (formerly projects) besides Argo CD's own "
    "'default'. Argo CD refuses an application whose project does not exist. Add the project to "
    "the group's argoProjects or use one that is listed.",
)

LINKS_SECRET_STORE_MISSING = _rule(
    "links/secret-store-missing",
    _E,
    "an ExternalSecret refers to a secret store that is not deployed",
    "An ExternalSecret's secretStoreRef names a SecretStore or ClusterSecretStore that no "
    "rendered resource of the group defines, so External Secrets cannot sync it. Use the "
    "pattern's ClusterSecretStore (usually vault-backend) or deploy the store. When some charts "
    "could not be rendered offline this is a warning, since one of them may define the store.",
    rendered=True,
)

LINKS_SUBSCRIPTION_NAMESPACE = _rule(
    "links/subscription-namespace",
    _E,
    "an operator subscription's namespace is undeclared or has no OperatorGroup",
    "OLM installs an operator only when its Subscription's namespace exists and holds exactly "
    "one OperatorGroup; otherwise the install plan never appears and the operator stays "
    "missing. Declare the namespace under clusterGroup.namespaces (which also creates the "
    "OperatorGroup), or install into one that has one.",
    rendered=True,
)

LINKS_SUBSCRIPTION_OLM_V1 = _rule(
    "links/subscription-olm-v1",
    _W,
    "a subscription with 'version' becomes an OLMv1 ClusterExtension",
    "From clustergroup chart 0.9.27 on, a subscription entry with 'version' (or channels, "
    "upgradeConstraintPolicy, serviceAccountName) and no 'namespaces' list renders an OLMv1 "
    "ClusterExtension (olm.operatorframework.io/v1) instead of an OLM Subscription: a different "
    "API, installed with the permissions of a service account you provide, without an "
    "OperatorGroup, and ignoring csv and installPlanApproval. A 'version' written to pin the "
    "operator usually meant 'csv'. Use csv for a starting version, or, if OLMv1 is intended, "
    "set serviceAccountName so that it is explicit.",
)

LINKS_VALUE_FILE_MISSING = _rule(
    "links/value-file-missing",
    _W,
    "a value file an application lists does not exist",
    "The applications are rendered with ignoreMissingValueFiles, so Argo CD silently skips a "
    "value file that does not exist and the chart runs with its defaults. Usually a typo in the "
    "file name or a file that was never committed. Fix the name or add the file.",
)

DEPLOY_ARGO_NAMESPACE_UNSERVED = _rule(
    "deploy/argo-namespace-unserved",
    _E,
    "an Application or AppProject in a namespace no Argo CD instance serves",
    "An Argo CD instance reconciles the Applications and AppProjects of its own namespace only. "
    "The cluster-wide instance lives in global.vpArgoNamespace (openshift-gitops: the patterns "
    "operator creates it on the hub, the acm chart's gitops policy on managed clusters); with "
    "global.singleArgoCD false the clustergroup chart puts a group's apps in <pattern>-<group> "
    "and creates the ArgoCD instance <group>-gitops there. An Application elsewhere is never "
    "synced: nothing it describes reaches the cluster. Render with a clustergroup chart that "
    "creates the instance, set global.singleArgoCD, or move the object.",
    rendered=True,
)

DEPLOY_POLICY_UNPLACED = _rule(
    "deploy/policy-unplaced",
    _E,
    "an ACM Policy that no PlacementBinding sends to an existing Placement",
    "ACM propagates a Policy only to the clusters a Placement (or PlacementRule) chooses, through "
    "a PlacementBinding in the Policy's namespace whose subjects name the Policy or a PolicySet "
    "holding it. Without one, or when the binding's placementRef names a Placement that does not "
    "exist, the Policy stays on the hub and the managed clusters never get what it enforces. "
    "Bind it, or fix the name. When some charts could not be rendered offline this is a "
    "warning, since one of them may bind it.",
    rendered=True,
)

DEPLOY_PLACEMENT_MISSES_GROUP = _rule(
    "deploy/placement-misses-group",
    _E,
    "a managed group's Policy is placed on clusters that do not carry the group's labels",
    "The clusters of a managed cluster group carry its labels: acmlabels of its "
    "managedClusterGroups entry, else clusterGroup=<group>. The Placement that sends the group's "
    "Policy (the one that deploys its clustergroup application, or another named after the "
    "group) must select a cluster with those labels, or the group's clusters never get it. A "
    "group with its own clusterSelector is not checked: its Placement uses that selector as it "
    "is. Fix the Placement's label selector or the group's acmlabels.",
    rendered=True,
)

NAMES_ACM_POLICY_LENGTH = _rule(
    "names/acm-policy-length",
    _E,
    "an ACM policy name too long once ACM prefixes its namespace",
    "ACM copies each policy to the managed clusters as <namespace>.<name> and rejects the "
    "policy when that exceeds 62 characters, so the cluster group is never configured. The "
    "policy name is derived from the cluster group's name: shorten it.",
)

NAMES_ARGOCD_ROUTE_LENGTH = _rule(
    "names/argocd-route-length",
    _E,
    "an Argo CD route host whose first label exceeds 63 characters",
    "The route of a group's Argo CD instance starts with "
    "<group>-gitops-server-<pattern>-<group>, which must fit one DNS label (63 characters); "
    "otherwise the router does not admit the route and the Argo CD console cannot be reached. "
    "Shorten the pattern or group name.",
)

NAMES_DNS_1123 = _rule(
    "names/dns-1123",
    _E,
    "a name that is not a valid Kubernetes name (DNS-1123)",
    "Kubernetes names of namespaces, applications and most objects must be lowercase letters, "
    "digits and '-', start and end with a letter or digit, and be at most 63 characters. The "
    "API server rejects anything else when Argo CD applies it. Rename.",
)

VALUES_SECRET_FILE_IN_REPO = _rule(
    "values-secret/file-in-repo",
    _E,
    "your values-secret file is inside the repository",
    "'mcg-gen secrets check' refuses a filled-in secrets file that lives in the pattern "
    "repository: one 'git add' and the secrets are in the history for good. Keep it in your "
    "home folder, e.g. ~/values-secret-<pattern>.yaml.",
)

VALUES_SECRET_FILE_MODE = _rule(
    "values-secret/file-mode",
    _W,
    "your values-secret file is readable by other users",
    "Other accounts on this machine (and whoever can read your backups of it) can read every "
    "secret in the file. Make it private with 'chmod 600 FILE'.",
)

VALUES_SECRET_FILE_TRACKED = _rule(
    "values-secret/file-tracked",
    _W,
    "your values-secret file is tracked by git",
    "The secrets file is known to git, so its values are (or will be) in a commit. Remove it "
    "from the repository with 'git rm --cached', move it out, and rotate every secret it held.",
)

VALUES_SECRET_INVALID_PATH = _rule(
    "values-secret/invalid-path",
    _E,
    "a secret or prefix name would make an unsafe Vault path",
    "Secret names and vault prefixes become path segments in Vault; empty segments, '..' or "
    "slashes in the wrong place would write elsewhere than intended. Use plain names (letters, "
    "digits, '-', '_', '.').",
)

VALUES_SECRET_MISSING_FIELD = _rule(
    "values-secret/missing-field",
    _E,
    "a field the template declares is missing from your secret",
    "ExternalSecrets read each field of the template as a property of the Vault secret; a "
    "missing one leaves the app without it. Add the field, with a value, a path, or "
    "onMissingValue: generate.",
)

VALUES_SECRET_MISSING_SECRET = _rule(
    "values-secret/missing-secret",
    _E,
    "a secret the template declares is missing from your file",
    "The repository's values-secret.yaml.template declares this secret and an app reads it "
    "through an ExternalSecret; without it the app's Kubernetes Secret stays empty. Add it to "
    "your file (copy its entry from the template).",
)

VALUES_SECRET_NO_VALUE = _rule(
    "values-secret/no-value",
    _E,
    "a field has no value, path or ini_file",
    "The field cannot be loaded: give it a value, a path or an ini_file, or make it generated "
    "with onMissingValue: generate and a vaultPolicy.",
)

VALUES_SECRET_NOT_VAULT = _rule(
    "values-secret/not-vault",
    _E,
    "the secrets file is meant for another backing store",
    "The file sets backingStore to something other than vault, so 'mcg-gen secrets' would load "
    "it into the wrong place. Set backingStore: vault or remove the key.",
)

VALUES_SECRET_PREFIXES_DIFFER = _rule(
    "values-secret/prefixes-differ",
    _W,
    "your secret is stored under other Vault prefixes than the template says",
    "The template's vaultPrefixes decide which cluster groups can read the secret; a different "
    "list in your file puts it where the ExternalSecrets do not look, or where too many "
    "clusters can read it. Use the template's prefixes.",
)

VALUES_SECRET_UNKNOWN_FIELD = _rule(
    "values-secret/unknown-field",
    _W,
    "your secret has a field the template does not declare",
    "No ExternalSecret reads this field, so its value is loaded into Vault for nobody; it is "
    "often a typo of a declared field, whose value is then missing. Remove or rename it.",
)

VALUES_SECRET_UNKNOWN_SECRET = _rule(
    "values-secret/unknown-secret",
    _W,
    "your file has a secret the template does not declare",
    "Nothing in the repository reads it, so loading it only adds clutter to Vault; it is often "
    "a renamed or misspelt secret. Remove it or declare it in the template.",
)

VALUES_SECRET_UNREADABLE = _rule(
    "values-secret/unreadable",
    _E,
    "a file the secret reads cannot be read",
    "A field's path or ini_file does not exist, is not readable, lacks the ini section or key, "
    "or is binary without base64: true. 'secrets load' would fail on it; fix the path or the "
    "file.",
)

VALUES_SECRET_WILL_PROMPT = _rule(
    "values-secret/will-prompt",
    _W,
    "a field will be asked for when loading",
    "The field has no value and onMissingValue: prompt, so 'mcg-gen secrets load' asks for it "
    "on the terminal, and fails without one (in CI). Put the value in the file to load "
    "unattended.",
)


# The order `mcg-gen rules` lists layers in: the order validate checks them.
LAYERS = (
    "yaml",
    "spec",
    "values",
    "secrets",
    "chart",
    "schema",
    "links",
    "deploy",
    "names",
    "values-secret",
)


def all_rules() -> dict[str, Rule]:
    """Every rule by id, grouped by layer in the order validate checks them."""
    position = {layer: index for index, layer in enumerate(LAYERS)}
    ordered = sorted(
        _CATALOGUE.values(),
        key=lambda rule: (position.get(layer_of(rule.id), len(position)), rule.id),
    )
    return {rule.id: rule for rule in ordered}


def layer_of(rule_id: str) -> str:
    return rule_id.partition("/")[0]


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError when there is none (see `similar`)."""
    return _CATALOGUE[rule_id]


def is_rendered(rule_id: str) -> bool:
    """Whether findings of this rule are about a rendered object (see `Rule.rendered`)."""
    found = _CATALOGUE.get(rule_id)
    return found is not None and found.rendered


def similar(rule_id: str) -> list[str]:
    """Ids close to a mistyped one, best first, for a "did you mean"."""
    import difflib

    ids = list(all_rules())
    close = difflib.get_close_matches(rule_id, ids, n=3, cutoff=0.6)
    if close:
        return close
    # A bare name without its layer ("unknown-key") still finds its rules.
    return [known for known in ids if known.partition("/")[2] == rule_id][:3]
