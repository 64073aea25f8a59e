"""Every write of the rewards app: agreements and their terms, FX rates, sales imports, royalty runs, periods,
corrections and payouts.

Services authorise (finance only, unless stated) and raise ``DomainError`` subclasses whose messages are safe to show.
Money rules live in ``rewards.money``; this module only decides what to post.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cocreate.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from cocreate.models import User
from cocreate.outbox import task_enqueue_on_commit
from cocreate.roles import Role, has_role
from rewards import money
from rewards.models import (
    Agreement,
    AgreementProduct,
    AgreementTerms,
    AuditEntry,
    FxRate,
    LedgerEntry,
    Payout,
    Period,
    RoyaltyResult,
    RoyaltyRun,
    SalesImport,
    SalesLine,
    TermsPayee,
)

PERIOD_RE = re.compile(r"^(\d{4})-Q([1-4])$")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _require_finance(actor: User | None) -> None:
    if actor is None or not has_role(actor, Role.FINANCE):
        raise PermissionDeniedError(_("Only finance may do this."))


def _audit(agreement: Agreement, actor: User | None, action: str, **details: Any) -> None:
    AuditEntry.objects.create(agreement=agreement, actor=actor, action=action, details=details)


def default_currency() -> str:
    return str(getattr(settings, "ROYALTY_DEFAULT_CURRENCY", "EUR"))


# Periods ---------------------------------------------------------------------------------------------------------


def period_bounds(code: str) -> tuple[datetime.date, datetime.date]:
    match = PERIOD_RE.match(code.strip())
    if not match:
        raise DomainError(_("“%(code)s” is not a period: write a calendar quarter like 2026-Q3.") % {"code": code})
    year, quarter = int(match[1]), int(match[2])
    start = datetime.date(year, 3 * quarter - 2, 1)
    end = datetime.date(year + 1, 1, 1) if quarter == 4 else datetime.date(year, 3 * quarter + 1, 1)
    return start, end - datetime.timedelta(days=1)


def period_code_for(day: datetime.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def period_get_or_create(code: str) -> Period:
    start, end = period_bounds(code)
    period, _created = Period.objects.get_or_create(code=code.strip(), defaults={"start": start, "end": end})
    return period


def period_get(code: str) -> Period:
    period_bounds(code)
    try:
        return Period.objects.get(code=code.strip())
    except Period.DoesNotExist:
        raise NotFoundError(_("There is no period %(code)s yet.") % {"code": code}) from None


def period_next_open(after: Period) -> Period:
    """The first period after ``after`` that is not closed (created if needed)."""
    day = after.end + datetime.timedelta(days=1)
    while True:
        period = period_get_or_create(period_code_for(day))
        if period.state != Period.State.CLOSED:
            return period
        day = period.end + datetime.timedelta(days=1)


def period_posting(today: datetime.date | None = None) -> Period:
    """The period new postings (payouts, corrections) go into: today's quarter, or the next open one after it."""
    period = period_get_or_create(period_code_for(today or timezone.localdate()))
    return period if period.state != Period.State.CLOSED else period_next_open(period)


@transaction.atomic
def period_close(*, actor: User | None, period: str) -> Period:
    """Close a calculated period for good. Expects no lock; takes the period's row lock by a conditional update."""
    _require_finance(actor)
    row = period_get(period)
    if row.state == Period.State.CLOSED:
        raise ConflictError(_("Period %(code)s is already closed.") % {"code": row.code})
    if row.state != Period.State.CALCULATED:
        raise DomainError(
            _("Run period %(code)s (again) before closing it: it has sales that are not calculated.")
            % {"code": row.code}
        )
    earlier = (
        Period.objects.filter(start__lt=row.start)
        .exclude(state=Period.State.CLOSED)
        .filter(Q(sales_lines__isnull=False) | Q(ledger__isnull=False))
        .order_by("start")
        .first()
    )
    if earlier is not None:
        raise DomainError(_("Close %(code)s first: periods close in order.") % {"code": earlier.code})
    changed = Period.objects.filter(pk=row.pk, state=Period.State.CALCULATED).update(
        state=Period.State.CLOSED, closed_at=timezone.now(), closed_by=actor
    )
    if not changed:
        raise ConflictError(_("Period %(code)s changed meanwhile; try again.") % {"code": row.code})
    row.refresh_from_db()
    return row


# Agreements ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermsInput:
    effective_from: datetime.date
    rate_bp: int = 100
    tiers: list[dict[str, Any]] = field(default_factory=list)
    rounding: str = money.Rounding.HALF_UP
    minimum_payout: Decimal = Decimal(0)
    advance: Decimal = Decimal(0)


def _terms_validate(terms: TermsInput, currency: str) -> tuple[int, int]:
    """Check the terms and return (minimum payout, advance) in minor units."""
    if not money.is_currency(currency):
        raise DomainError(_("Unknown currency “%(code)s”: use an ISO 4217 code such as EUR.") % {"code": currency})
    if terms.rounding not in (money.Rounding.HALF_UP, money.Rounding.HALF_EVEN):
        raise DomainError(_("Rounding must be half_up or half_even."))
    try:
        money.tiers_parse(terms.tiers, default_rate_bp=terms.rate_bp)
        minimum = money.exact_minor(terms.minimum_payout, currency)
        advance = money.exact_minor(terms.advance, currency)
    except money.MoneyError as error:
        raise DomainError(str(error)) from None
    if minimum < 0 or advance < 0:
        raise DomainError(_("Minimum payout and advance cannot be negative."))
    return minimum, advance


def _payees_validate(payees: Sequence[tuple[User, int]]) -> None:
    users = [user.pk for user, _share in payees]
    if len(set(users)) != len(users):
        raise DomainError(_("A payee is listed twice."))
    try:
        money.shares_validate([share for _user, share in payees])
    except money.MoneyError:
        total = sum(share for _user, share in payees)
        raise DomainError(
            _("Payee shares must be positive and sum to exactly 10,000 basis points (these sum to %(total)s).")
            % {"total": total}
        ) from None


def _terms_create(
    *,
    agreement: Agreement,
    actor: User | None,
    terms: TermsInput,
    payees: Sequence[tuple[User, int]],
    consented: dict[int, datetime.datetime] | None = None,
) -> AgreementTerms:
    minimum, advance = _terms_validate(terms, agreement.currency)
    if payees:
        _payees_validate(payees)
    closed = Period.objects.filter(state=Period.State.CLOSED, end__gte=terms.effective_from).first()
    if closed is not None:
        raise DomainError(
            _("Terms cannot take effect inside closed period %(code)s; choose a date after it.") % {"code": closed.code}
        )
    if agreement.terms.filter(effective_from=terms.effective_from).exists():
        raise ConflictError(_("A terms version already takes effect on that date; choose another date."))
    version = (agreement.terms.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    row = AgreementTerms.objects.create(
        agreement=agreement,
        version=version,
        effective_from=terms.effective_from,
        rate_bp=terms.rate_bp,
        tiers=terms.tiers,
        rounding=terms.rounding,
        minimum_payout_minor=minimum,
        advance_minor=advance,
        created_by=actor,
    )
    TermsPayee.objects.bulk_create(
        TermsPayee(
            terms=row,
            user=user,
            position=position,
            share_bp=share,
            consented_at=(consented or {}).get(user.pk),
        )
        for position, (user, share) in enumerate(payees)
    )
    _audit(
        agreement,
        actor,
        "terms_version",
        version=version,
        effective_from=terms.effective_from.isoformat(),
        rate_bp=terms.rate_bp,
        tiers=terms.tiers,
        rounding=terms.rounding,
        minimum_payout_minor=minimum,
        advance_minor=advance,
        payees=[{"user": user.pk, "share_bp": share} for user, share in payees],
    )
    return row


def _products_add(agreement: Agreement, actor: User | None, codes: Iterable[str], *, strict: bool) -> list[str]:
    added = []
    for raw in codes:
        code = raw.strip()
        if not code:
            continue
        owner = AgreementProduct.objects.filter(code=code).select_related("agreement").first()
        if owner is not None and owner.agreement_id != agreement.pk:
            if strict:
                raise ConflictError(
                    _("Product code %(code)s already belongs to agreement “%(title)s”.")
                    % {"code": code, "title": owner.agreement.title}
                )
            _audit(agreement, actor, "product_code_conflict", code=code, other_agreement=owner.agreement_id)
            continue
        if owner is None:
            AgreementProduct.objects.create(agreement=agreement, code=code)
            added.append(code)
    if added:
        _audit(agreement, actor, "products_added", codes=added)
    return added


def agreement_draft_open(
    *, idea_id: int, title: str, product_codes: list[str], launch_date: datetime.date | None, creator_ids: list[int]
) -> Agreement:
    """Open the draft agreement for a commercialised idea (called by the ideas app on commit).

    Idempotent per ``idea_id``: a second call returns the existing agreement and changes nothing. Payees are the
    creator then the accepted co-creators, in equal shares (largest remainder over 10,000 bp), consent pending.
    A product code already held by another agreement is skipped and noted in the audit trail.
    """
    existing = Agreement.objects.filter(idea_id=idea_id).first()
    if existing is not None:
        return existing
    ordered_ids = list(dict.fromkeys(creator_ids))
    users = {user.pk: user for user in User.objects.filter(pk__in=ordered_ids)}
    payees = [users[pk] for pk in ordered_ids if pk in users]
    shares = money.equal_shares_bp(len(payees)) if payees else []
    try:
        with transaction.atomic():
            agreement = Agreement.objects.create(
                idea_id=idea_id,
                title=title[:200],
                currency=default_currency(),
                launch_date=launch_date,
            )
            _audit(agreement, None, "draft_opened", idea_id=idea_id, title=title, product_codes=product_codes)
            _products_add(agreement, None, product_codes, strict=False)
            _terms_create(
                agreement=agreement,
                actor=None,
                terms=TermsInput(effective_from=launch_date or timezone.localdate()),
                payees=list(zip(payees, shares, strict=True)),
            )
    except IntegrityError:
        # A concurrent call for the same idea won the unique idea_id: return its agreement.
        winner = Agreement.objects.filter(idea_id=idea_id).first()
        if winner is None:
            raise
        return winner
    return agreement


@transaction.atomic
def agreement_create(
    *,
    actor: User | None,
    title: str,
    currency: str,
    terms: TermsInput,
    payees: Sequence[tuple[User, int]],
    product_codes: Sequence[str],
    idea_id: int | None = None,
    launch_date: datetime.date | None = None,
) -> Agreement:
    """Enter an agreement by hand; it is active at once (its payees must still each consent)."""
    _require_finance(actor)
    currency = currency.strip().upper()
    _terms_validate(terms, currency)
    if not payees:
        raise DomainError(_("An agreement needs at least one payee."))
    _payees_validate(payees)
    if idea_id is not None and Agreement.objects.filter(idea_id=idea_id).exists():
        raise ConflictError(_("That idea already has an agreement."))
    agreement = Agreement.objects.create(
        title=title.strip()[:200],
        currency=currency,
        idea_id=idea_id,
        launch_date=launch_date,
        status=Agreement.Status.ACTIVE,
    )
    _audit(agreement, actor, "created", title=agreement.title, currency=currency)
    _products_add(agreement, actor, product_codes, strict=True)
    _terms_create(agreement=agreement, actor=actor, terms=terms, payees=payees)
    return agreement


@transaction.atomic
def agreement_terms_change(
    *, actor: User | None, agreement: Agreement, terms: TermsInput, payees: Sequence[tuple[User, int]] | None = None
) -> AgreementTerms:
    """Add a terms version (the old ones stay). Payees default to the current ones; consent carries over only for
    a payee whose share is unchanged."""
    _require_finance(actor)
    current = agreement.current_terms
    previous = {p.user_id: p for p in current.payees.all()} if current else {}
    if payees is None:
        payees = [(p.user, p.share_bp) for p in current.payees.select_related("user")] if current else []
    consented = {
        user.pk: previous[user.pk].consented_at
        for user, share in payees
        if user.pk in previous and previous[user.pk].share_bp == share and previous[user.pk].consented_at
    }
    return _terms_create(
        agreement=agreement,
        actor=actor,
        terms=terms,
        payees=payees,
        consented={k: v for k, v in consented.items() if v is not None},
    )


@transaction.atomic
def agreement_update(
    *, actor: User | None, agreement: Agreement, title: str | None = None, currency: str | None = None
) -> Agreement:
    _require_finance(actor)
    changes: dict[str, Any] = {}
    if title is not None and title.strip() and title.strip() != agreement.title:
        changes["title"] = [agreement.title, title.strip()[:200]]
        agreement.title = title.strip()[:200]
    if currency is not None and currency.strip().upper() != agreement.currency:
        code = currency.strip().upper()
        if not money.is_currency(code):
            raise DomainError(_("Unknown currency “%(code)s”: use an ISO 4217 code such as EUR.") % {"code": code})
        if agreement.ledger.exists() or agreement.sales_lines.exists():
            raise DomainError(_("The currency cannot change once sales or postings exist."))
        changes["currency"] = [agreement.currency, code]
        agreement.currency = code
    if changes:
        agreement.save()
        _audit(agreement, actor, "updated", **changes)
    return agreement


@transaction.atomic
def agreement_products_add(*, actor: User | None, agreement: Agreement, codes: Sequence[str]) -> list[str]:
    _require_finance(actor)
    return _products_add(agreement, actor, codes, strict=True)


@transaction.atomic
def agreement_activate(*, actor: User | None, agreement: Agreement) -> Agreement:
    """Finance completes a draft: it needs a currency, product codes and payees whose shares sum to 10,000."""
    _require_finance(actor)
    terms = agreement.current_terms
    payees = list(terms.payees.all()) if terms else []
    if not payees:
        raise DomainError(_("Add at least one payee before activating."))
    try:
        money.shares_validate([p.share_bp for p in payees])
    except money.MoneyError as error:
        raise DomainError(str(error)) from None
    if not agreement.products.exists():
        raise DomainError(_("Add at least one product code before activating."))
    if agreement.status != Agreement.Status.ACTIVE:
        agreement.status = Agreement.Status.ACTIVE
        agreement.save(update_fields=["status"])
        _audit(agreement, actor, "activated")
    return agreement


@transaction.atomic
def payee_consent(*, user: User, agreement: Agreement) -> TermsPayee:
    """The payee accepts their share under the current terms. Only the payee may consent; idempotent."""
    terms = agreement.current_terms
    row = terms.payees.filter(user=user).first() if terms else None
    if row is None:
        raise PermissionDeniedError(_("You are not a payee of this agreement."))
    if row.consented_at is None:
        row.consented_at = timezone.now()
        row.save(update_fields=["consented_at"])
        _audit(agreement, user, "payee_consented", version=terms.version if terms else None, share_bp=row.share_bp)
    return row


# FX rates --------------------------------------------------------------------------------------------------------


@transaction.atomic
def fx_rate_set(*, actor: User | None, period: str, from_currency: str, to_currency: str, rate: Decimal) -> FxRate:
    """Record the period-end rate (1 ``from`` = ``rate`` ``to``). A closed period's rates never change."""
    _require_finance(actor)
    source, target = from_currency.strip().upper(), to_currency.strip().upper()
    for code in (source, target):
        if not money.is_currency(code):
            raise DomainError(_("Unknown currency “%(code)s”: use an ISO 4217 code such as EUR.") % {"code": code})
    if source == target:
        raise DomainError(_("A rate needs two different currencies."))
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise DomainError(_("A rate must be a positive decimal number."))
    if rate != rate.quantize(Decimal("0.00000001")) or len(rate.normalize().as_tuple().digits) > 15:
        raise DomainError(_("A rate may have at most 8 decimal places and 15 digits."))
    row = period_get_or_create(period)
    if row.state == Period.State.CLOSED:
        raise DomainError(_("Period %(code)s is closed; its rates cannot change.") % {"code": row.code})
    fx, created = FxRate.objects.get_or_create(
        period=row, from_currency=source, to_currency=target, defaults={"rate": rate, "created_by": actor}
    )
    if not created and fx.rate != rate:
        # The old figures stay in the ledger until the period is run again (reversal + new entries).
        FxRate.objects.filter(pk=fx.pk).update(rate=rate, created_by=actor)
        fx.refresh_from_db()
        Period.objects.filter(pk=row.pk, state=Period.State.CALCULATED).update(state=Period.State.OPEN)
    return fx


# Sales imports ---------------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("product_code", "month", "currency", "gross_sales", "returns", "discounts")
OPTIONAL_COLUMNS = ("territory", "channel", "line_id")
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class SalesImportError(DomainError):
    """An import was refused; ``errors`` lists every problem by row (1 = header) and column."""

    def __init__(self, message: str, errors: list[RowError], sales_import: SalesImport | None = None) -> None:
        super().__init__(message, code="invalid_import")
        self.errors = errors
        self.sales_import = sales_import


def _decode(content: bytes) -> str:
    if not content.strip():
        raise SalesImportError(_("The file is empty."), [RowError(1, "", _("The file is empty."))])
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = _("The file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as CSV UTF-8.")
        raise SalesImportError(message, [RowError(1, "", message)])
    try:
        # A UTF-8 byte-order mark (Excel's “CSV UTF-8”) is unambiguous, so it is accepted and dropped.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        message = _("The file is not UTF-8 text (first bad byte on line %(line)s); save it as CSV UTF-8.") % {
            "line": line
        }
        raise SalesImportError(message, [RowError(line, "", message)]) from None


def _header(fields: list[str]) -> tuple[list[str], list[RowError]]:
    names = [name.strip().lower() for name in fields]
    errors = []
    if len(names) == 1 and (";" in names[0] or "\t" in names[0] or "|" in names[0]):
        errors.append(RowError(1, "", _("Columns must be separated by commas, not semicolons, tabs or bars.")))
        return names, errors
    missing = [col for col in REQUIRED_COLUMNS if col not in names]
    unknown = [col for col in names if col not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    duplicated = sorted({col for col in names if names.count(col) > 1})
    if missing:
        errors.append(RowError(1, ", ".join(missing), _("Missing column(s): %(cols)s.") % {"cols": ", ".join(missing)}))
    if unknown:
        errors.append(RowError(1, ", ".join(unknown), _("Unknown column(s): %(cols)s.") % {"cols": ", ".join(unknown)}))
    if duplicated:
        errors.append(
            RowError(1, ", ".join(duplicated), _("Repeated column(s): %(cols)s.") % {"cols": ", ".join(duplicated)})
        )
    return names, errors


@dataclass
class _ParsedLine:
    row: int
    agreement_id: int
    product_code: str
    month: datetime.date
    currency: str
    gross: int
    returns: int
    discounts: int
    territory: str
    channel: str
    line_key: str


def sales_import_csv(*, actor: User | None, file_name: str, content: bytes) -> SalesImport:
    """Import net sales from CSV, all or nothing, in this process (the API and the shell command).

    Columns ``product_code, month (YYYY-MM), currency, gross_sales, returns, discounts`` and optionally ``territory,
    channel, line_id``. Any bad row rejects the whole file with every error listed (``SalesImportError``); the same
    file twice, or a line key seen before, is refused. Lines for a closed quarter are booked into the next open one as
    adjustments pointing at the original line. Progress is written to the import row while rows are checked.
    """
    record, text = _import_begin(actor=actor, file_name=file_name, content=content)
    return sales_import_process(record=record, text=text)


def sales_import_start(*, actor: User | None, file_name: str, content: bytes) -> SalesImport:
    """Check the file's encoding and novelty now, then import it in a Celery task (on commit); the import row shows
    status and progress meanwhile. Used by the upload page, so a long file does not hold the browser's request."""
    record, _text = _import_begin(actor=actor, file_name=file_name, content=content)
    from rewards.tasks import sales_import_task

    task_enqueue_on_commit(task=sales_import_task, kwargs={"import_id": record.pk})
    return record


def _import_begin(*, actor: User | None, file_name: str, content: bytes) -> tuple[SalesImport, str]:
    _require_finance(actor)
    digest = hashlib.sha256(content).hexdigest()
    earlier = SalesImport.objects.exclude(status=SalesImport.Status.FAILED).filter(file_hash=digest).first()
    if earlier is not None:
        raise ConflictError(
            _("This file was already imported (import #%(id)s, %(when)s).")
            % {"id": earlier.pk, "when": earlier.created_at.strftime("%Y-%m-%d %H:%M")},
            code="duplicate_file",
        )
    text = _decode(content)
    try:
        with transaction.atomic():
            record = SalesImport.objects.create(
                file_name=file_name[:255], file_hash=digest, created_by=actor, source=content
            )
    except IntegrityError:
        raise ConflictError(_("This file is being imported right now."), code="duplicate_file") from None
    return record, text


def sales_import_process(*, record: SalesImport, text: str | None = None) -> SalesImport:
    """Validate and store an import begun by ``_import_begin``; on any problem the row records every error."""
    if text is None:
        text = _decode(bytes(record.source or b""))
    try:
        parsed = _sales_validate(record, text)
        _sales_store(record, parsed)
    except SalesImportError as error:
        SalesImport.objects.filter(pk=record.pk).update(
            status=SalesImport.Status.FAILED, errors=[e.as_dict() for e in error.errors], finished_at=timezone.now()
        )
        record.refresh_from_db()
        error.sales_import = record
        raise
    except IntegrityError:
        # Another import stored the same line keys between our checks and our insert.
        message = _("Another import stored the same lines at the same moment; nothing was imported.")
        SalesImport.objects.filter(pk=record.pk).update(
            status=SalesImport.Status.FAILED, errors=[RowError(0, "", message).as_dict()], finished_at=timezone.now()
        )
        raise ConflictError(message) from None
    record.refresh_from_db()
    return record


def _sales_validate(record: SalesImport, text: str) -> list[_ParsedLine]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise SalesImportError(_("The file is empty."), [RowError(1, "", _("The file is empty."))])
    names, errors = _header(rows[0])
    if errors:
        raise SalesImportError(_("The header row is not right."), errors)
    if len(rows) == 1:
        raise SalesImportError(_("The file has a header but no sales rows."), [RowError(2, "", _("No rows."))])
    SalesImport.objects.filter(pk=record.pk).update(rows_total=len(rows) - 1)

    products = dict(AgreementProduct.objects.values_list("code", "agreement_id"))
    currencies = dict(Agreement.objects.values_list("pk", "currency"))
    rates = {(p, f, t) for p, f, t in FxRate.objects.values_list("period__code", "from_currency", "to_currency")}
    seen_keys: dict[str, int] = {}
    parsed: list[_ParsedLine] = []
    for number, cells in enumerate(rows[1:], start=2):
        if number % PROGRESS_EVERY == 0:
            SalesImport.objects.filter(pk=record.pk).update(rows_done=number - 1)
        if not any(cell.strip() for cell in cells):
            errors.append(RowError(number, "", _("Empty row.")))
            continue
        if len(cells) != len(names):
            joined = ",".join(cells)
            hint = (
                _(" It seems to use another separator (; or tab); use commas throughout.")
                if (";" in joined or "\t" in joined)
                else ""
            )
            errors.append(
                RowError(
                    number,
                    "",
                    _("Expected %(want)s columns, found %(got)s.") % {"want": len(names), "got": len(cells)} + hint,
                )
            )
            continue
        values = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
        line = _sales_row(number, values, products, currencies, rates, errors)
        if line is None:
            continue
        if line.line_key in seen_keys:
            errors.append(
                RowError(
                    number,
                    "line_id" if values.get("line_id") else "product_code",
                    _("The same line appears on row %(row)s.") % {"row": seen_keys[line.line_key]},
                )
            )
            continue
        seen_keys[line.line_key] = number
        parsed.append(line)

    keys = list(seen_keys)
    for start in range(0, len(keys), 500):
        for key in SalesLine.objects.filter(line_key__in=keys[start : start + 500]).values_list("line_key", flat=True):
            errors.append(
                RowError(
                    seen_keys[key],
                    "line_id" if "line_id" in names else "product_code",
                    _("This line was imported before (key %(key)s).") % {"key": key},
                )
            )
    SalesImport.objects.filter(pk=record.pk).update(rows_done=len(rows) - 1)
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        raise SalesImportError(
            _("The file was not imported: %(count)s problem(s). Nothing was changed.") % {"count": len(errors)}, errors
        )
    return parsed


def _sales_row(
    number: int,
    values: dict[str, str],
    products: dict[str, int],
    currencies: dict[int, str],
    rates: set[tuple[str, str, str]],
    errors: list[RowError],
) -> _ParsedLine | None:
    before = len(errors)
    code = values["product_code"]
    agreement_id = products.get(code)
    if not code:
        errors.append(RowError(number, "product_code", _("Missing product code.")))
    elif agreement_id is None:
        errors.append(
            RowError(
                number, "product_code", _("Unknown product code %(code)s: no agreement covers it.") % {"code": code}
            )
        )
    month_match = MONTH_RE.match(values["month"])
    month = datetime.date(int(month_match[1]), int(month_match[2]), 1) if month_match else None
    if month is None:
        errors.append(
            RowError(number, "month", _("“%(value)s” is not a month: write YYYY-MM.") % {"value": values["month"]})
        )
    currency = values["currency"].upper()
    if not money.is_currency(currency):
        errors.append(RowError(number, "currency", _("Unknown currency “%(code)s”.") % {"code": values["currency"]}))
    amounts: dict[str, int] = {}
    for column in ("gross_sales", "returns", "discounts"):
        try:
            amount = money.parse_amount(values[column])
            if amount < 0:
                raise money.MoneyError(_("must not be negative (write returns and discounts as positive amounts)."))
            if money.is_currency(currency):
                amounts[column] = money.exact_minor(amount, currency)
        except money.MoneyError as error:
            errors.append(RowError(number, column, str(error)))
    if len(errors) > before or month is None or agreement_id is None:
        return None
    target = currencies[agreement_id]
    source_period = period_code_for(month)
    if currency != target and (source_period, currency, target) not in rates:
        errors.append(
            RowError(
                number,
                "currency",
                _("No %(from)s→%(to)s rate for %(period)s: enter the period-end rate first.")
                % {"from": currency, "to": target, "period": source_period},
            )
        )
        return None
    territory, channel = values.get("territory", ""), values.get("channel", "")
    key = values.get("line_id") or "|".join((code, month.strftime("%Y-%m"), currency, territory, channel))
    return _ParsedLine(
        row=number,
        agreement_id=agreement_id,
        product_code=code,
        month=month,
        currency=currency,
        gross=amounts["gross_sales"],
        returns=amounts["returns"],
        discounts=amounts["discounts"],
        territory=territory[:64],
        channel=channel[:64],
        line_key=key[:255],
    )


@transaction.atomic
def _sales_store(record: SalesImport, parsed: list[_ParsedLine]) -> None:
    periods: dict[str, Period] = {}
    reopened: set[int] = set()

    def locked(period: Period) -> Period:
        if period.code not in periods:
            periods[period.code] = Period.objects.select_for_update().get(pk=period.pk)
        return periods[period.code]

    def booking(month: datetime.date) -> tuple[Period, bool]:
        own = locked(period_get_or_create(period_code_for(month)))
        if own.state == Period.State.CLOSED:
            return locked(period_next_open(own)), True
        return own, False

    # Lock the quarters the lines book into (in one order, so imports do not deadlock each other): a royalty run of
    # one of them then either sees these lines or has committed first, and is sent back to open below.
    for code in sorted({period_code_for(item.month) for item in parsed}):
        locked(period_get_or_create(code))

    lines = []
    for item in parsed:
        period, late = booking(item.month)
        original = None
        if late:
            original = (
                SalesLine.objects.filter(
                    product_code=item.product_code,
                    month=item.month,
                    currency=item.currency,
                    territory=item.territory,
                    channel=item.channel,
                    is_late=False,
                )
                .order_by("pk")
                .first()
            )
        if period.state == Period.State.CALCULATED:
            reopened.add(period.pk)
        lines.append(
            SalesLine(
                sales_import=record,
                row_number=item.row,
                agreement_id=item.agreement_id,
                product_code=item.product_code,
                month=item.month,
                period=period,
                currency=item.currency,
                gross_minor=item.gross,
                returns_minor=item.returns,
                discounts_minor=item.discounts,
                net_minor=item.gross - item.returns - item.discounts,
                territory=item.territory,
                channel=item.channel,
                line_key=item.line_key,
                is_late=late,
                adjusts=original,
            )
        )
    SalesLine.objects.bulk_create(lines, batch_size=2000)
    # New sales in a calculated period send it back to open: it must be run again before it can close.
    Period.objects.filter(pk__in=reopened, state=Period.State.CALCULATED).update(state=Period.State.OPEN)
    SalesImport.objects.filter(pk=record.pk).update(
        status=SalesImport.Status.COMPLETED, rows_done=len(parsed), finished_at=timezone.now()
    )


# Royalty runs ----------------------------------------------------------------------------------------------------


@transaction.atomic
def royalty_run_start(*, actor: User | None, period: str) -> RoyaltyRun:
    """Queue a run (the Celery task does the work on commit). Refused for a closed period."""
    _require_finance(actor)
    row = period_get_or_create(period)
    if row.state == Period.State.CLOSED:
        raise DomainError(_("Period %(code)s is closed; it cannot be run again.") % {"code": row.code})
    if RoyaltyRun.objects.filter(period=row, status__in=[RoyaltyRun.Status.QUEUED, RoyaltyRun.Status.RUNNING]).exists():
        raise ConflictError(_("A run for %(code)s is already under way.") % {"code": row.code})
    run = RoyaltyRun.objects.create(period=row, created_by=actor)
    from rewards.tasks import royalty_run_task

    task_enqueue_on_commit(task=royalty_run_task, kwargs={"run_id": run.pk})
    return run


@dataclass
class _Group:
    """Net sales of one agreement in the period, for one source quarter (its own, or an earlier one for late lines)."""

    source_code: str
    late: bool
    months: dict[datetime.date, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class _Posting:
    payee_id: int | None
    kind: str
    source_period_id: int | None
    amount: int


@dataclass(frozen=True)
class _AgreementRow:
    pk: int
    title: str
    currency: str
    status: str


@dataclass(frozen=True)
class _TermsRow:
    """One terms version as the run needs it: tiers parsed once, payees as (user id, share) in position order."""

    effective_from: datetime.date
    tiers: list[money.Tier]
    rounding: str
    advance_minor: int
    payees: list[tuple[int, int]]


@dataclass(frozen=True)
class _Result:
    """A working paper (``RoyaltyResult``) as plain values, in the order of ``_RESULT_FIELDS``."""

    source_period_id: int
    currency: str
    net_sales: str
    royalty_exact: str
    royalty_minor: int
    recouped_minor: int
    carried_minor: int
    distributed_minor: int

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _RESULT_FIELDS)


_RESULT_FIELDS = (
    "currency",
    "net_sales",
    "royalty_exact",
    "royalty_minor",
    "recouped_minor",
    "carried_minor",
    "distributed_minor",
)


@dataclass
class _Plan:
    """What a run wants for one agreement: its postings and its results (one per source quarter)."""

    agreement: _AgreementRow
    postings: list[_Posting]
    results: list[_Result]


class RoyaltyRunInvalidError(DomainError):
    """A run refused before anything was posted; ``problems`` holds every reason found, one sentence each."""

    SHOWN = 50

    def __init__(self, period: Period, problems: list[str]) -> None:
        lines = [
            _("Period %(code)s was not run: %(count)s problem(s) to fix first. Nothing was posted.")
            % {"code": period.code, "count": len(problems)}
        ]
        lines += [f"• {problem}" for problem in problems[: self.SHOWN]]
        if len(problems) > self.SHOWN:
            lines.append(_("… and %(count)s more.") % {"count": len(problems) - self.SHOWN})
        super().__init__("\n".join(lines), code="invalid_run")
        self.problems = problems


PROGRESS_SECONDS = 1.0


def royalty_run(*, period: str, run: RoyaltyRun | None = None) -> RoyaltyRun:
    """Calculate a period and post it to the ledger, all or nothing. Safe to repeat: a second run with the same
    inputs posts nothing and rewrites nothing.

    First every input is read and checked (agreements active, terms and payees present, shares summing to 10,000,
    tiers valid, an FX rate for every currency met): any problem fails the run with all of them listed, before
    anything is posted. Net sales are summed by the database as integer minor units (exact on SQLite and
    PostgreSQL) in one aggregate query, converted at the period-end rate at full Decimal precision, multiplied by
    the tiered rate, rounded once per agreement and source period with the agreement's mode; a deficit carries
    forward, the advance is recouped, the rest is split by largest remainder.

    Then everything is posted in one transaction holding the period's row lock (``select_for_update``): either the
    whole period posts or nothing does. Postings that differ from a previous run's are reversed and posted anew. If
    any input changed while the run was reading, it reads again under the lock, so a concurrent run of the same
    period waits and then posts nothing.
    """
    row = period_get_or_create(period)
    if row.state == Period.State.CLOSED:
        raise DomainError(_("Period %(code)s is closed; it cannot be run again.") % {"code": row.code})
    if run is None:
        run = RoyaltyRun.objects.create(period=row)
    RoyaltyRun.objects.filter(pk=run.pk).update(
        status=RoyaltyRun.Status.RUNNING, error="", problems=[], agreements_done=0, entries_posted=0
    )
    try:
        marks = _input_marks()
        plans = _run_plan(row, run)
        with transaction.atomic():
            locked = Period.objects.select_for_update().get(pk=row.pk)
            if locked.state == Period.State.CLOSED:
                raise DomainError(_("Period %(code)s was closed meanwhile.") % {"code": row.code})
            if _input_marks() != marks:
                plans = _run_plan(locked, run)
            posted = _run_post(locked, run, plans)
            Period.objects.filter(pk=row.pk, state=Period.State.OPEN).update(
                state=Period.State.CALCULATED, calculated_at=timezone.now()
            )
            if posted:
                # Later periods carried this one's balances forward: they must be run again before they can close.
                Period.objects.filter(start__gt=row.start, state=Period.State.CALCULATED).update(
                    state=Period.State.OPEN
                )
            RoyaltyRun.objects.filter(pk=run.pk).update(
                status=RoyaltyRun.Status.DONE, entries_posted=posted, finished_at=timezone.now()
            )
    except DomainError as error:
        RoyaltyRun.objects.filter(pk=run.pk).update(
            status=RoyaltyRun.Status.FAILED,
            error=error.message,
            problems=error.problems if isinstance(error, RoyaltyRunInvalidError) else [error.message],
            entries_posted=0,
            finished_at=timezone.now(),
        )
        raise
    except Exception:
        RoyaltyRun.objects.filter(pk=run.pk).update(
            status=RoyaltyRun.Status.FAILED,
            error=_("Unexpected error; see the server log. Nothing was posted."),
            entries_posted=0,
            finished_at=timezone.now(),
        )
        raise
    run.refresh_from_db()
    return run


def _input_marks() -> tuple[Any, ...]:
    """A cheap fingerprint of everything a run reads besides the period's own row: the newest sales line, agreement,
    terms version, payee row and posting, the number of active agreements, the last finished run, and the FX rates.
    Equal marks before and under the lock mean the plan made without the lock still holds. Imports lock the
    periods they book into, so their lines are either seen here or wait for the run's commit (and then send the
    period back to open)."""
    quote = connection.ops.quote_name
    newest = ", ".join(
        f"(SELECT MAX(id) FROM {quote(model._meta.db_table)})"  # noqa: S608 - model names
        for model in (SalesLine, Agreement, AgreementTerms, TermsPayee, LedgerEntry)
    )
    agreements, runs = quote(Agreement._meta.db_table), quote(RoyaltyRun._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {newest}, (SELECT COUNT(*) FROM {agreements} WHERE status = %s), "  # noqa: S608 - model names
            f"(SELECT MAX(finished_at) FROM {runs})",
            [Agreement.Status.ACTIVE],
        )
        row = cursor.fetchone()
    rates = tuple(FxRate.objects.order_by("pk").values_list("pk", "rate"))
    return (*row, rates)


def _run_plan(period: Period, run: RoyaltyRun) -> list[_Plan]:
    """Read and check every input and decide every posting, or raise ``RoyaltyRunInvalidError`` listing every
    problem. Reads only, in a fixed number of queries. Memory grows with the number of agreements and payees, never
    with the sales lines."""
    sums = _sales_sums(period)
    agreement_ids = sorted(sums)
    RoyaltyRun.objects.filter(pk=run.pk).update(agreements_total=len(agreement_ids), agreements_done=0)
    rates = {
        (code, f, t): rate
        for code, f, t, rate in FxRate.objects.values_list("period__code", "from_currency", "to_currency", "rate")
    }
    period_ids = dict(Period.objects.values_list("code", "pk"))
    agreements = {
        pk: _AgreementRow(pk, title, currency, status)
        for pk, title, currency, status in Agreement.objects.values_list("pk", "title", "currency", "status")
    }
    terms_by_agreement, terms_problems = _terms_load(agreements)
    prior = _prior_state(period)
    problems: list[str] = []
    plans: list[_Plan] = []
    reported = time.monotonic()
    for done, pk in enumerate(agreement_ids, start=1):
        agreement = agreements[pk]
        terms_list = terms_by_agreement.get(pk, [])
        found = terms_problems.get(pk, []) + _agreement_check(agreement, period, terms_list)
        groups = _groups_convert(agreement, sums[pk], rates, found)
        problems.extend(found)
        if not problems:  # after the first problem, keep checking but plan nothing more: the run will not post
            postings, results = _agreement_plan(
                agreement, period, groups, terms_list, prior.get(pk, _PRIOR_NONE), period_ids
            )
            plans.append(_Plan(agreement, postings, results))
        if time.monotonic() - reported > PROGRESS_SECONDS:
            RoyaltyRun.objects.filter(pk=run.pk).update(agreements_done=done)
            reported = time.monotonic()
    RoyaltyRun.objects.filter(pk=run.pk).update(agreements_done=len(agreement_ids))
    if problems:
        raise RoyaltyRunInvalidError(period, list(dict.fromkeys(problems)))
    return plans


def _sales_sums(period: Period) -> dict[int, list[tuple[datetime.date, str, bool, int]]]:
    """Net sales of the period per agreement as (month, currency, late, net minor units), summed by the database in
    one aggregate query: exact (integers), and the result has one row per group, not per line.

    Not ``.iterator()``: on PostgreSQL that opens a server-side cursor, which rules out a parallel aggregate.
    """
    result: dict[int, list[tuple[datetime.date, str, bool, int]]] = defaultdict(list)
    for agreement_id, month, currency, late, net in (
        SalesLine.objects.filter(period=period)
        .values_list("agreement_id", "month", "currency", "is_late")
        .annotate(net=Sum("net_minor"))
        .order_by()
    ):
        result[agreement_id].append((month, currency, late, int(net)))
    return result


def _agreement_check(agreement: _AgreementRow, period: Period, terms_list: list[_TermsRow]) -> list[str]:
    """Everything that must hold for the agreement before the run may post, as sentences naming it."""
    title = agreement.title
    problems = []
    if agreement.status != Agreement.Status.ACTIVE:
        problems.append(
            _("Agreement “%(title)s” is a draft with sales in %(code)s: complete and activate it.")
            % {"title": title, "code": period.code}
        )
    if not money.is_currency(agreement.currency):
        problems.append(
            _("Agreement “%(title)s” has unknown currency “%(currency)s”.")
            % {"title": title, "currency": agreement.currency}
        )
    if not terms_list:
        problems.append(_("Agreement “%(title)s” has no terms.") % {"title": title})
        return problems
    shares = [share for _user_id, share in _terms_for(terms_list, period.end).payees]
    if not shares:
        problems.append(_("Agreement “%(title)s” has no payees.") % {"title": title})
    else:
        try:
            money.shares_validate(shares)
        except money.MoneyError:
            problems.append(
                _(
                    "Agreement “%(title)s”: payee shares must be positive and sum to 10,000 basis points "
                    "(they sum to %(total)s)."
                )
                % {"title": title, "total": sum(shares)}
            )
    return problems


def _groups_convert(
    agreement: _AgreementRow,
    sums: list[tuple[datetime.date, str, bool, int]],
    rates: dict[tuple[str, str, str], Decimal],
    problems: list[str],
) -> list[_Group]:
    """The agreement's sums in its own currency at full precision, by source quarter; a missing rate is a problem."""
    groups: dict[tuple[str, bool], _Group] = {}
    for month, currency, late, net in sums:
        source = period_code_for(month)
        amount = money.from_minor(net, currency)
        if currency != agreement.currency:
            rate = rates.get((source, currency, agreement.currency))
            if rate is None:
                problems.append(
                    _("No %(from)s→%(to)s rate for %(period)s (agreement “%(title)s”): enter the period-end rate.")
                    % {"from": currency, "to": agreement.currency, "period": source, "title": agreement.title}
                )
                continue
            amount = money.EXACT.multiply(amount, rate)
        group = groups.setdefault((source, late), _Group(source, late))
        group.months[month] = money.EXACT.add(group.months.get(month, Decimal(0)), amount)
    return list(groups.values())


_PRIOR_NONE: dict[str, Any] = {"cumulative": Decimal(0), "carry": 0, "recouped": 0}


def _prior_state(period: Period) -> dict[int, dict[str, Any]]:
    """Per agreement, from earlier periods: cumulative net sales, carried-forward deficit, advance recouped.
    Agreements without history are absent (``_PRIOR_NONE``)."""
    state: dict[int, dict[str, Any]] = defaultdict(lambda: dict(_PRIOR_NONE))
    for pk, net in (
        RoyaltyResult.objects.filter(period__start__lt=period.start).order_by().values_list("agreement_id", "net_sales")
    ):
        state[pk]["cumulative"] = money.EXACT.add(state[pk]["cumulative"], Decimal(net))
    sums = (
        LedgerEntry.objects.filter(payee__isnull=True, period__start__lt=period.start)
        .values("agreement_id", "kind", "reversal_of__kind")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    for item in sums:
        kind = item["reversal_of__kind"] or item["kind"]
        if kind == LedgerEntry.Kind.CARRY_FORWARD:
            state[item["agreement_id"]]["carry"] += int(item["total"])
        elif kind == LedgerEntry.Kind.ADVANCE_RECOUPED:
            state[item["agreement_id"]]["recouped"] += int(item["total"])
    return state


_LEDGER_COLUMNS = (
    "agreement_id",
    "payee_id",
    "period_id",
    "source_period_id",
    "kind",
    "amount_minor",
    "currency",
    "reversal_of_id",
    "run_id",
    "memo",
    "created_at",
)


def _run_post(period: Period, run: RoyaltyRun, plans: list[_Plan]) -> int:
    """Post what the plans want and the ledger does not hold yet; return the number of entries posted.

    Expects the caller's transaction and the period's row lock. Per agreement, the run's live postings for the
    period (not reversed, not payouts) are compared with the plan; if they differ, each is reversed and the plan is
    posted in full. Working papers are written only where they changed, so a rerun with the same inputs writes
    nothing.
    """
    existing: dict[int, list[tuple[int, int | None, str, int | None, int, str]]] = defaultdict(list)
    for pk, agreement_id, payee_id, kind, source_id, amount, currency in (
        LedgerEntry.objects.filter(period=period, run__isnull=False, reversed_by__isnull=True)
        .exclude(kind__in=[LedgerEntry.Kind.PAYOUT, LedgerEntry.Kind.REVERSAL])
        .order_by()
        .values_list("pk", "agreement_id", "payee_id", "kind", "source_period_id", "amount_minor", "currency")
    ):
        existing[agreement_id].append((pk, payee_id, kind, source_id, amount, currency))
    stored = {
        (item[0], item[1]): item[2:]
        for item in RoyaltyResult.objects.filter(period=period)
        .order_by()
        .values_list("agreement_id", "source_period_id", *_RESULT_FIELDS)
    }
    memo = _("Recalculated: sales or rates changed")
    now = timezone.now()
    entries: list[tuple[Any, ...]] = []
    new_results: list[tuple[Any, ...]] = []
    changed_results: list[RoyaltyResult] = []
    for plan in plans:
        pk = plan.agreement.pk
        for result in plan.results:
            before = stored.get((pk, result.source_period_id))
            if before is None:
                new_results.append((pk, period.pk, result.source_period_id, *result.values(), run.pk))
            elif before != result.values():
                changed_results.append(
                    RoyaltyResult(
                        agreement_id=pk,
                        period=period,
                        run=run,
                        **{name: getattr(result, name) for name in ("source_period_id", *_RESULT_FIELDS)},
                    )
                )
        have = sorted((payee or 0, kind, source or 0, amount) for _id, payee, kind, source, amount, _c in existing[pk])
        want = sorted((p.payee_id or 0, p.kind, p.source_period_id or 0, p.amount) for p in plan.postings)
        if have == want:
            continue
        entries.extend(
            (pk, payee, period.pk, source, LedgerEntry.Kind.REVERSAL, -amount, currency, entry_id, run.pk, memo, now)
            for entry_id, payee, _kind, source, amount, currency in existing[pk]
        )
        code = plan.agreement.currency
        entries.extend(
            (pk, p.payee_id, period.pk, p.source_period_id, p.kind, p.amount, code, None, run.pk, "", now)
            for p in plan.postings
        )
    _rows_insert(LedgerEntry, _LEDGER_COLUMNS, entries)
    _rows_insert(
        RoyaltyResult, ("agreement_id", "period_id", "source_period_id", *_RESULT_FIELDS, "run_id"), new_results
    )
    RoyaltyResult.objects.bulk_create(
        changed_results,
        update_conflicts=True,
        unique_fields=["agreement", "period", "source_period"],
        update_fields=[*_RESULT_FIELDS, "run"],
    )
    return len(entries)


def _rows_insert(model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows of database-ready values without building model instances: ``COPY`` on PostgreSQL (psycopg 3),
    one ``executemany`` elsewhere. For the run's postings and working papers, thousands per period; inserting is
    all the append-only ledger allows, and the table's checks and the trigger still apply."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - model names


def _terms_load(agreements: dict[int, _AgreementRow]) -> tuple[dict[int, list[_TermsRow]], dict[int, list[str]]]:
    """Every terms version and its payees (two queries), per agreement oldest first, read as plain values (a run
    touches thousands of them). A version whose tiers do not parse is left out and described in the second dict."""
    payees: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for terms_id, user_id, share in TermsPayee.objects.order_by("terms_id", "position").values_list(
        "terms_id", "user_id", "share_bp"
    ):
        payees[terms_id].append((user_id, share))
    result: dict[int, list[_TermsRow]] = defaultdict(list)
    problems: dict[int, list[str]] = defaultdict(list)
    for (
        terms_id,
        agreement_id,
        version,
        effective_from,
        rate_bp,
        raw_tiers,
        rounding,
        advance,
    ) in AgreementTerms.objects.order_by("agreement_id", "effective_from").values_list(
        "id", "agreement_id", "version", "effective_from", "rate_bp", "tiers", "rounding", "advance_minor"
    ):
        try:
            tiers = money.tiers_parse(raw_tiers, default_rate_bp=rate_bp)
        except money.MoneyError as error:
            problems[agreement_id].append(
                _("Agreement “%(title)s”, terms version %(version)s: %(error)s")
                % {"title": agreements[agreement_id].title, "version": version, "error": error}
            )
            continue
        result[agreement_id].append(_TermsRow(effective_from, tiers, rounding, advance, payees[terms_id]))
    return result, problems


def _terms_for(terms_list: list[_TermsRow], day: datetime.date) -> _TermsRow:
    chosen = None
    for terms in terms_list:
        if terms.effective_from <= day:
            chosen = terms
    # Sales before the first terms version (a launch earlier than the agreement) fall under the first version.
    return chosen or terms_list[0]


def _agreement_plan(
    agreement: _AgreementRow,
    period: Period,
    groups: list[_Group],
    terms_list: list[_TermsRow],
    prior: dict[str, Any],
    period_ids: dict[str, int],
) -> tuple[list[_Posting], list[_Result]]:
    """The postings and results for one checked agreement (``_agreement_check`` found nothing wrong)."""
    closing_terms = _terms_for(terms_list, period.end)
    payees = [user_id for user_id, _share in closing_terms.payees]
    shares = [share for _user_id, share in closing_terms.payees]
    cumulative: Decimal = prior["cumulative"]
    carry: int = prior["carry"]
    advance_left = max(0, closing_terms.advance_minor - prior["recouped"])
    postings: list[_Posting] = []
    results: list[_Result] = []
    # The period's own sales first, then late sales oldest quarter first: tiers see them in that order.
    for group in sorted(groups, key=lambda g: (g.late, g.source_code)):
        royalty = Decimal(0)
        net_total = Decimal(0)
        for month in sorted(group.months):
            net = group.months[month]
            tiers = _terms_for(terms_list, month).tiers
            royalty = money.EXACT.add(
                royalty, money.tiered_royalty(cumulative_before=cumulative, net_sales=net, tiers=tiers)
            )
            cumulative = money.EXACT.add(cumulative, net)
            net_total = money.EXACT.add(net_total, net)
        rounded = money.to_minor(royalty, agreement.currency, rounding=closing_terms.rounding)
        source_id = period_ids[group.source_code]
        kind = LedgerEntry.Kind.ADJUSTMENT if group.late else LedgerEntry.Kind.EARNED
        recouped = carried = distributed = 0
        available = rounded + carry
        if available < 0:
            carried = rounded
            if rounded:
                postings.append(_Posting(None, LedgerEntry.Kind.CARRY_FORWARD, source_id, rounded))
            carry = available
        else:
            if carry:
                carried = -carry
                postings.append(_Posting(None, LedgerEntry.Kind.CARRY_FORWARD, source_id, -carry))
                carry = 0
            recouped = min(available, advance_left)
            advance_left -= recouped
            if recouped:
                postings.append(_Posting(None, LedgerEntry.Kind.ADVANCE_RECOUPED, source_id, recouped))
            distributed = available - recouped
            if distributed:
                for payee, part in zip(payees, money.split_by_shares(distributed, shares), strict=True):
                    if part:
                        postings.append(_Posting(payee, kind, source_id, part))
        results.append(
            _Result(
                source_period_id=source_id,
                currency=agreement.currency,
                net_sales=str(net_total),
                royalty_exact=str(royalty),
                royalty_minor=rounded,
                recouped_minor=recouped,
                carried_minor=carried,
                distributed_minor=distributed,
            )
        )
    return postings, results


# Corrections -----------------------------------------------------------------------------------------------------


@transaction.atomic
def ledger_correct(
    *, actor: User | None, entry: LedgerEntry, amount_minor: int | None, memo: str
) -> tuple[LedgerEntry, LedgerEntry | None]:
    """Fix a posting: a reversal of ``entry`` plus, if ``amount_minor`` is given, a new adjustment for the right
    amount, both in the current open period. A reversal is never reversed again. Locks the entry's agreement."""
    _require_finance(actor)
    Agreement.objects.select_for_update().filter(pk=entry.agreement_id).first()
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise DomainError(_("A reversal cannot itself be reversed; post a new entry instead."))
    if entry.kind == LedgerEntry.Kind.PAYOUT:
        raise DomainError(_("Payouts are corrected through the payout, not the ledger."))
    if entry.period.state != Period.State.CLOSED:
        raise DomainError(
            _("Period %(code)s is not closed: correct its sales or rates and run it again.")
            % {"code": entry.period.code}
        )
    if LedgerEntry.objects.filter(reversal_of=entry).exists():
        raise ConflictError(_("This entry has already been reversed."))
    if not memo.strip():
        raise DomainError(_("Say why the entry is corrected."))
    period = period_posting()
    reversal = LedgerEntry.objects.create(
        agreement_id=entry.agreement_id,
        payee_id=entry.payee_id,
        period=period,
        source_period_id=entry.period_id,
        kind=LedgerEntry.Kind.REVERSAL,
        amount_minor=-entry.amount_minor,
        currency=entry.currency,
        reversal_of=entry,
        memo=memo.strip()[:255],
        created_by=actor,
    )
    replacement = None
    if amount_minor:
        replacement = LedgerEntry.objects.create(
            agreement_id=entry.agreement_id,
            payee_id=entry.payee_id,
            period=period,
            source_period_id=entry.period_id,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amount_minor=amount_minor,
            currency=entry.currency,
            memo=memo.strip()[:255],
            created_by=actor,
        )
    _audit(
        entry.agreement,
        actor,
        "ledger_corrected",
        entry=entry.pk,
        reversal=reversal.pk,
        replacement=replacement.pk if replacement else None,
        memo=memo.strip(),
    )
    return reversal, replacement


# Payouts ---------------------------------------------------------------------------------------------------------


def payee_balances(*, until: Period | None = None) -> dict[tuple[int, int], int]:
    """Ledger balance per (agreement, payee) in minor units, summed exactly by the database.

    With ``until``, earnings after that period are left out but every payout counts, whenever it was posted: a
    payout made in a later period has already paid out part of this balance.
    """
    entries = LedgerEntry.objects.filter(payee__isnull=False)
    if until is not None:
        entries = entries.filter(
            Q(period__start__lte=until.start)
            | Q(kind=LedgerEntry.Kind.PAYOUT)
            | Q(reversal_of__kind=LedgerEntry.Kind.PAYOUT)
        )
    return {
        (item["agreement_id"], item["payee_id"]): int(item["total"])
        for item in entries.values("agreement_id", "payee_id").annotate(total=Sum("amount_minor"))
    }


@transaction.atomic
def payouts_create(*, actor: User | None, period: str) -> list[Payout]:
    """Turn payable balances (at or above the agreement's minimum) into pending payout lines for a calculated or
    closed period. A payee who has not consented is held. Idempotent: open payouts are not duplicated."""
    _require_finance(actor)
    row = period_get(period)
    if row.state == Period.State.OPEN:
        raise DomainError(_("Run period %(code)s before creating payouts.") % {"code": row.code})
    balances = payee_balances(until=row)
    open_payouts = {
        (p.agreement_id, p.payee_id)
        for p in Payout.objects.exclude(status=Payout.Status.PAID).only("agreement", "payee")
    }
    agreements = Agreement.objects.in_bulk({a for a, _p in balances})
    created = []
    for (agreement_id, payee_id), balance in sorted(balances.items()):
        if (agreement_id, payee_id) in open_payouts or balance <= 0:
            continue
        agreement = agreements[agreement_id]
        terms = agreement.terms_on(row.end) or agreement.current_terms
        if terms is None or balance < terms.minimum_payout_minor:
            continue
        consent = terms.payees.filter(user_id=payee_id).values_list("consented_at", flat=True).first()
        created.append(
            Payout(
                agreement=agreement,
                payee_id=payee_id,
                period=row,
                amount_minor=balance,
                currency=agreement.currency,
                status=Payout.Status.PENDING if consent else Payout.Status.HELD,
                hold_reason="" if consent else _("Consent to the share is pending."),
            )
        )
    Payout.objects.bulk_create(created)
    return created


def _payout_transition(payout: Payout, allowed: Sequence[str], **changes: Any) -> Payout:
    changed = Payout.objects.filter(pk=payout.pk, status__in=allowed).update(**changes)
    if not changed:
        raise ConflictError(
            _("This payout is %(status)s; that step is not possible.") % {"status": payout.get_status_display()}
        )
    payout.refresh_from_db()
    return payout


@transaction.atomic
def payout_approve(*, actor: User | None, payout: Payout) -> Payout:
    _require_finance(actor)
    return _payout_transition(payout, [Payout.Status.PENDING], status=Payout.Status.APPROVED, approved_by=actor)


@transaction.atomic
def payout_hold(*, actor: User | None, payout: Payout, reason: str) -> Payout:
    _require_finance(actor)
    return _payout_transition(
        payout, [Payout.Status.PENDING, Payout.Status.APPROVED], status=Payout.Status.HELD, hold_reason=reason[:255]
    )


@transaction.atomic
def payout_release(*, actor: User | None, payout: Payout) -> Payout:
    _require_finance(actor)
    return _payout_transition(payout, [Payout.Status.HELD], status=Payout.Status.PENDING, hold_reason="")


@transaction.atomic
def payout_mark_paid(*, actor: User | None, payout: Payout, reference: str) -> Payout:
    """Record the bank payment: posts a negative payout entry in the current open period. Locks the payout row."""
    _require_finance(actor)
    if not reference.strip():
        raise DomainError(_("Enter the payment reference."))
    locked = Payout.objects.select_for_update().get(pk=payout.pk)
    if locked.status != Payout.Status.APPROVED:
        raise ConflictError(_("Only an approved payout can be marked paid."))
    entry = LedgerEntry.objects.create(
        agreement_id=locked.agreement_id,
        payee_id=locked.payee_id,
        period=period_posting(),
        source_period=locked.period,
        kind=LedgerEntry.Kind.PAYOUT,
        amount_minor=-locked.amount_minor,
        currency=locked.currency,
        memo=reference.strip()[:255],
        created_by=actor,
    )
    Payout.objects.filter(pk=locked.pk).update(
        status=Payout.Status.PAID, reference=reference.strip()[:100], ledger_entry=entry, paid_at=timezone.now()
    )
    locked.refresh_from_db()
    _audit(
        locked.agreement,
        actor,
        "payout_paid",
        payout=locked.pk,
        amount_minor=locked.amount_minor,
        reference=locked.reference,
    )
    return locked


def period_code_check(code: str) -> str:
    """A valid ``YYYY-Qn`` or a DomainError."""
    period_bounds(code)
    return code.strip()


def payees_resolve(raw: Sequence[dict[str, Any]]) -> list[tuple[User, int]]:
    """``[{"user": <id or e-mail>, "share_bp": n}]`` → users and shares, or a DomainError naming the bad item."""
    payees: list[tuple[User, int]] = []
    for position, item in enumerate(raw, start=1):
        ref, share = item.get("user"), item.get("share_bp")
        user = None
        if isinstance(ref, int) and not isinstance(ref, bool):
            user = User.objects.filter(pk=ref, is_active=True).first()
        elif isinstance(ref, str) and ref.strip():
            lookup = Q(email__iexact=ref.strip()) if "@" in ref else Q(pk=int(ref)) if ref.strip().isdigit() else None
            user = User.objects.filter(lookup, is_active=True).first() if lookup is not None else None
        if user is None:
            raise DomainError(_("Payee %(n)s: no active user %(ref)s.") % {"n": position, "ref": ref})
        if not isinstance(share, int) or isinstance(share, bool):
            raise DomainError(_("Payee %(n)s: share_bp must be a whole number.") % {"n": position})
        payees.append((user, share))
    return payees
