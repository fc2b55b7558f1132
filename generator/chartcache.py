"""Real charts from Helm repositories, downloaded by `mcg-gen charts pull` and kept in the cache
so that `render` and `validate` use them offline.

Layout, below `cache.cache_root()/charts`: one folder per Helm repository (a hash of its URL),
holding `<chart>/<version>/` (the unpacked chart) and `resolved.json`, which records the version
Helm chose for each constraint the repository pins (`0.9.*` -> `0.9.55`) when it was pulled.
Offline, a constraint means what it meant at the last pull; a pinned version is looked up as it
is. Deleting the folder is always safe: the next `charts pull` fetches the charts again.

An archive from a Helm repository is untrusted: it is unpacked only when every member is a
regular file or folder inside the chart's own top folder (no link, device, absolute path or
`..`), within bounded counts and sizes, and its Chart.yaml names the chart that was asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from generator import cache, yamlio
from generator.errors import Location, McgError

CHARTS_DIR = "charts"
RESOLVED_FILE = "resolved.json"
# A chart archive is a few hundred KiB (clustergroup 0.9.x: about 60 KiB); Helm itself refuses
# to load a chart larger than 100 MiB unpacked.
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
# What one download may write: an index.yaml of a large repository is tens of MiB.
MAX_DOWNLOAD_BYTES = 128 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_MEMBERS = 5_000
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ChartPin:
    """A chart an Application (or the operator, for clustergroup) names: its name, its version
    or version constraint as written (`0.9.*`, `~0.2.0`, `1.2.3`, '' for the newest) and its
    Helm repository."""

    name: str
    version: str
    repo_url: str

    def __str__(self) -> str:
        return f"{self.name} {self.version or '(newest)'} from {self.repo_url}"


@dataclass(frozen=True)
class CachedChart:
    """A chart in the cache: the version it resolved to and its unpacked folder."""

    name: str
    version: str
    path: Path


def is_helm_repository(repo_url: str) -> bool:
    """Whether `repo_url` is a Helm repository `charts pull` may fetch from: http(s), or an
    OCI registry (`oci://host/path`, or Argo CD's `host/path` without a scheme). Anything else
    (file://, a git URL over ssh) is never fetched."""
    scheme, separator, rest = repo_url.partition("://")
    if not separator:
        return bool(repo_url) and "/" in repo_url and not repo_url.startswith(("/", "."))
    return scheme in ("https", "http", "oci") and bool(rest)


def charts_root() -> Path:
    return cache.cache_root() / CHARTS_DIR


def repository_folder(repo_url: str) -> Path:
    """The cache folder of one Helm repository (trailing slashes do not make another one)."""
    identity = hashlib.sha256(repo_url.strip().rstrip("/").encode()).hexdigest()[:20]
    return charts_root() / identity


def find(pin: ChartPin) -> CachedChart | None:
    """The cached chart for `pin`: its exact version, else the version its constraint resolved
    to when it was pulled; None when `charts pull` has not fetched it."""
    folder = repository_folder(pin.repo_url)
    for version in (pin.version, _resolved(folder).get(_pin_key(pin))):
        if not version or not _is_plain_name(version):
            continue
        chart = folder / pin.name / version
        if _is_plain_name(pin.name) and (chart / "Chart.yaml").is_file():
            return CachedChart(pin.name, version, chart)
    return None


def fingerprint() -> str:
    """What the cache holds, cheaply (every repository's resolved.json and its chart folders):
    results that depend on which real charts are cached are keyed by it."""
    digest = hashlib.sha256()
    root = charts_root()
    try:
        folders = sorted(path for path in root.iterdir() if path.is_dir())
    except OSError:
        return digest.hexdigest()
    for folder in folders:
        digest.update(folder.name.encode() + b"\0")
        digest.update(json.dumps(_resolved(folder), sort_keys=True).encode() + b"\0")
        for chart in sorted(folder.glob("*/*/Chart.yaml")):
            digest.update(str(chart.relative_to(folder)).encode() + b"\0")
    return digest.hexdigest()


def store(pin: ChartPin, archive: Path) -> CachedChart:
    """Unpack a downloaded archive of `pin`'s chart into the cache and record the version its
    constraint resolved to (the archive's Chart.yaml says which). Raises `McgError` for an
    archive that is not a safe chart of that name."""
    if not _is_plain_name(pin.name):
        raise McgError(f"{pin.name!r} is not a chart name", hint="a chart name is one path part")
    folder = repository_folder(pin.repo_url)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".unpack-") as scratch:
        unpacked = unpack(archive, pin.name, Path(scratch))
        version = _chart_version(unpacked, pin.name, archive)
        target = folder / pin.name / version
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
    resolved = _resolved(folder)
    resolved[_pin_key(pin)] = version
    _write_json(folder / RESOLVED_FILE, resolved)
    return CachedChart(pin.name, version, target)


def unpack(archive: Path, name: str, into: Path) -> Path:
    """Unpack the chart archive into `into/<name>` and return that folder, refusing an archive
    with anything but regular files and folders below `<name>/`, or too large."""
    where = Location(str(archive))
    size = archive.stat().st_size
    if size > MAX_ARCHIVE_BYTES:
        raise McgError(
            f"the archive of chart {name!r} has {size:,} bytes, more than {MAX_ARCHIVE_BYTES:,}",
            location=where,
            hint="a chart archive is far smaller; check the repository URL",
        )
    try:
        with tarfile.open(archive, "r:gz") as bundle:
            members = _checked_members(bundle, name, where)
            for member, relative in members:
                target = into.joinpath(*relative.parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                source = bundle.extractfile(member)
                if source is None:
                    continue
                with source, open(target, "xb") as written:
                    _copy_bounded(source, written, member.size)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise McgError(
            f"the archive of chart {name!r} cannot be unpacked: {error}",
            location=where,
            hint="run 'mcg-gen charts pull' again; the download may have been cut short",
        ) from None
    chart = into / name
    if not (chart / "Chart.yaml").is_file():
        raise McgError(
            f"the archive of chart {name!r} has no {name}/Chart.yaml",
            location=where,
            hint="the repository serves something else under this chart's name",
        )
    return chart


def _checked_members(
    bundle: tarfile.TarFile, name: str, where: Location
) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    members: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
    total = 0
    for member in bundle:
        if len(members) >= MAX_MEMBERS:
            raise McgError(
                f"the archive of chart {name!r} has more than {MAX_MEMBERS:,} files",
                location=where,
                hint="a chart is far smaller; the archive is refused",
            )
        relative = PurePosixPath(member.name)
        if (
            relative.is_absolute()
            or ".." in relative.parts
            or not relative.parts
            or relative.parts[0] != name
        ):
            raise McgError(
                f"the archive of chart {name!r} holds {member.name!r}, outside the chart's folder",
                location=where,
                hint="the archive is refused: every file of a chart archive is below <name>/",
            )
        if not (member.isfile() or member.isdir()):
            raise McgError(
                f"the archive of chart {name!r} holds {member.name!r}, which is a link or device",
                location=where,
                hint="the archive is refused: a chart holds regular files only",
            )
        total += max(member.size, 0)
        if total > MAX_UNPACKED_BYTES:
            raise McgError(
                f"the archive of chart {name!r} unpacks to more than {MAX_UNPACKED_BYTES:,} bytes",
                location=where,
                hint="the archive is refused (Helm refuses charts this large too)",
            )
        members.append((member, relative))
    return members


def _copy_bounded(source: IO[bytes], target: IO[bytes], size: int) -> None:
    """Copy at most `size` bytes (what the member header declares, already bounded)."""
    left = size
    while left > 0:
        chunk = source.read(min(_COPY_CHUNK, left))
        if not chunk:
            break
        target.write(chunk)
        left -= len(chunk)


def _chart_version(chart: Path, name: str, archive: Path) -> str:
    document = yamlio.load_file(chart / "Chart.yaml", f"{archive.name}!{name}/Chart.yaml")
    data = document.data if isinstance(document.data, dict) else {}
    version = str(data.get("version") or "")
    if data.get("name") != name or not _is_plain_name(version):
        raise McgError(
            f"the archive for chart {name!r} holds chart {data.get('name')!r} version {version!r}",
            location=Location(str(archive)),
            hint="the repository serves something else under this chart's name",
        )
    return version


def _is_plain_name(text: str) -> bool:
    """One path part that cannot lead elsewhere (a chart name or version)."""
    return bool(text) and "/" not in text and "\\" not in text and text not in (".", "..")


def _pin_key(pin: ChartPin) -> str:
    return f"{pin.name}@{pin.version}"


def _resolved(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / RESOLVED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items() if isinstance(value, str)}


def _write_json(path: Path, content: dict[str, str]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(content, stream, sort_keys=True, indent=1)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
