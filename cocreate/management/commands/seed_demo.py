"""``manage.py seed_demo [--customers N]``: demo data for every app, safe to run any number of times."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cocreate.demo import DEMO_PASSWORD, PEOPLE, seed_core, seed_customers

APPS_WITH_DEMO_DATA = ["ideas", "boards", "rewards", "cocreate.insights"]


class Command(BaseCommand):
    help = "Create demo organisations, one user per role and each app's demo content (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=0, help="Also create N customer{i}@example.com accounts.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args: Any, customers: int, quiet_logins: bool, **options: Any) -> None:
        if customers < 0:
            self.stderr.write("--customers must be zero or more.")
            raise SystemExit(2)
        people = seed_core()
        for app in APPS_WITH_DEMO_DATA:
            if importlib.util.find_spec(f"{app}.demo") is None:
                continue
            lines = importlib.import_module(f"{app}.demo").seed_demo(people=people)
            for line in lines:
                self.stdout.write(f"  {app}: {line}")
        if customers:
            created = seed_customers(customers)
            self.stdout.write(f"  load-test customers: {created} created, customer1..{customers}@example.com")
        if not quiet_logins:
            self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
            for _attribute, email, name, _org, roles, _staff, superuser in PEOPLE:
                label = "superuser" if superuser else ", ".join(str(r.label) for r in roles)
                self.stdout.write(f"  {email:<24} {name:<14} {label}")
