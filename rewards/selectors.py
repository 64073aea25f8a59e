"""Reads of the rewards app: statements, balances and dashboard totals, all summed from the ledger in minor units."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from cocreate.errors import NotFoundError, PermissionDeniedError
from cocreate.models import User
from cocreate.roles import Role, has_role
from rewards import money
from rewards.models import Agreement, LedgerEntry, Payout, Period, RoyaltyResult, SalesLine, TermsPayee


def is_finance(user: Any) -> bool:
    return has_role(user, Role.FINANCE)


@dataclass
class Statement:
    """A payee's statement of account for one agreement and period, in minor units of ``currency``."""

    agreement: Agreement
    payee: User
    period: Period
    currency: str
    share_bp: int
    opening: int = 0
    earned: int = 0
    adjustments: int = 0
    recouped: int = 0
    paid: int = 0
    closing: int = 0
    payable: int = 0
    carried_forward: int = 0
    minimum_payout: int = 0

    AMOUNTS = ("opening", "earned", "adjustments", "recouped", "paid", "closing", "payable", "carried_forward")

    def amount(self, name: str) -> str:
        return money.format_minor(getattr(self, name), self.currency)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agreement": self.agreement.pk,
            "agreement_title": self.agreement.title,
            "idea_id": self.agreement.idea_id,
            "payee": self.payee.pk,
            "payee_name": self.payee.public_name,
            "period": self.period.code,
            "currency": self.currency,
            "share_bp": self.share_bp,
            **{name: self.amount(name) for name in self.AMOUNTS},
        }

    def sales_lines(self) -> QuerySet[SalesLine]:
        return SalesLine.objects.filter(period=self.period, agreement=self.agreement).select_related("adjusts")


@dataclass
class _Sums:
    before: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    during: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _kind(item: Mapping[str, Any]) -> str:
    """A reversal counts with the kind it reverses."""
    return str(item["reversal_of__kind"] or item["kind"])


def statements_for(*, period: Period, payee: User | None = None, agreement: Agreement | None = None) -> list[Statement]:
    """Statements for every (agreement, payee) with postings up to ``period`` or a share in it, optionally narrowed."""
    entries = LedgerEntry.objects.filter(period__start__lte=period.start)
    if payee is not None:
        theirs = TermsPayee.objects.filter(user=payee).values("terms__agreement_id")
        entries = entries.filter(Q(payee=payee) | Q(payee__isnull=True, agreement_id__in=theirs))
    if agreement is not None:
        entries = entries.filter(agreement=agreement)
    sums: dict[tuple[int, int | None], _Sums] = defaultdict(_Sums)
    for item in entries.values("agreement_id", "payee_id", "kind", "reversal_of__kind", "period_id").annotate(
        total=Sum("amount_minor")
    ):
        bucket = sums[(item["agreement_id"], item["payee_id"])]
        target = bucket.during if item["period_id"] == period.pk else bucket.before
        target[_kind(item)] += int(item["total"])
    keys = {(a, p) for a, p in sums if p is not None}
    shares = TermsPayee.objects.filter(terms__effective_from__lte=period.end).select_related("terms", "user")
    if payee is not None:
        shares = shares.filter(user=payee)
    if agreement is not None:
        shares = shares.filter(terms__agreement=agreement)
    current: dict[tuple[int, int], TermsPayee] = {}
    for share_row in shares.order_by("terms__effective_from"):
        current[(share_row.terms.agreement_id, share_row.user_id)] = share_row
    keys |= set(current)
    agreements = Agreement.objects.in_bulk({a for a, _p in keys})
    users = User.objects.in_bulk({p for _a, p in keys})
    statements = []
    for agreement_id, user_id in sorted(keys):
        agreement_row = agreements[agreement_id]
        terms = agreement_row.terms_on(period.end) or agreement_row.current_terms
        share_rows = list(terms.payees.all()) if terms else []
        share = next((s.share_bp for s in share_rows if s.user_id == user_id), 0)
        mine = sums.get((agreement_id, user_id), _Sums())
        pool = sums.get((agreement_id, None), _Sums())
        statement = Statement(
            agreement=agreement_row,
            payee=users[user_id],
            period=period,
            currency=agreement_row.currency,
            share_bp=share,
            minimum_payout=terms.minimum_payout_minor if terms else 0,
        )
        statement.opening = sum(mine.before.values())
        statement.earned = mine.during[LedgerEntry.Kind.EARNED]
        statement.adjustments = mine.during[LedgerEntry.Kind.ADJUSTMENT]
        statement.paid = mine.during[LedgerEntry.Kind.PAYOUT]
        statement.closing = statement.opening + sum(mine.during.values())
        recouped = pool.during[LedgerEntry.Kind.ADVANCE_RECOUPED]
        if recouped and share:
            # The payee's part of what the agreement kept back against its advance (information, not a posting).
            parts = money.split_by_shares(recouped, [s.share_bp for s in share_rows])
            statement.recouped = parts[[s.user_id for s in share_rows].index(user_id)]
        statement.payable = (
            statement.closing if statement.closing > 0 and statement.closing >= statement.minimum_payout else 0
        )
        statement.carried_forward = statement.closing - statement.payable
        statements.append(statement)
    return statements


def statement_get(*, viewer: User, agreement_id: int, payee_id: int, period: Period) -> Statement:
    """A single statement; finance sees any, a payee only their own."""
    if not is_finance(viewer) and viewer.pk != payee_id:
        raise PermissionDeniedError(_("You may only see your own statements."))
    payee = User.objects.filter(pk=payee_id).first()
    agreement = Agreement.objects.filter(pk=agreement_id).first()
    if payee is None or agreement is None:
        raise NotFoundError(_("No such statement."))
    found = [s for s in statements_for(period=period, payee=payee, agreement=agreement) if s.payee.pk == payee_id]
    if not found:
        raise NotFoundError(_("No such statement."))
    return found[0]


def totals_by_period(*, currency: str | None = None) -> list[dict[str, Any]]:
    """Royalty earned (rounded, agreement level) per period and currency, from the runs' working papers."""
    rows = RoyaltyResult.objects.values("period__code", "currency").annotate(total=Sum("royalty_minor"))
    if currency:
        rows = rows.filter(currency=currency)
    return [
        {"label": r["period__code"], "currency": r["currency"], "minor": int(r["total"])}
        for r in rows.order_by("period__start", "currency")
    ]


def totals_by_agreement() -> list[dict[str, Any]]:
    rows = (
        RoyaltyResult.objects.values("agreement_id", "agreement__title", "agreement__idea_id", "currency")
        .annotate(total=Sum("royalty_minor"))
        .order_by("-total")
    )
    return [
        {
            "label": r["agreement__title"],
            "idea_id": r["agreement__idea_id"],
            "agreement": r["agreement_id"],
            "currency": r["currency"],
            "minor": int(r["total"]),
        }
        for r in rows
    ]


def totals_by_payee() -> list[dict[str, Any]]:
    rows = (
        LedgerEntry.objects.filter(payee__isnull=False)
        .exclude(kind=LedgerEntry.Kind.PAYOUT)
        .exclude(reversal_of__kind=LedgerEntry.Kind.PAYOUT)
        .values("payee_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .order_by("-total")
    )
    users = User.objects.in_bulk({r["payee_id"] for r in rows})
    return [
        {"label": users[r["payee_id"]].public_name, "currency": r["currency"], "minor": int(r["total"])} for r in rows
    ]


def open_payouts() -> QuerySet[Payout]:
    return Payout.objects.exclude(status=Payout.Status.PAID).select_related("agreement", "payee", "period")


def agreements_for(user: User) -> QuerySet[Agreement]:
    """Finance sees every agreement; anyone else only those they are (or were) a payee of."""
    if is_finance(user):
        return Agreement.objects.all()
    return Agreement.objects.filter(terms__payees__user=user).distinct()
