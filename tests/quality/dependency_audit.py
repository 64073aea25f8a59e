"""An offline dependency vulnerability check: the versions the requirements install, against the advisories in
``dependency_advisories.toml`` (facts gathered from a stored copy of the PyPA advisory database).

Ranges are read the way OSV defines them for an ``ECOSYSTEM`` range: the events are sorted by version, and a version
is affected when the last event at or below it is ``introduced`` (``fixed`` and ``last_affected`` end a range).
Versions are compared as PEP 440 versions with ``packaging``, which pytest brings in through requirements-dev.txt.

``python -m tests.quality.dependency_audit probe`` prints which vulnerability service pip-audit could use from this
machine (``pypi``, ``osv``) or nothing; ``make audit`` uses it.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
ADVISORIES_PATH = Path(__file__).with_name("dependency_advisories.toml")
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")

# The order in which events at the same version apply: a range introduced and fixed at one version is empty.
_EVENT_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2}


@dataclass(frozen=True)
class Advisory:
    package: str
    id: str
    events: tuple[tuple[str, str], ...]
    modified: str
    summary: str
    aliases: tuple[str, ...] = ()
    withdrawn: str = ""


@dataclass(frozen=True)
class Snapshot:
    newest_modified: str
    listed: Mapping[str, int]
    superseded: Mapping[str, str]
    advisories: tuple[Advisory, ...] = field(default=())


def snapshot_load(path: Path = ADVISORIES_PATH) -> Snapshot:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    advisories = tuple(
        Advisory(
            package=canonicalize_name(entry["package"]),
            id=entry["id"],
            events=tuple((kind, version) for kind, version in entry["events"]),
            modified=entry["modified"],
            summary=entry["summary"],
            aliases=tuple(entry.get("aliases", ())),
            withdrawn=entry.get("withdrawn", ""),
        )
        for entry in data["advisory"]
    )
    return Snapshot(
        newest_modified=data["snapshot"]["newest_modified"],
        listed={canonicalize_name(name): count for name, count in data["listed"].items()},
        superseded=dict(data["superseded"]),
        advisories=advisories,
    )


def version_affected(version: str, events: Iterable[tuple[str, str]]) -> bool:
    """True when ``version`` falls in the OSV ``ECOSYSTEM`` range made of ``events`` ([kind, version] pairs)."""
    installed = Version(version)
    affected = False
    for kind, bound in sorted(events, key=lambda event: (Version(event[1]), _EVENT_ORDER[event[0]])):
        limit = Version(bound)
        if kind == "introduced" and installed >= limit:
            affected = True
        elif (kind == "fixed" and installed >= limit) or (kind == "last_affected" and installed > limit):
            affected = False
    return affected


def findings(versions: Mapping[str, str], advisories: Iterable[Advisory]) -> list[str]:
    """One line per (distribution, advisory) where the version in ``versions`` is affected; withdrawn advisories are
    not reported."""
    canonical = {canonicalize_name(name): version for name, version in versions.items()}
    lines = []
    for advisory in advisories:
        version = canonical.get(advisory.package)
        if version is None or advisory.withdrawn or not version_affected(version, advisory.events):
            continue
        fixed = ", ".join(bound for kind, bound in advisory.events if kind == "fixed") or "no fixed release"
        aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
        lines.append(
            f"{advisory.package} {version} is affected by {advisory.id}{aliases}: {advisory.summary}; fixed in {fixed}"
        )
    return lines


def _requirement_lines(path: Path) -> list[Requirement]:
    requirements: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            requirements += _requirement_lines(path.parent / line.split(maxsplit=1)[1])
        else:
            requirements.append(Requirement(line))
    return requirements


def requirement_pins(paths: Sequence[Path] = REQUIREMENTS) -> dict[str, str]:
    """The ``==`` pins of the requirement files (following ``-r``), by canonical name."""
    pins = {}
    for path in paths:
        for requirement in _requirement_lines(path):
            for specifier in requirement.specifier:
                if specifier.operator == "==":
                    pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def requirement_closure(paths: Sequence[Path] = REQUIREMENTS) -> tuple[dict[str, str], list[str]]:
    """Every distribution the requirement files install, directly or through a dependency (extras and markers
    evaluated), with its installed version; and the names required but not installed."""
    todo = [(requirement, frozenset(requirement.extras)) for path in paths for requirement in _requirement_lines(path)]
    installed: dict[str, str] = {}
    missing: list[str] = []
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        installed[name] = distribution.version
        for text in distribution.requires or ():
            dependency = Requirement(text)
            if dependency.marker is not None and not any(
                dependency.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            todo.append((dependency, frozenset(dependency.extras)))
    return installed, sorted(set(missing))


def probe_service(timeout: float = 10.0) -> str:
    """Which service pip-audit can reach from here: ``pypi`` (the per-release JSON it reads by default), ``osv``
    (api.osv.dev), or ``""`` for neither."""
    pins = requirement_pins()
    probe_name, probe_version = "django", pins.get("django", "5.2")
    try:
        with urllib.request.urlopen(
            f"https://pypi.org/pypi/{probe_name}/{probe_version}/json", timeout=timeout
        ) as response:
            if response.status == 200 and "vulnerabilities" in json.load(response):
                return "pypi"
    except (OSError, ValueError):
        pass
    query = json.dumps({"package": {"name": probe_name, "ecosystem": "PyPI"}, "version": probe_version}).encode()
    request = urllib.request.Request(
        "https://api.osv.dev/v1/query", data=query, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a fixed https URL)
            if response.status == 200:
                json.load(response)
                return "osv"
    except (OSError, ValueError):
        pass
    return ""


def main(argv: Sequence[str]) -> int:
    if list(argv) == ["probe"]:
        print(probe_service())
        return 0
    print("usage: python -m tests.quality.dependency_audit probe", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
