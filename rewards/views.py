"""Finance pages and payees' statements. Each view: fetch and authorise → validate → one service call → render."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocreate.errors import DomainError
from cocreate.models import User
from rewards import exports, money, selectors, services
from rewards.forms import (
    AgreementForm,
    FxRateForm,
    HoldForm,
    PaidForm,
    PeriodForm,
    ProductCodesForm,
    SalesImportForm,
    TermsForm,
)
from rewards.models import Agreement, FxRate, Payout, Period, RoyaltyRun, SalesImport

STATEMENT_LINES_PER_PAGE = 200

View = Callable[..., HttpResponse]


def finance_required(view: View) -> View:
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.is_finance(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


def _codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;]+", text) if code]


def _bars(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of {label, currency, minor} → bars scaled to the largest absolute value, per currency."""
    top: dict[str, int] = {}
    for row in rows:
        top[row["currency"]] = max(top.get(row["currency"], 0), abs(row["minor"]))
    return [
        {
            **row,
            "amount": money.format_minor(row["minor"], row["currency"]),
            "width": 0 if not top[row["currency"]] else round(100 * abs(row["minor"]) / top[row["currency"]], 1),
            "negative": row["minor"] < 0,
        }
        for row in rows
    ]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Finance: the dashboard. Anyone else: their own statements."""
    if not selectors.is_finance(request.user):
        return redirect("rewards:statements")
    periods = list(Period.objects.all())
    return render(
        request,
        "rewards/index.html",
        {
            "by_period": _bars(selectors.totals_by_period()),
            "by_agreement": _bars(selectors.totals_by_agreement()[:15]),
            "by_payee": _bars(selectors.totals_by_payee()[:15]),
            "periods": periods,
            "open_payouts": selectors.open_payouts().count(),
            "agreements": Agreement.objects.count(),
            "drafts": Agreement.objects.filter(status=Agreement.Status.DRAFT).count(),
        },
    )


@finance_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    agreements = Agreement.objects.prefetch_related("products").order_by("status", "title")
    return render(request, "rewards/agreement_list.html", {"agreements": agreements})


@finance_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreement = services.agreement_create(
                actor=_user(request),
                title=data["title"],
                currency=data["currency"],
                terms=_terms_input(data),
                payees=data["payees"],
                product_codes=_codes(data["product_codes"]),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Agreement created. Each payee must now consent to their share."))
            return redirect("rewards:agreement", pk=agreement.pk)
    return render(request, "rewards/agreement_form.html", {"form": form})


def _terms_input(data: dict[str, Any]) -> services.TermsInput:
    return services.TermsInput(
        effective_from=data["effective_from"],
        rate_bp=data["rate_bp"],
        tiers=data["tiers"],
        rounding=data["rounding"],
        minimum_payout=data["minimum_payout"],
        advance=data["advance"],
    )


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Finance sees and changes everything; a payee sees the agreement and may consent to their share."""
    agreement = get_object_or_404(selectors.agreements_for(_user(request)), pk=pk)
    finance = selectors.is_finance(request.user)
    terms = agreement.current_terms
    initial = (
        {
            "rate_bp": terms.rate_bp,
            "tiers": json.dumps(terms.tiers) if terms.tiers else "",
            "rounding": terms.rounding,
            "minimum_payout": money.from_minor(terms.minimum_payout_minor, agreement.currency),
            "advance": money.from_minor(terms.advance_minor, agreement.currency),
        }
        if terms
        else {}
    )
    terms_form = TermsForm(prefix="terms", initial=initial)
    products_form = ProductCodesForm(prefix="products")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "consent":
                services.payee_consent(user=_user(request), agreement=agreement)
                messages.success(request, _("Thank you: your consent is recorded."))
                return redirect("rewards:agreement", pk=pk)
            if not finance:
                raise PermissionDenied
            if action == "activate":
                services.agreement_activate(actor=_user(request), agreement=agreement)
                messages.success(request, _("The agreement is active."))
                return redirect("rewards:agreement", pk=pk)
            if action == "products":
                products_form = ProductCodesForm(request.POST, prefix="products")
                if products_form.is_valid():
                    services.agreement_products_add(
                        actor=_user(request), agreement=agreement, codes=_codes(products_form.cleaned_data["codes"])
                    )
                    return redirect("rewards:agreement", pk=pk)
            if action == "terms":
                terms_form = TermsForm(request.POST, prefix="terms")
                if terms_form.is_valid():
                    payees = terms_form.cleaned_data["payees"] or None
                    services.agreement_terms_change(
                        actor=_user(request),
                        agreement=agreement,
                        terms=_terms_input(terms_form.cleaned_data),
                        payees=payees,
                    )
                    messages.success(request, _("A new terms version was added."))
                    return redirect("rewards:agreement", pk=pk)
        except DomainError as error:
            messages.error(request, error.message)
    payees = list(terms.payees.select_related("user")) if terms else []
    return render(
        request,
        "rewards/agreement_detail.html",
        {
            "agreement": agreement,
            "finance": finance,
            "terms_versions": [
                {
                    "terms": t,
                    "minimum": money.format_minor(t.minimum_payout_minor, agreement.currency),
                    "advance": money.format_minor(t.advance_minor, agreement.currency),
                }
                for t in agreement.terms.order_by("-version")
            ],
            "payees": payees,
            "my_share": next((p for p in payees if p.user_id == request.user.pk), None),
            "audit": agreement.audit.select_related("actor")[:50] if finance else [],
            "terms_form": terms_form,
            "products_form": products_form,
        },
    )


@finance_required
def import_list(request: HttpRequest) -> HttpResponse:
    form = SalesImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = services.sales_import_start(actor=_user(request), file_name=upload.name, content=upload.read())
        except DomainError as error:
            form.add_error("file", error.message)
        else:
            return redirect("rewards:import", pk=record.pk)
    return render(
        request,
        "rewards/import_list.html",
        {"form": form, "imports": SalesImport.objects.select_related("created_by")[:50]},
    )


@finance_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(SalesImport, pk=pk)
    return render(request, "rewards/import_detail.html", {"record": record, "lines": record.lines.all()[:200]})


@finance_required
def period_list(request: HttpRequest) -> HttpResponse:
    """Periods with run, close and payout actions, and the FX rates."""
    run_form = PeriodForm(prefix="run")
    fx_form = FxRateForm(prefix="fx")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "run":
                run_form = PeriodForm(request.POST, prefix="run")
                if run_form.is_valid():
                    run = services.royalty_run_start(actor=_user(request), period=run_form.cleaned_data["period"])
                    return redirect("rewards:run", pk=run.pk)
            elif action == "close":
                period = services.period_close(actor=_user(request), period=request.POST.get("period", ""))
                messages.success(request, _("Period %(code)s is closed.") % {"code": period.code})
                return redirect("rewards:periods")
            elif action == "payouts":
                created = services.payouts_create(actor=_user(request), period=request.POST.get("period", ""))
                messages.success(request, _("%(n)s payout line(s) created.") % {"n": len(created)})
                return redirect("rewards:payouts")
            elif action == "fx":
                fx_form = FxRateForm(request.POST, prefix="fx")
                if fx_form.is_valid():
                    services.fx_rate_set(actor=_user(request), **fx_form.cleaned_data)
                    messages.success(request, _("Rate saved."))
                    return redirect("rewards:periods")
        except DomainError as error:
            messages.error(request, error.message)
    return render(
        request,
        "rewards/period_list.html",
        {
            "periods": Period.objects.order_by("-start"),
            "runs": RoyaltyRun.objects.select_related("period")[:20],
            "rates": FxRate.objects.select_related("period").order_by("-period__start", "from_currency")[:50],
            "run_form": run_form,
            "fx_form": fx_form,
        },
    )


@finance_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(RoyaltyRun.objects.select_related("period"), pk=pk)
    return render(request, "rewards/run_detail.html", {"run": run})


@login_required
def statement_list(request: HttpRequest) -> HttpResponse:
    """Finance: every statement of a period. Anyone else: their own, across periods."""
    finance = selectors.is_finance(request.user)
    periods = list(Period.objects.exclude(state=Period.State.OPEN).order_by("-start"))
    code = request.GET.get("period") or (periods[0].code if periods else "")
    period = next((p for p in periods if p.code == code), None)
    statements = (
        selectors.statements_for(period=period, payee=None if finance else _user(request)) if period is not None else []
    )
    if request.GET.get("format") == "csv" and period is not None:
        response = HttpResponse(exports.statements_csv(statements), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statements-{period.code}.csv"'
        return response
    shares = (
        []
        if finance
        else [
            (
                agreement,
                agreement.current_terms.payees.filter(user=_user(request)).first() if agreement.current_terms else None,
            )
            for agreement in selectors.agreements_for(_user(request))
        ]
    )
    return render(
        request,
        "rewards/statement_list.html",
        {"periods": periods, "period": period, "statements": statements, "finance": finance, "shares": shares},
    )


@login_required
def statement_detail(request: HttpRequest, period: str, agreement: int, payee: int) -> HttpResponse:
    row = Period.objects.filter(code=period).first()
    if row is None:
        raise Http404
    try:
        statement = selectors.statement_get(viewer=_user(request), agreement_id=agreement, payee_id=payee, period=row)
    except DomainError as error:
        if error.status_code == 403:
            raise PermissionDenied from None
        raise Http404 from None
    name = f"statement-{row.code}-{agreement}-{payee}"
    if request.GET.get("format") == "csv":
        response = HttpResponse(exports.statement_lines_csv(statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if request.GET.get("format") == "pdf":
        response = HttpResponse(exports.statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    amounts = [(name, statement.amount(name)) for name in statement.AMOUNTS]
    lines = Paginator(statement.sales_lines().order_by("pk"), STATEMENT_LINES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request, "rewards/statement_detail.html", {"statement": statement, "amounts": amounts, "lines": lines}
    )


@finance_required
def payout_list(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "csv":
        approved = Payout.objects.filter(status=Payout.Status.APPROVED).select_related("payee", "agreement", "period")
        response = HttpResponse(exports.payouts_csv(approved), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="royalty-payments.csv"'
        return response
    payouts = Payout.objects.select_related("payee", "agreement", "period")[:200]
    return render(
        request,
        "rewards/payout_list.html",
        {
            "payouts": [(p, money.format_minor(p.amount_minor, p.currency)) for p in payouts],
            "paid_form": PaidForm(),
            "hold_form": HoldForm(),
        },
    )


@require_POST
@finance_required
def payout_action(request: HttpRequest, pk: int) -> HttpResponse:
    payout = get_object_or_404(Payout, pk=pk)
    action = request.POST.get("action")
    actor = _user(request)
    try:
        if action == "approve":
            services.payout_approve(actor=actor, payout=payout)
        elif action == "release":
            services.payout_release(actor=actor, payout=payout)
        elif action == "hold":
            services.payout_hold(actor=actor, payout=payout, reason=request.POST.get("reason", ""))
        elif action == "paid":
            services.payout_mark_paid(actor=actor, payout=payout, reference=request.POST.get("reference", ""))
        else:
            raise DomainError(_("Unknown action."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("rewards:payouts")
