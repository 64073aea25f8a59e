from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocreate.errors import DomainError
from rewards.exports import statements_csv
from rewards.selectors import statements_for
from rewards.services import period_get


class Command(BaseCommand):
    help = "Print every payee statement of a period (YYYY-Qn) as CSV or JSON; amounts are decimal strings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = period_get(options["period"])
        except DomainError as error:
            raise CommandError(error.message) from None
        statements = statements_for(period=period)
        if options["format"] == "json":
            self.stdout.write(json.dumps([s.as_dict() for s in statements], indent=2, ensure_ascii=False))
        else:
            self.stdout.write(statements_csv(statements), ending="")
