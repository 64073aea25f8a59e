"""``manage.py run_platform``: prepare the database and start every process of the platform.

Embedded defaults (no ``REDIS_URL``): one ASGI process (the in-process channel layer cannot cross processes)
and one Celery worker with the beat scheduler inside it, talking through the filesystem broker. With
``REDIS_URL`` and ``--web-processes N``: N ASGI processes, a worker, and beat on its own. The command
stays in the foreground, forwards Ctrl-C to its children, and stops everything if any child dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocreate.demo import DEMO_PASSWORD, PEOPLE


class Command(BaseCommand):
    help = "Migrate, load demo data and run the ASGI server, a Celery worker and the scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-processes", type=int, default=1)
        parser.add_argument("--separate-beat", action="store_true", help="Run beat as its own process.")
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        web_processes: int = options["web_processes"]
        if web_processes < 1:
            raise CommandError("--web-processes must be at least 1.")
        if web_processes > 1 and not settings.REDIS_URL:
            raise CommandError(
                "Several ASGI processes need REDIS_URL: the in-process channel layer cannot reach across processes."
            )
        started = time.monotonic()
        self._default_site_url(options)
        call_command("compile_translations", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("seed_demo", quiet_logins=True)
        processes = self._start(options)
        self._print_banner(options, time.monotonic() - started)
        self._supervise(processes)

    def _default_site_url(self, options: dict[str, Any]) -> None:
        """Links in e-mails and the admin point at the address this command serves, unless ``SITE_URL`` names
        another (a proxy in front). The children inherit it through the environment."""
        if "SITE_URL" in os.environ:
            return
        every_interface = ("0.0.0.0", "::", "")  # noqa: S104  (compared with, not bound to)
        host = "127.0.0.1" if options["host"] in every_interface else options["host"]
        url = f"http://{host}:{options['port']}"
        os.environ["SITE_URL"] = url
        settings.SITE_URL = url
        settings.WAGTAILADMIN_BASE_URL = url

    def _start(self, options: dict[str, Any]) -> dict[str, subprocess.Popen[bytes]]:
        python = sys.executable
        schedule = settings.VAR_DIR / "celery" / "beat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        web = [
            python, "-m", "uvicorn", "cocreate.asgi:application",
            "--host", options["host"], "--port", str(options["port"]),
            "--lifespan", "off",
            "--ws-max-size", str(4 * settings.WS_MAX_MESSAGE_BYTES),
            # Live-room events are small and fanned out to many sockets; compressing each copy again per socket
            # was the largest cost of a delivery (boards/README.md, "Performance").
            "--ws-per-message-deflate", "false",
            "--timeout-graceful-shutdown", "5",
            "--no-access-log" if not settings.DEBUG else "--access-log",
        ]  # fmt: skip
        if options["web_processes"] > 1:
            web += ["--workers", str(options["web_processes"])]
        worker = [
            python, "-m", "celery", "-A", "cocreate", "worker", "-l", "INFO",
            "--concurrency", str(options["worker_concurrency"]), "-n", "worker@%h",
        ]  # fmt: skip
        commands: dict[str, list[str]] = {"web": web}
        if options["separate_beat"]:
            commands["worker"] = worker
            commands["beat"] = [python, "-m", "celery", "-A", "cocreate", "beat", "-l", "INFO", "-s", str(schedule)]
        else:
            commands["worker"] = [*worker, "-B", "-s", str(schedule)]
        return {name: subprocess.Popen(command, cwd=settings.BASE_DIR) for name, command in commands.items()}

    def _print_banner(self, options: dict[str, Any], seconds: float) -> None:
        url = f"http://{options['host']}:{options['port']}/"
        database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
        layer = "Redis" if settings.REDIS_URL else "in-process"
        self.stdout.write(self.style.SUCCESS(f"\ncocreate is starting at {url}  (prepared in {seconds:.1f} s)"))
        self.stdout.write(
            f"  database: {database} · channel layer: {layer} · broker: {settings.CELERY_BROKER_URL.split(':')[0]}"
        )
        self.stdout.write(f"  admin: {url}cms/ · API docs: {url}api/docs/ · health: {url}healthz")
        self.stdout.write(f"  demo logins (password {DEMO_PASSWORD}):")
        for _attribute, email, name, _org, roles, _staff, superuser in PEOPLE:
            label = "superuser" if superuser else ", ".join(str(r.label) for r in roles)
            self.stdout.write(f"    {email:<24} {name:<14} {label}")
        self.stdout.write("  Press Ctrl-C to stop.\n")

    def _supervise(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with status {process.returncode}; stopping the platform.")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            raise SystemExit(exit_code)
