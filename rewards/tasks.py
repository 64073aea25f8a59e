"""Celery adapters for the rewards services."""

from __future__ import annotations

import logging

from cocreate import outbox
from cocreate.celery import app
from cocreate.errors import DomainError
from rewards.models import RoyaltyRun, SalesImport
from rewards.services import royalty_run, sales_import_process

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def royalty_run_task(run_id: int, outbox_id: int | None = None) -> None:
    """Run a queued royalty run; a rule failure is recorded on the run (status failed, error) for the page to show.

    Safe to deliver twice: a finished run is skipped, and the run itself posts nothing when inputs did not change.
    Queued through the outbox, so a broker outage or a killed worker delays the run, never loses it.
    """
    try:
        run = RoyaltyRun.objects.select_related("period").filter(pk=run_id).first()
        if run is None or run.status == RoyaltyRun.Status.DONE:
            return
        try:
            royalty_run(period=run.period.code, run=run)
        except DomainError as error:
            logger.info("royalty run %s failed: %s", run_id, error.message)
    finally:
        outbox.outbox_done(row_id=outbox_id)


@app.task(acks_late=True)
def sales_import_task(import_id: int, outbox_id: int | None = None) -> None:
    """Process an uploaded sales file; errors are recorded on the import row for the page to list.

    Safe to deliver twice: only an import still processing and with no lines yet is worked on. Queued through
    the outbox, like the royalty run.
    """
    try:
        record = SalesImport.objects.filter(pk=import_id, status=SalesImport.Status.PROCESSING).first()
        if record is None or record.lines.exists():
            return
        try:
            sales_import_process(record=record)
        except DomainError as error:
            logger.info("sales import %s failed: %s", import_id, error.message)
    finally:
        outbox.outbox_done(row_id=outbox_id)
