"""No pinned or installed dependency falls in a known vulnerable range, as far as the stored advisory snapshot in
``dependency_advisories.toml`` knows (its date is in the file; newer advisories are not covered). Where a
vulnerability service answers, ``make audit`` runs pip-audit instead."""

from __future__ import annotations

import pytest

from tests.quality.dependency_audit import (
    Advisory,
    findings,
    requirement_closure,
    requirement_pins,
    snapshot_load,
    version_affected,
)

# Three release lines fixed separately, listed out of order as advisories often list them.
BRANCHES = (("introduced", "5.1"), ("fixed", "5.1.1"), ("introduced", "5.0"), ("fixed", "5.0.9"), ("introduced", "4.2"))
BRANCHES_FIXED = (*BRANCHES, ("fixed", "4.2.16"))


@pytest.mark.parametrize(
    ("version", "events", "affected"),
    [
        ("5.0.8", BRANCHES_FIXED, True),
        ("5.0.9", BRANCHES_FIXED, False),
        ("5.1", BRANCHES_FIXED, True),
        ("5.1.1", BRANCHES_FIXED, False),
        ("4.2.15", BRANCHES_FIXED, True),
        ("4.2.16", BRANCHES_FIXED, False),
        ("4.1.9", BRANCHES_FIXED, False),
        ("5.2.19", BRANCHES_FIXED, False),
        # the 4.2 line never fixed: every later release stays affected until another fix
        ("4.2.99", BRANCHES, True),
        ("5.0.9", BRANCHES, False),
        ("5.2.19", BRANCHES, False),
        # "0" means every earlier release; a range left open covers everything after it
        ("0.1", (("introduced", "0"), ("fixed", "1.0")), True),
        ("7.4.1", (("introduced", "0"),), True),
        # PEP 440 order, not string order: 10 > 9, a release candidate comes before its release
        ("10.0.0", (("introduced", "0"), ("fixed", "9.5.1")), False),
        ("24.3.0", (("introduced", "0"), ("fixed", "24.7.0rc1")), True),
        ("24.7.0", (("introduced", "0"), ("fixed", "24.7.0rc1")), False),
        ("5.2b1", (("introduced", "5.1"), ("fixed", "5.2b1")), False),
        ("2023.07.22", (("introduced", "2015.4.28"), ("fixed", "2023.7.22")), False),
        ("2023.5.7", (("introduced", "2015.4.28"), ("fixed", "2023.7.22")), True),
        # last_affected includes its own version
        ("2.0", (("introduced", "1.0"), ("last_affected", "2.0")), True),
        ("2.0.1", (("introduced", "1.0"), ("last_affected", "2.0")), False),
        # introduced and fixed at one version: an empty range
        ("3.0", (("introduced", "3.0"), ("fixed", "3.0")), False),
    ],
)
def test_a_version_is_affected_exactly_inside_a_range(version, events, affected):
    assert version_affected(version, events) is affected


def test_an_affected_version_is_reported_with_package_version_and_advisory():
    advisory = Advisory(
        package="django",
        id="PYSEC-TEST-1",
        aliases=("CVE-0000-0001",),
        events=(("introduced", "5.2"), ("fixed", "5.2.20")),
        modified="2026-01-01",
        summary="made up for this test",
    )

    lines = findings({"Django": "5.2.19", "wagtail": "8.0.1"}, [advisory])

    assert lines == [
        "django 5.2.19 is affected by PYSEC-TEST-1 (CVE-0000-0001): made up for this test; fixed in 5.2.20"
    ]
    assert findings({"Django": "5.2.20"}, [advisory]) == []


def test_a_withdrawn_advisory_is_not_reported():
    advisory = Advisory(
        package="redis",
        id="PYSEC-TEST-2",
        events=(("introduced", "0"),),
        modified="2023-06-05",
        summary="withdrawn",
        withdrawn="2023-06-06",
    )

    assert findings({"redis": "7.4.1"}, [advisory]) == []
    assert findings({"redis": "7.4.1"}, [Advisory(**{**advisory.__dict__, "withdrawn": ""})]) != []


def test_the_snapshot_states_its_own_date_and_its_drafts_point_at_records_it_holds():
    snapshot = snapshot_load()
    ids = {advisory.id for advisory in snapshot.advisories}

    assert snapshot.newest_modified == max(advisory.modified for advisory in snapshot.advisories)
    assert len(ids) == len(snapshot.advisories)
    assert set(snapshot.superseded.values()) <= ids
    assert not set(snapshot.superseded) & ids
    for advisory in snapshot.advisories:
        assert snapshot.listed.get(advisory.package, 0) >= 1, advisory.id
        assert any(kind == "introduced" for kind, _ in advisory.events), advisory.id


def test_every_dependency_the_requirements_install_was_looked_up_in_the_snapshot():
    installed, missing = requirement_closure()

    assert missing == [], "required but not installed, so not audited"
    # packaging, which reads the ranges, comes with the requirements (through pytest), not by hand
    assert "packaging" in installed
    not_looked_up = sorted(set(installed) - set(snapshot_load().listed))
    assert not_looked_up == [], (
        "look these up in the advisory database and add them to [listed] in dependency_advisories.toml"
    )


def test_no_pinned_or_installed_dependency_is_in_a_known_vulnerable_range():
    advisories = snapshot_load().advisories
    installed, _ = requirement_closure()
    pins = requirement_pins()

    assert len(pins) >= 30
    assert findings(pins, advisories) == []
    assert findings(installed, advisories) == []
