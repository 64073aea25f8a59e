from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocreate.errors import DomainError
from rewards.management.commands._actor import actor_for
from rewards.services import SalesImportError, sales_import_csv


class Command(BaseCommand):
    help = "Import a net-sales CSV (all or nothing); every bad row is listed by row and column."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="actor", help="E-mail of the finance user doing the import.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        actor = actor_for(options["actor"])
        try:
            record = sales_import_csv(actor=actor, file_name=path.name, content=path.read_bytes())
        except SalesImportError as error:
            for item in error.errors:
                self.stderr.write(f"row {item.row}, column {item.column or '-'}: {item.message}")
            raise CommandError(error.message) from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {record.rows_done} lines (import #{record.pk})."))
