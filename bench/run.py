"""mcg-gen's benchmarks: is it fast enough to run on every commit?

    cd <project> && python -m bench.run [--sizes NAMES] [--quick] [--repeat N] [--profile]

For each size (the bundled Multicloud GitOps reference pattern and synthetic patterns, see
bench/synthetic.py) it measures, through the CLI in child processes: `mcg-gen generate`;
in rounds, side by side: the floor (bench/floor.py: every chart rendered once, output parsed with
PyYAML's C loader), `mcg-gen validate` cold (the repository's .mcg-gen/cache and the bench's own
cache folders, $MCG_GEN_CACHE_DIR and $XDG_CACHE_HOME, removed first), warm (again, nothing
changed), after a comment added to one group's values file, after one app template changed
and after a value every app of that group gets changed, and `python -c "import yaml"`; the
ratios of those (issue 16's targets), the process-tree CPU of the cold run and the peak RSS of
the runs. In this process, on the same
repository: the resource-schema layer's throughput on the rendered resources (one core), and two
peers on the same input: `kubernetes-validate --strict` on a sample of the rendered built-in
resources (it has no schemas for custom resources), and `check-jsonschema` on the merged values
files against the published clustergroup schema, as upstream CI does (only when ../shared is
present). Also `mcg-gen --version` start-up and `mcg-gen generate` of 100 groups x 50 apps.

Prints a Markdown table with the targets next to the measurements and writes the raw numbers to
bench/results/<time>.json. --quick runs the reference and a small pattern only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.synthetic import (
    PROJECT,
    REFERENCE,
    Size,
    create_repo,
    mcg_gen_command,
    mcg_gen_env,
)

SIZES = {
    "reference": REFERENCE,
    "small": Size("small", groups=3, apps_per_group=5, resources_per_app=7),
    "medium": Size("medium", groups=10, apps_per_group=20, resources_per_app=7),
    "large": Size("large", groups=30, apps_per_group=30, resources_per_app=7),
    "xlarge": Size("xlarge", groups=60, apps_per_group=30, resources_per_app=7),
}
# The ratio targets (issue 16) are about these sizes; smaller ones are dominated by start-up.
RATIO_SIZES = ("large", "xlarge")
# Per-resource cost must stay flat from the first to the second.
LINEAR_SIZES = ("large", "xlarge")
# Too big to validate on every commit; only `mcg-gen generate` is timed.
GENERATE_ONLY = Size("generate-100x50", groups=100, apps_per_group=50)
CHOICES = (*SIZES, GENERATE_ONLY.name)
DEFAULT_SIZES = ("reference", "medium", "large", "xlarge", GENERATE_ONLY.name)
QUICK_SIZES = ("reference", "small")

REFERENCE_DATA = PROJECT.parent / "shared" / "reference"
CLUSTERGROUP_SCHEMA = REFERENCE_DATA / "validatedpatterns" / "clustergroup.values.schema.json"
RESULTS = PROJECT / "bench" / "results"
STARTUP_RUNS = 7
PROFILE_TOP = 15
PEER_RUNS = 5  # check-jsonschema's work is small next to its start-up: take medians
KUBERNETES_VALIDATE_SAMPLE = 300
RSS_SAMPLE_SECONDS = 0.05
# Where mcg-gen keeps validation results: the bench points both at its own temporary folder.
CACHE_VARIABLES = ("MCG_GEN_CACHE_DIR", "XDG_CACHE_HOME")


# ---------------------------------------------------------------------------------------------
# Child processes: wall time, exit status, peak memory


@dataclass
class ChildRun:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float  # largest single process: the child or a process it waited for
    tree_rss_mb: float  # largest sum over the child and its descendants, sampled
    # user + system seconds of the child and every descendant it (or they) waited for
    cpu_s: float = 0.0
    # the same from /proc samples of the live tree (last sample per process): a check that
    # every worker was waited for, when it is well above `cpu_s`
    sampled_cpu_s: float = 0.0

    @property
    def cpu_per_wall(self) -> float:
        return self.cpu_s / self.seconds if self.seconds else 0.0


@dataclass
class TreeSample:
    rss_kb: int
    cpu_ticks: dict[int, int]  # pid -> user + system clock ticks so far


def _tree_sample(root: int) -> TreeSample:
    """Resident memory and CPU time of `root` and every descendant, from /proc."""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page_kb
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    tree = {root}
    grown = True
    while grown:
        before = len(tree)
        tree |= {pid for pid, parent in parents.items() if parent in tree}
        grown = len(tree) > before
    return TreeSample(
        sum(rss.get(pid, 0) for pid in tree), {pid: ticks[pid] for pid in tree if pid in ticks}
    )


def run_child(command: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run `command` to completion, measuring it without a shell or /usr/bin/time."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        peak_tree = 0
        last_ticks: dict[int, int] = {}
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.wait(RSS_SAMPLE_SECONDS):
                seen = _tree_sample(child.pid)
                peak_tree = max(peak_tree, seen.rss_kb)
                last_ticks.update(seen.cpu_ticks)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            seconds,
            child.returncode,
            out.read(),
            err.read(),
            usage.ru_maxrss / 1024,
            peak_tree / 1024,
            usage.ru_utime + usage.ru_stime,
            sum(last_ticks.values()) / os.sysconf("SC_CLK_TCK"),
        )


def mcg_gen(*args: str) -> ChildRun:
    run = run_child([*mcg_gen_command(), *args], env=mcg_gen_env())
    if run.returncode not in (0, 1):
        raise RuntimeError(f"mcg-gen {' '.join(args)} exited {run.returncode}:\n{run.stderr}")
    return run


def median_seconds(command: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(run_child(command, env).seconds for _ in range(runs))


# ---------------------------------------------------------------------------------------------
# Measurements of one size


@dataclass
class SizeResult:
    size: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)


def _validate(repo: Path) -> tuple[ChildRun, dict[str, Any]]:
    run = mcg_gen("validate", "--quiet", "--format", "json", str(repo))
    summary: dict[str, Any] = json.loads(run.stdout)["summary"]
    return run, summary


def clear_caches(repo: Path) -> None:
    """Forget every validation result: in the repository and in the bench's cache folder."""
    shutil.rmtree(repo / ".mcg-gen" / "cache", ignore_errors=True)
    for variable in CACHE_VARIABLES:
        shutil.rmtree(os.environ[variable], ignore_errors=True)


def _changed_template(repo: Path) -> Path:
    """A template of an app chart only one group uses (the usual edit of an application)."""
    group = _managed_group(repo)
    own = sorted((repo / "charts" / group).glob("*/templates/*.yaml"))
    shared = sorted((repo / "charts").glob("*/*/templates/*.yaml"))
    return (own or shared)[0]


def _change_value(path: Path, value: str) -> None:
    """Set clusterGroup.targetCluster in a group's values file: data every Application of the
    group gets (the group's values file is one of each one's value files), so that every chart
    of the group renders with new values, where a comment leaves them as they were."""
    text = path.read_text(encoding="utf-8")
    line = f"  targetCluster: {value}\n"
    if "\n  targetCluster: " in text:
        changed = re.sub(r"(?m)^  targetCluster: .*\n", line, text, count=1)
    else:
        changed = text.replace("\nclusterGroup:\n", "\nclusterGroup:\n" + line, 1)
    if changed == text:
        raise RuntimeError(f"{path.name} has no clusterGroup mapping to change")
    path.write_text(changed, encoding="utf-8")


def _touch(path: Path, comment: str) -> None:
    with path.open("a", encoding="utf-8") as text:
        text.write(comment)


def measure_floor(repo: Path) -> tuple[ChildRun, dict[str, int]]:
    """bench/floor.py on `repo`: every chart rendered once, output parsed with the C loader."""
    run = run_child([sys.executable, "-m", "bench.floor", str(repo)], env=mcg_gen_env())
    if run.returncode != 0:
        raise RuntimeError(f"bench.floor exited {run.returncode}:\n{run.stderr}")
    counts: dict[str, int] = json.loads(run.stdout)
    return run, counts


def measure_validate(repo: Path, result: SizeResult, repeat: int) -> None:
    """`repeat` rounds, each side by side: the floor, then validate cold, warm (nothing changed),
    after one values file changed, after one app template changed; medians kept."""
    changed_file = repo / f"values-{_managed_group(repo)}.yaml"
    changed_template = _changed_template(repo)
    floor: list[ChildRun] = []
    cold: list[ChildRun] = []
    warm: list[ChildRun] = []
    changed: list[ChildRun] = []
    template: list[ChildRun] = []
    data: list[ChildRun] = []
    import_yaml: list[ChildRun] = []
    for round_number in range(repeat):
        floor_run, counts = measure_floor(repo)
        floor.append(floor_run)
        clear_caches(repo)
        run, summary = _validate(repo)
        cold.append(run)
        warm.append(_validate(repo)[0])
        import_yaml += [run_child([sys.executable, "-c", "import yaml"]) for _ in range(3)]
        _touch(changed_file, "# touched by bench/run.py\n")
        changed.append(_validate(repo)[0])
        _touch(changed_template, "{{- /* touched by bench/run.py */}}\n")
        template.append(_validate(repo)[0])
        _change_value(changed_file, f"in-cluster-{round_number}")
        data.append(_validate(repo)[0])
    runs = cold + warm + changed + template + data

    def median(runs: list[ChildRun]) -> float:
        return statistics.median(run.seconds for run in runs)

    cold_s = median(cold)
    result.values.update(
        resources=summary["resources"],
        findings={key: summary[key] for key in ("errors", "warnings", "info")},
        floor_s=median(floor),
        floor_renders=counts["renders"],
        validate_cold_s=cold_s,
        validate_warm_s=median(warm),
        validate_changed_s=median(changed),
        validate_template_s=median(template),
        validate_data_s=median(data),
        import_yaml_s=median(import_yaml),
        validate_runs=repeat,
        changed_file=changed_file.name,
        changed_template=str(changed_template.relative_to(repo)),
        # ratios of medians, every one measured in the same rounds
        cold_vs_floor=cold_s / median(floor),
        cold_cpu_per_wall=statistics.median(run.cpu_per_wall for run in cold),
        cold_cpu_s=statistics.median(run.cpu_s for run in cold),
        cold_sampled_cpu_s=statistics.median(run.sampled_cpu_s for run in cold),
        # what one busy process gets of a core here: below 1, other work shares the machine
        floor_cpu_per_wall=statistics.median(run.cpu_per_wall for run in floor),
        changed_vs_cold=median(changed) / cold_s,
        template_vs_cold=median(template) / cold_s,
        data_vs_cold=median(data) / cold_s,
        warm_vs_import_yaml=median(warm) / median(import_yaml),
        cold_us_per_resource=cold_s / max(summary["resources"], 1) * 1e6,
        peak_rss_process_mb=max(run.max_rss_mb for run in runs),
        peak_rss_tree_mb=max(run.tree_rss_mb for run in runs),
        floor_peak_rss_tree_mb=max(run.tree_rss_mb for run in floor),
    )


def group_names_of(repo: Path) -> list[str]:
    from generator.model.values import load_values_repo

    return list(load_values_repo(repo).groups)


def _managed_group(repo: Path) -> str:
    """A managed group (the hub only when there is none): the usual edit."""
    from generator.model.values import load_values_repo

    values = load_values_repo(repo)
    managed = [group for group in values.groups if group != values.hub_name]
    return (managed or [values.hub_name])[-1]


def render_resources(repo: Path) -> list[Any]:
    """Every group's resources, as `mcg-gen render --apps` renders them."""
    from generator.model.facts import Facts
    from generator.render import render_group

    resources = []
    for group in group_names_of(repo):
        resources += render_group(repo, group, Facts(), apps=True)
    return resources


def write_sample(resources: Sequence[Any], folder: Path) -> list[str]:
    """One file per resource, as `mcg-gen render --output-dir` writes them."""
    from generator.yamlio import dump_yaml

    folder.mkdir()
    files = []
    for index, resource in enumerate(resources):
        path = folder / f"{index:05d}-{resource.kind.lower()}.yaml"
        path.write_text(dump_yaml(resource.body), encoding="utf-8")
        files.append(str(path))
    return files


def measure_schema_layer(repo: Path, work: Path, result: SizeResult) -> None:
    from generator.checks.kube_schemas import SchemaRegistry
    from generator.checks.resources import validate_resources

    resources = render_resources(repo)
    registry = SchemaRegistry()
    start = time.perf_counter()
    findings = validate_resources(resources, registry)
    first = time.perf_counter() - start
    start = time.perf_counter()
    validate_resources(resources, registry)
    steady = time.perf_counter() - start

    # kubernetes-validate knows built-in kinds only: compare on a sample of those
    builtin = [r for r in resources if "." not in r.api_version.partition("/")[0]]
    step = max(1, len(builtin) // KUBERNETES_VALIDATE_SAMPLE)
    sample = builtin[::step][:KUBERNETES_VALIDATE_SAMPLE]
    start = time.perf_counter()
    validate_resources(sample, registry)
    ours_sample = time.perf_counter() - start
    files = write_sample(sample, work / "sample")
    # one run: it takes seconds (it builds a validator per resource)
    theirs, _, passed = _peer_seconds("kubernetes-validate", ["--strict", "--quiet", *files], 1)
    result.values.update(
        schema_resources=len(resources),
        schema_findings=len(findings),
        schema_first_pass_s=first,
        schema_rate=len(resources) / steady,
        schema_rate_with_setup=len(resources) / first,
        kv_sample=len(sample),
        kv_passed=passed,
        kv_rate=len(sample) / theirs if theirs else None,
        kv_ratio=theirs / ours_sample if theirs else None,
    )


def _peer_seconds(
    tool: str, args: list[str], runs: int
) -> tuple[float | None, float | None, bool | None]:
    """The tool's median time on `args` less its median start-up (`--version`), the median time
    with start-up, and whether it found no problem; all None when it is not installed, and the
    first None when the run is not measurably longer than the start-up (a tiny input)."""
    executable = shutil.which(tool) or str(Path(sys.executable).with_name(tool))
    if not Path(executable).is_file():
        return None, None, None
    startup = median_seconds([executable, "--version"], max(runs, 3))
    measured = [run_child([executable, *args]) for _ in range(runs)]
    wall = statistics.median(run.seconds for run in measured)
    less = wall - startup
    return (less if less > 0 else None), wall, all(run.returncode == 0 for run in measured)


def measure_values_peer(repo: Path, work: Path, result: SizeResult) -> None:
    """check-jsonschema on global+group values merged per group (upstream CI's input), against
    our values layer on the same files."""
    if not CLUSTERGROUP_SCHEMA.is_file():
        result.values["cj_skipped"] = f"{CLUSTERGROUP_SCHEMA} absent"
        return
    from generator.checks.values import check_values_file
    from generator.model.values import load_values_repo, merge_values
    from generator.yamlio import dump_yaml

    start = time.perf_counter()
    values = load_values_repo(repo)
    if values.global_doc is not None:
        check_values_file(values.global_doc, "global")
    for document in values.groups.values():
        check_values_file(document, "group")
    ours = time.perf_counter() - start

    merged = work / "merged-values"
    merged.mkdir()
    base = values.global_doc.data if values.global_doc else {}
    for group, document in values.groups.items():
        text = dump_yaml(merge_values(base, document.data))
        (merged / f"values-{group}.yaml").write_text(text, encoding="utf-8")
    files = sorted(str(path) for path in merged.iterdir())
    arguments = ["--schemafile", str(CLUSTERGROUP_SCHEMA), *files]
    theirs, wall, passed = _peer_seconds("check-jsonschema", arguments, PEER_RUNS)
    result.values.update(
        values_files=len(files),
        values_ours_s=ours,
        cj_s=theirs,
        cj_wall_s=wall,
        cj_passed=passed,
        cj_ratio=theirs / ours if theirs else None,
    )


def profile_cold_validate(repo: Path, output: Path) -> list[tuple[float, str]]:
    """The costliest functions of mcg-gen's own code in a cold `mcg-gen validate`, by cumulative
    seconds (main process only: work done in worker processes shows as waiting)."""
    clear_caches(repo)
    command = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "generator"]
    run = run_child([*command, "validate", "--quiet", str(repo)], env=mcg_gen_env())
    if run.returncode not in (0, 1):
        raise RuntimeError(f"profiled mcg-gen validate exited {run.returncode}:\n{run.stderr}")
    costs = [
        (cumulative, f"{file.rpartition('/generator/')[2]}:{line} {function}")
        for (file, line, function), (_, _, _, cumulative, _) in pstats.Stats(
            str(output)
        ).stats.items()  # type: ignore[attr-defined]
        if "/generator/" in file
    ]
    return sorted(costs, reverse=True)[:PROFILE_TOP]


def measure_size(size: Size, work: Path, repeat: int, profile: bool) -> SizeResult:
    result = SizeResult(size.name, size.describe())
    repo = work / "repo"
    result.values["generate_s"] = create_repo(size, repo)
    print(f"  {size.name}: generated, validating...", file=sys.stderr)
    measure_validate(repo, result, repeat)
    if profile:
        result.values["profile"] = profile_cold_validate(repo, work / "validate.prof")
    print(f"  {size.name}: schema layer and peers...", file=sys.stderr)
    measure_schema_layer(repo, work, result)
    measure_values_peer(repo, work, result)
    verdicts = {True: "pass", False: "FAIL", None: "n/a"}
    result.values["peer_verdicts"] = " / ".join(
        verdicts[result.values.get(key)] for key in ("kv_passed", "cj_passed")
    )
    return result


def measure_startup() -> dict[str, float]:
    startup = {
        "python -m generator": median_seconds(
            [*mcg_gen_command(), "--version"], STARTUP_RUNS, mcg_gen_env()
        )
    }
    script = Path(sys.executable).with_name("mcg-gen")
    if script.is_file():
        startup["mcg-gen"] = median_seconds([str(script), "--version"], STARTUP_RUNS)
    return startup


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    if commit and _git("status", "--porcelain", "--", "generator", "schemas", "charts"):
        commit += " + uncommitted changes"
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "system": platform.platform(),
        "mcg_gen_commit": commit or "unknown",
        # other work on the machine: absolute times scale with it, ratios much less
        "load_average_1min": os.getloadavg()[0],
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(PROJECT), *args], capture_output=True, text=True, check=False
    ).stdout.strip()


@dataclass(frozen=True)
class Row:
    label: str
    key: str
    show: Callable[[Any], str]
    target: str = ""
    ok: Callable[[str, Any], bool | None] | None = None  # (size, value) -> meets the target


def _s(value: Any) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"


def _rate(value: Any) -> str:
    return f"{value:,.0f}/s"


def _ratio(value: Any) -> str:
    return f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"


def _percent(value: Any) -> str:
    return f"{value:.1%}"


def _mb(value: Any) -> str:
    return f"{value:.0f} MB"


def _findings(value: Any) -> str:
    return f"{value['errors']} / {value['warnings']} / {value['info']}"


def _at_scale(check: Callable[[Any], bool]) -> Callable[[str, Any], bool | None]:
    """A ratio target: judged on the sizes it is about, shown without a mark on the others."""
    return lambda size, value: check(value) if size in RATIO_SIZES else None


ROWS = [
    Row("rendered resources", "resources", lambda v: f"{v:,}"),
    Row("floor: every chart rendered once, C-loader parse (one process)", "floor_s", _s),
    Row(
        "validate cold / floor",
        "cold_vs_floor",
        _ratio,
        "≤ 1.5x",
        _at_scale(lambda v: v <= 1.5),
    ),
    Row(
        "validate cold: process-tree CPU / wall",
        "cold_cpu_per_wall",
        lambda v: f"{v:.2f}",
        "≥ 1.7 (2 cores)",
        _at_scale(lambda v: v >= 1.7),
    ),
    Row(
        "floor: process-tree CPU / wall (how much of a core one process gets here)",
        "floor_cpu_per_wall",
        lambda v: f"{v:.2f}",
    ),
    Row(
        "one values file changed (a comment) / cold",
        "changed_vs_cold",
        _percent,
        "≤ 15%",
        _at_scale(lambda v: v <= 0.15),
    ),
    Row(
        "one values file changed (a value every app of the group gets) / cold",
        "data_vs_cold",
        _percent,
        "≤ 15%",
        _at_scale(lambda v: v <= 0.15),
    ),
    Row(
        "one app template changed / cold",
        "template_vs_cold",
        _percent,
        "≤ 10%",
        _at_scale(lambda v: v <= 0.10),
    ),
    Row(
        'nothing changed / `python -c "import yaml"`',
        "warm_vs_import_yaml",
        _ratio,
        "≤ 3x",
        _at_scale(lambda v: v <= 3),
    ),
    Row(
        "cold: per-resource cost / large's",
        "per_resource_vs_first",
        _ratio,
        # the cost must not grow faster than the resources: at most 10% more per resource
        # (less is the fixed costs shared by more resources, not a miss)
        "≤ 1.1x at xlarge",
        lambda size, v: v <= 1.10 if size == LINEAR_SIZES[1] else None,
    ),
    Row("mcg-gen findings: errors / warnings / info", "findings", _findings),
    Row("`mcg-gen generate` (fresh repository)", "generate_s", _s),
    Row(
        "`mcg-gen validate`, cold",
        "validate_cold_s",
        _s,
        "≤ 2 s reference, ≤ 10 s large",
        lambda size, v: {"reference": v <= 2, "large": v <= 10}.get(size),
    ),
    Row("`mcg-gen validate`, cold: process-tree CPU", "cold_cpu_s", _s),
    Row("`mcg-gen validate`, warm", "validate_warm_s", _s, "≤ 0.5 s", lambda _, v: v <= 0.5),
    Row(
        "`mcg-gen validate`, one values file changed (a comment)",
        "validate_changed_s",
        _s,
        "≤ 3 s",
        lambda _, v: v <= 3,
    ),
    Row("`mcg-gen validate`, one app template changed", "validate_template_s", _s),
    Row("`mcg-gen validate`, one value every app of a group gets changed", "validate_data_s", _s),
    Row('`python -c "import yaml"`', "import_yaml_s", _s),
    Row(
        "peak RSS, largest process",
        "peak_rss_process_mb",
        _mb,
        "≤ 500 MB",
        lambda _, v: v <= 500,
    ),
    Row(
        "peak RSS, whole process tree (sampled)",
        "peak_rss_tree_mb",
        _mb,
        "≤ 400 MB at xlarge",
        lambda size, v: v <= 400 if size == "xlarge" else None,
    ),
    Row(
        "schema layer, resources/s on 1 core",
        "schema_rate",
        _rate,
        "≥ 10,000/s",
        lambda _, v: v >= 10_000,
    ),
    Row("schema layer incl. schema loading", "schema_rate_with_setup", _rate),
    Row("kubernetes-validate --strict, resources/s (sample)", "kv_rate", _rate),
    Row(
        "schema layer vs kubernetes-validate (same sample)",
        "kv_ratio",
        _ratio,
        "≥ 10x",
        lambda _, v: v >= 10,
    ),
    Row("values layer (ours, in process)", "values_ours_s", _s),
    Row("check-jsonschema, clustergroup schema, less start-up", "cj_s", _s),
    Row("check-jsonschema, the same with start-up (CI pays this)", "cj_wall_s", _s),
    Row("check-jsonschema time / ours", "cj_ratio", _ratio),
    Row("peers' verdicts: kubernetes-validate / check-jsonschema", "peer_verdicts", str),
]


def _cell(row: Row, result: SizeResult) -> str:
    value = result.values.get(row.key)
    if value is None:
        return "n/a"
    text = row.show(value)
    verdict = row.ok(result.size, value) if row.ok is not None else None
    if verdict is not None:
        text += " ✓" if verdict else " ✗"
    return text


def add_linearity(results: list[SizeResult]) -> None:
    """Each size's cold per-resource cost against the first of LINEAR_SIZES, when it ran."""
    first = next((r for r in results if r.size == LINEAR_SIZES[0]), None)
    if first is None or "cold_us_per_resource" not in first.values:
        return
    for result in results:
        if result.size in LINEAR_SIZES and "cold_us_per_resource" in result.values:
            result.values["per_resource_vs_first"] = (
                result.values["cold_us_per_resource"] / first.values["cold_us_per_resource"]
            )


def markdown(
    results: list[SizeResult], startup: dict[str, float], generate_only: float | None
) -> str:
    lines = []
    if results:
        header = ["", "target", *(r.size for r in results)]
        lines += [
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
            "| size | | " + " | ".join(r.description for r in results) + " |",
        ]
        for row in ROWS:
            if all(_cell(row, r) == "n/a" for r in results):
                continue
            cells = [row.label, row.target, *(_cell(row, r) for r in results)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    for command, seconds in startup.items():
        mark = "✓" if seconds <= 0.15 else "✗"
        lines.append(
            f"- start-up, `{command} --version` (median of {STARTUP_RUNS}): "
            f"{seconds * 1000:.0f} ms {mark} (target ≤ 150 ms)"
        )
    if generate_only is not None:
        mark = "✓" if generate_only <= 3 else "✗"
        lines.append(
            f"- `mcg-gen generate`, {GENERATE_ONLY.describe()}, fresh repository: "
            f"{generate_only:.2f} s {mark} (target ≤ 3 s)"
        )
    repeats = max((r.values.get("validate_runs", 1) for r in results), default=1)
    if repeats > 1:
        lines.append(f"- `mcg-gen validate` times are medians of {repeats} runs.")
    if any("floor_s" in r.values for r in results):
        lines.append(
            "- The floor is bench/floor.py: one process renders, through generator/helm.py, "
            "every chart each group renders, once, and parses Helm's output with PyYAML's C "
            "loader; nothing checked, linted or cached. It runs in the same rounds as the "
            "validate runs, and every ratio is of medians of those rounds, so a busy machine "
            "slows both sides alike. Ratio targets are judged on "
            f"{' and '.join(RATIO_SIZES)} only (smaller sizes are mostly start-up)."
        )
        lines.append(
            "- Process-tree CPU is user + system time of mcg-gen and of every process it waited "
            "for (pool workers and their Helm workers), from wait4's resource usage."
        )
    kv = next((r.values for r in results if r.values.get("kv_sample")), None)
    if kv:
        lines.append(
            f"- kubernetes-validate has no schemas for custom resources: both tools are timed on "
            f"the same sample of up to {KUBERNETES_VALIDATE_SAMPLE} rendered built-in resources "
            "(ConfigMaps, Deployments, Services, Namespaces...), its start-up subtracted."
        )
    if any(r.values.get("cj_s") is not None for r in results):
        lines.append(
            "- check-jsonschema checks values-global.yaml merged with each group's file against "
            "the published clustergroup schema (upstream CI), its start-up subtracted; ours is "
            "the values layer in process (load, check every values file with our schemas); n/a "
            "where its run is not measurably longer than its start-up."
        )
    for result in results:
        if result.values.get("profile"):
            lines += _profile_table(result)
    return "\n".join(lines) + "\n"


def _profile_table(result: SizeResult) -> list[str]:
    lines = [
        "",
        f"Cold `mcg-gen validate` of {result.size} under cProfile: mcg-gen's costliest functions "
        "by cumulative time (main process; work in worker processes shows as waiting).",
        "",
        "| cumulative | function |",
        "|---|---|",
    ]
    lines += [f"| {seconds:.2f} s | `{where}` |" for seconds, where in result.values["profile"]]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").splitlines()[1:]),
    )
    parser.add_argument(
        "--sizes",
        default=",".join(DEFAULT_SIZES),
        help=f"comma-separated, of {', '.join(CHOICES)} (default: %(default)s)",
    )
    parser.add_argument("--quick", action="store_true", help="only: " + ", ".join(QUICK_SIZES))
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="validate cold, warm and changed N times each and keep the medians (default 1)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="measure nothing: print the table of an earlier run from its raw numbers "
        "(bench/results/*.json)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one cold validate per size (cProfile) and list its costliest steps",
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        return print_report(json.loads(args.report.read_text(encoding="utf-8")))
    names = QUICK_SIZES if args.quick else [n.strip() for n in args.sizes.split(",") if n.strip()]
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = [name for name in names if name not in CHOICES]
    if unknown:
        parser.error(f"unknown size {', '.join(unknown)}; choose from {', '.join(CHOICES)}")

    results = []
    with tempfile.TemporaryDirectory(prefix="mcg-gen-bench-") as temporary:
        root = Path(temporary)
        for variable in CACHE_VARIABLES:
            os.environ[variable] = str(root / variable.lower())
        # as installed: compiled once, not again on every run (some CI images turn bytecode
        # off, which would charge every measured run for compiling mcg-gen)
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        load_at_start = os.getloadavg()[0]
        print("start-up...", file=sys.stderr)
        startup = measure_startup()
        generate_only = None
        for name in names:
            print(f"{name}...", file=sys.stderr)
            if name == GENERATE_ONLY.name:
                generate_only = create_repo(GENERATE_ONLY, root / name)
                continue
            (root / name).mkdir()
            results.append(measure_size(SIZES[name], root / name, args.repeat, args.profile))

    add_linearity(results)
    info = machine()
    info["load_average_1min_at_start"] = load_at_start
    report = {
        "machine": info,
        "startup_s": startup,
        "generate_100x50_s": generate_only,
        "sizes": [{"size": r.size, "description": r.description, **r.values} for r in results],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    output = RESULTS / f"{stamp}.json"
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print(f"raw numbers: {output.relative_to(PROJECT)}", file=sys.stderr)
    return 0


def print_report(report: dict[str, Any]) -> int:
    """The machine line and the table of a run's raw numbers (what main writes)."""
    info = report["machine"]
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"mcg-gen {info['mcg_gen_commit']}; load average {info['load_average_1min_at_start']:.1f} "
        f"at the start, {info['load_average_1min']:.1f} at the end\n"
    )
    results = [
        SizeResult(
            size["size"],
            size["description"],
            {key: value for key, value in size.items() if key not in ("size", "description")},
        )
        for size in report["sizes"]
    ]
    print(markdown(results, report["startup_s"], report["generate_100x50_s"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
