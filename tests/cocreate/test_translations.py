"""Both Chinese catalogues are complete and every translation keeps its placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")
CATALOGUES = sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/*.po"))


def _placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_both_chinese_scripts_have_both_catalogues() -> None:
    names = {(path.parts[-3], path.stem) for path in CATALOGUES}
    assert names == {(lang, domain) for lang in ("zh_Hans", "zh_Hant") for domain in ("django", "djangojs")}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: "/".join(path.parts[-3:]))
def test_every_message_is_translated(path: Path) -> None:
    catalogue = polib.pofile(str(path))
    untranslated = [entry.msgid for entry in catalogue if not entry.obsolete and not entry.translated()]
    assert untranslated == [], f"{len(untranslated)} untranslated in {path}: run `make messages` and translate"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: "/".join(path.parts[-3:]))
def test_translations_keep_their_placeholders(path: Path) -> None:
    wrong = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete or not entry.translated():
            continue
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        wrong += [source for source, text in pairs if _placeholders(source) != _placeholders(text)]
    assert wrong == []
