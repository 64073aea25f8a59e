"""Royalty agreements, net-sales imports, periods and runs, and the append-only ledger.

Money in the ledger, in sales lines and in payouts is integer minor units of a stated currency (``*_minor``):
SQLite stores ``DecimalField`` as a float, so only integers sum exactly on both engines. Exact intermediate figures
(converted net sales, unrounded royalty) are kept as decimal strings. Every write goes through ``rewards.services``.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rewards.money import BP_WHOLE, Rounding


class Agreement(models.Model):
    """One royalty agreement per commercialised idea (or entered by hand, without an idea)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")

    # No foreign key: the ideas app lives on its own; the title is a snapshot taken when the draft opened.
    idea_id = models.PositiveBigIntegerField(_("idea"), null=True, blank=True, unique=True)
    title = models.CharField(_("title"), max_length=200)
    # The ledger's minor units are in this currency, so it belongs to the agreement, not to a terms version; it
    # may change only while nothing has been posted (see ``agreement_update``).
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    launch_date = models.DateField(_("launch date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("royalty agreement")
        verbose_name_plural = _("royalty agreements")

    def __str__(self) -> str:
        return self.title

    def terms_on(self, day: datetime.date) -> AgreementTerms | None:
        """The terms version in force on ``day`` (the latest effective on or before it)."""
        return self.terms.filter(effective_from__lte=day).order_by("-effective_from").first()

    @property
    def current_terms(self) -> AgreementTerms | None:
        return self.terms.order_by("-effective_from").first()


class AgreementProduct(models.Model):
    """A product code whose net sales earn royalties under the agreement; a code belongs to one agreement."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="products")
    code = models.CharField(_("product code"), max_length=64, unique=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class AgreementTerms(models.Model):
    """One version of an agreement's terms, in force from ``effective_from``. Never edited: a change is a new row."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="terms")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"), default=100)
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    rounding = models.CharField(_("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.HALF_UP)
    minimum_payout_minor = models.BigIntegerField(_("minimum payout (minor units)"), default=0)
    advance_minor = models.BigIntegerField(_("advance (minor units)"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "effective_from"]
        verbose_name = _("agreement terms")
        verbose_name_plural = _("agreement terms")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "version"], name="rewards_terms_version_unique"),
            models.UniqueConstraint(fields=["agreement", "effective_from"], name="rewards_terms_effective_unique"),
            models.CheckConstraint(condition=Q(rate_bp__lte=BP_WHOLE), name="rewards_terms_rate_range"),
            models.CheckConstraint(condition=Q(minimum_payout_minor__gte=0), name="rewards_terms_minimum_positive"),
            models.CheckConstraint(condition=Q(advance_minor__gte=0), name="rewards_terms_advance_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} v{self.version}"


class TermsPayee(models.Model):
    """A payee's share under one terms version, and when the payee consented to it."""

    terms = models.ForeignKey(AgreementTerms, on_delete=models.CASCADE, related_name="payees")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="royalty_shares")
    position = models.PositiveSmallIntegerField(_("position"))
    share_bp = models.PositiveIntegerField(_("share (basis points)"))
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)

    class Meta:
        ordering = ["terms", "position"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "user"], name="rewards_payee_once_per_terms"),
            models.UniqueConstraint(fields=["terms", "position"], name="rewards_payee_position_unique"),
            models.CheckConstraint(
                condition=Q(share_bp__gt=0, share_bp__lte=BP_WHOLE), name="rewards_payee_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.share_bp} bp"


class AuditEntry(models.Model):
    """Who changed what on an agreement, and when. Written by the services, never edited."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=40)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class Period(models.Model):
    """A calendar quarter ``YYYY-Qn``: open → calculated → closed. A closed period never changes."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CALCULATED = "calculated", _("Calculated")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("period"), max_length=7, unique=True)
    start = models.DateField()
    end = models.DateField()
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    calculated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return self.code


class FxRate(models.Model):
    """The period-end rate: one unit of ``from_currency`` is ``rate`` units of ``to_currency``."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="fx_rates")
    from_currency = models.CharField(max_length=3)
    to_currency = models.CharField(max_length=3)
    # 15 significant digits round-trip exactly through SQLite's float storage.
    rate = models.DecimalField(max_digits=15, decimal_places=8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "from_currency", "to_currency"]
        constraints = [
            models.UniqueConstraint(fields=["period", "from_currency", "to_currency"], name="rewards_fx_once"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="rewards_fx_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.from_currency}/{self.to_currency} {self.rate}"


class SalesImport(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(max_length=255)
    file_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # The file as received: what a background import reads, and the record of what was imported.
    source = models.BinaryField(null=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A failed attempt does not block the same file being fixed elsewhere and sent again.
            models.UniqueConstraint(
                fields=["file_hash"], condition=~Q(status="failed"), name="rewards_import_file_once"
            ),
        ]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress(self) -> int:
        return 100 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)


class SalesLine(models.Model):
    """One row of net sales for a product and month, in the sales currency's minor units.

    ``period`` is the quarter the line is booked into: its own quarter, or, for a line that arrived after its
    quarter closed, the next open one (``adjusts`` then points at the original line it corrects, if any).
    """

    sales_import = models.ForeignKey(SalesImport, on_delete=models.PROTECT, related_name="lines")
    row_number = models.PositiveIntegerField()
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="sales_lines")
    product_code = models.CharField(max_length=64)
    month = models.DateField(help_text="First day of the sales month.")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="sales_lines")
    currency = models.CharField(max_length=3)
    gross_minor = models.BigIntegerField()
    returns_minor = models.BigIntegerField()
    discounts_minor = models.BigIntegerField()
    net_minor = models.BigIntegerField()
    territory = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=64, blank=True)
    line_key = models.CharField(max_length=255, unique=True)
    is_late = models.BooleanField(default=False)
    adjusts = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments")

    class Meta:
        ordering = ["month", "product_code", "pk"]
        indexes = [models.Index(fields=["period", "agreement"], name="rewards_sales_period_agr")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    net_minor=models.F("gross_minor") - models.F("returns_minor") - models.F("discounts_minor")
                ),
                name="rewards_sales_net_is_gross_less_deductions",
            ),
        ]

    def __str__(self) -> str:
        return self.line_key


class RoyaltyRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    agreements_total = models.PositiveIntegerField(default=0)
    agreements_done = models.PositiveIntegerField(default=0)
    entries_posted = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="Every reason a refused run found, one each.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.period} #{self.pk}"

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return 0 if not self.agreements_total else min(99, self.agreements_done * 100 // self.agreements_total)


class RoyaltyResult(models.Model):
    """What a run computed for one agreement in one period (per source period for late sales): the working paper.

    The ledger holds the money; this row keeps the exact figures behind it for statements and audits.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="results")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="results")
    source_period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    net_sales = models.CharField(max_length=100, help_text="Exact decimal, in the agreement currency.")
    royalty_exact = models.CharField(max_length=100, help_text="Exact decimal before the one rounding.")
    royalty_minor = models.BigIntegerField()
    recouped_minor = models.BigIntegerField(default=0)
    carried_minor = models.BigIntegerField(default=0)
    distributed_minor = models.BigIntegerField(default=0)
    run = models.ForeignKey(RoyaltyRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["period", "agreement", "source_period"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "period", "source_period"], name="rewards_result_once"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement} {self.period}"


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    """The ledger is append-only: rows are inserted, never updated or deleted (corrections are reversals)."""

    def update(self, **kwargs: Any) -> int:
        raise LedgerImmutableError("Ledger entries cannot be updated; post a reversal and a new entry.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("Ledger entries cannot be deleted; post a reversal.")


class LedgerImmutableError(Exception):
    pass


class LedgerEntry(models.Model):
    """One posting in integer minor units. Payee NULL = an agreement-level posting (advance recouped, carry forward).

    Sign: positive is owed to the payee (or, agreement-level, reduces what payees receive); a payout is negative.
    """

    class Kind(models.TextChoices):
        EARNED = "earned", _("Earned")
        ADVANCE_RECOUPED = "advance_recouped", _("Advance recouped")
        ADJUSTMENT = "adjustment", _("Adjustment")
        CARRY_FORWARD = "carry_forward", _("Carried forward")
        PAYOUT = "payout", _("Payout")
        REVERSAL = "reversal", _("Reversal")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="ledger")
    payee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="royalty_postings"
    )
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="ledger")
    source_period = models.ForeignKey(
        Period, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="For adjustments."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    run = models.ForeignKey(RoyaltyRun, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    memo = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[LedgerEntry]] = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["agreement", "payee", "period"], name="rewards_ledger_agr_payee"),
            models.Index(fields=["period", "kind"], name="rewards_ledger_period_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="rewards_ledger_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(kind="reversal", reversal_of__isnull=False)
                | (~Q(kind="reversal") & Q(reversal_of__isnull=True)),
                name="rewards_ledger_reversal_points_back",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise LedgerImmutableError("Ledger entries cannot be updated; post a reversal and a new entry.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerImmutableError("Ledger entries cannot be deleted; post a reversal.")


class Payout(models.Model):
    """A payable balance turned into a payment: pending → approved → paid (with a reference), or held."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        HELD = "held", _("Held")

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="payouts")
    payee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="royalty_payouts")
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="payouts")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    hold_reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    ledger_entry = models.OneToOneField(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="rewards_payout_positive"),
            models.UniqueConstraint(
                fields=["agreement", "payee"], condition=~Q(status="paid"), name="rewards_payout_one_open"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(ledger_entry__isnull=False) & ~Q(reference="")),
                name="rewards_payout_paid_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payee} {self.amount_minor} {self.currency} {self.status}"
