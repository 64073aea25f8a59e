"""Compile ``locale/*/LC_MESSAGES/django.po`` to ``.mo`` with polib, so no GNU gettext is needed on the machine."""

from __future__ import annotations

from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po files to .mo (pure Python; run by make run and make test)."

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                po = polib.pofile(str(po_path))
                missing = [e.msgid for e in po if not e.obsolete and not e.translated() and not e.fuzzy]
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
                status = f"{po.percent_translated()}% translated"
                if missing:
                    status += f", {len(missing)} missing"
                self.stdout.write(f"{po_path.relative_to(settings.BASE_DIR)}: {status}")
        if compiled == 0:
            self.stderr.write("No .po files found under LOCALE_PATHS.")
