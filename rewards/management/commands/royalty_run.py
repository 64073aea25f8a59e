from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocreate.errors import DomainError
from rewards.management.commands._actor import actor_for
from rewards.models import RoyaltyRun
from rewards.services import period_code_check, period_get_or_create, royalty_run


class Command(BaseCommand):
    help = "Calculate a royalty period (YYYY-Qn) in this process and post it to the ledger; safe to repeat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period")
        parser.add_argument("--as", dest="actor", help="E-mail of the finance user running the period.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = actor_for(options["actor"])
        try:
            code = period_code_check(options["period"])
            run = RoyaltyRun.objects.create(period=period_get_or_create(code), created_by=actor)
            run = royalty_run(period=code, run=run)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Run #{run.pk} for {code}: {run.agreements_done} agreement(s), {run.entries_posted} posting(s)."
            )
        )
