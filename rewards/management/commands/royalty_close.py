from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocreate.errors import DomainError
from rewards.management.commands._actor import actor_for
from rewards.services import period_close


class Command(BaseCommand):
    help = "Close a calculated royalty period for good (YYYY-Qn)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period")
        parser.add_argument("--as", dest="actor", help="E-mail of the finance user closing the period.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = period_close(actor=actor_for(options["actor"]), period=options["period"])
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Closed {period.code}."))
