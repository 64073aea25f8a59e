"""REST endpoints of the rewards app, mounted under /api/ by cocreate.urls. Finance only, except that any signed-in
payee may read their own statements. Amounts are decimal strings in the agreement currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cocreate.models import User
from rewards import money, selectors, services
from rewards.models import Agreement, FxRate, Period, RoyaltyRun, SalesImport


def _out(name: str, fields: dict[str, serializers.Field[Any, Any, Any, Any]]) -> type[serializers.Serializer[Any]]:
    """A named response serializer for the schema (responses are built as dicts)."""
    return type(f"{name}Serializer", (serializers.Serializer,), dict(fields))


class IsFinance(BasePermission):
    message = gettext_lazy("Only finance may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return selectors.is_finance(request.user)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsAuthenticated ran first
    return user


class PayeeInSerializer(serializers.Serializer[Any]):
    user = serializers.JSONField(help_text="User id or e-mail address.")
    share_bp = serializers.IntegerField(help_text="Share in basis points; all shares sum to 10,000.")


class TierSerializer(serializers.Serializer[Any]):
    up_to = serializers.CharField(allow_null=True, help_text="Cumulative net sales bound, decimal string; null = open.")
    rate_bp = serializers.IntegerField()


class AgreementInSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    currency = serializers.CharField(max_length=3, help_text="ISO 4217 code.")
    rate_bp = serializers.IntegerField(default=100)
    tiers = TierSerializer(many=True, required=False)
    rounding = serializers.ChoiceField(choices=["half_up", "half_even"], default="half_up")
    minimum_payout = serializers.DecimalField(
        max_digits=18, decimal_places=3, default=Decimal(0), coerce_to_string=True
    )
    advance = serializers.DecimalField(max_digits=18, decimal_places=3, default=Decimal(0), coerce_to_string=True)
    effective_from = serializers.DateField()
    launch_date = serializers.DateField(required=False, allow_null=True)
    idea_id = serializers.IntegerField(required=False, allow_null=True)
    product_codes = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    payees = PayeeInSerializer(many=True)


def agreement_data(agreement: Agreement) -> dict[str, Any]:
    terms = agreement.current_terms
    return {
        "id": agreement.pk,
        "title": agreement.title,
        "idea_id": agreement.idea_id,
        "status": agreement.status,
        "currency": agreement.currency,
        "product_codes": list(agreement.products.values_list("code", flat=True)),
        "terms": [
            {
                "version": t.version,
                "effective_from": t.effective_from.isoformat(),
                "rate_bp": t.rate_bp,
                "tiers": t.tiers,
                "rounding": t.rounding,
                "minimum_payout": money.format_minor(t.minimum_payout_minor, agreement.currency),
                "advance": money.format_minor(t.advance_minor, agreement.currency),
            }
            for t in agreement.terms.order_by("version")
        ],
        "payees": [
            {
                "user": p.user_id,
                "share_bp": p.share_bp,
                "consented_at": p.consented_at.isoformat() if p.consented_at else None,
            }
            for p in (terms.payees.all() if terms else [])
        ],
    }


AgreementOut = _out(
    "RoyaltyAgreement",
    {
        "id": serializers.IntegerField(),
        "title": serializers.CharField(),
        "idea_id": serializers.IntegerField(allow_null=True),
        "status": serializers.CharField(),
        "currency": serializers.CharField(),
        "product_codes": serializers.ListField(child=serializers.CharField()),
        "terms": serializers.ListField(child=serializers.DictField()),
        "payees": serializers.ListField(child=serializers.DictField()),
    },
)


class AgreementListView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses={200: AgreementOut(many=True)}, tags=["royalties"])
    def get(self, request: Request) -> Response:
        agreements = Agreement.objects.prefetch_related("terms", "products").order_by("pk")[:500]
        return Response([agreement_data(a) for a in agreements])

    @extend_schema(request=AgreementInSerializer, responses={201: AgreementOut}, tags=["royalties"])
    def post(self, request: Request) -> Response:
        data = AgreementInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        agreement = services.agreement_create(
            actor=_user(request),
            title=values["title"],
            currency=values["currency"],
            terms=services.TermsInput(
                effective_from=values["effective_from"],
                rate_bp=values["rate_bp"],
                tiers=[dict(t) for t in values.get("tiers", [])],
                rounding=values["rounding"],
                minimum_payout=values["minimum_payout"],
                advance=values["advance"],
            ),
            payees=services.payees_resolve([dict(p) for p in values["payees"]]),
            product_codes=values["product_codes"],
            idea_id=values.get("idea_id"),
            launch_date=values.get("launch_date"),
        )
        return Response(agreement_data(agreement), status=status.HTTP_201_CREATED)


ImportOut = _out(
    "SalesImport",
    {
        "id": serializers.IntegerField(),
        "file_name": serializers.CharField(),
        "status": serializers.CharField(),
        "status_label": serializers.CharField(help_text="The status in the reader's language."),
        "rows_total": serializers.IntegerField(),
        "rows_done": serializers.IntegerField(),
        "progress": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)
ImportErrors = _out(
    "SalesImportErrors",
    {
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "errors": serializers.ListField(
            child=inline_serializer(
                "SalesImportError",
                {
                    "row": serializers.IntegerField(),
                    "column": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        ),
    },
)


def import_data(record: SalesImport) -> dict[str, Any]:
    return {
        "id": record.pk,
        "file_name": record.file_name,
        "status": record.status,
        "status_label": record.get_status_display(),
        "rows_total": record.rows_total,
        "rows_done": record.rows_done,
        "progress": record.progress,
        "errors": record.errors,
    }


class SalesImportView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("SalesImportUpload", {"file": serializers.FileField()})},
        responses={201: ImportOut, 400: ImportErrors},
        tags=["royalties"],
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response(
                {"detail": _("Send the CSV as the multipart field 'file'."), "code": "invalid", "errors": []},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            record = services.sales_import_csv(actor=_user(request), file_name=upload.name or "", content=upload.read())
        except services.SalesImportError as error:
            return Response(
                {"detail": error.message, "code": error.code, "errors": [e.as_dict() for e in error.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(import_data(record), status=status.HTTP_201_CREATED)


class SalesImportDetailView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses={200: ImportOut}, tags=["royalties"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(import_data(get_object_or_404(SalesImport, pk=pk)))


class FxRateInSerializer(serializers.Serializer[Any]):
    period = serializers.CharField(help_text="YYYY-Qn")
    from_currency = serializers.CharField(max_length=3)
    to_currency = serializers.CharField(max_length=3)
    rate = serializers.DecimalField(max_digits=15, decimal_places=8, help_text="1 from = rate to, at period end.")


class FxRateView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(request=FxRateInSerializer, responses={201: FxRateInSerializer}, tags=["royalties"])
    def post(self, request: Request) -> Response:
        data = FxRateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fx: FxRate = services.fx_rate_set(actor=_user(request), **data.validated_data)
        return Response(
            {
                "period": fx.period.code,
                "from_currency": fx.from_currency,
                "to_currency": fx.to_currency,
                "rate": str(fx.rate),
            },
            status=status.HTTP_201_CREATED,
        )


RunOut = _out(
    "RoyaltyRun",
    {
        "id": serializers.IntegerField(),
        "period": serializers.CharField(),
        "status": serializers.CharField(),
        "status_label": serializers.CharField(help_text="The status in the reader's language."),
        "progress": serializers.IntegerField(),
        "agreements_total": serializers.IntegerField(),
        "agreements_done": serializers.IntegerField(),
        "entries_posted": serializers.IntegerField(),
        "error": serializers.CharField(),
        "problems": serializers.ListField(
            child=serializers.CharField(), help_text="Every reason a refused run found, one sentence each."
        ),
    },
)


def run_data(run: RoyaltyRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "period": run.period.code,
        "status": run.status,
        "status_label": run.get_status_display(),
        "progress": run.progress,
        "agreements_total": run.agreements_total,
        "agreements_done": run.agreements_done,
        "entries_posted": run.entries_posted,
        "error": run.error,
        "problems": run.problems,
    }


class RunView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(
        request=inline_serializer("RoyaltyRunRequest", {"period": serializers.CharField(help_text="YYYY-Qn")}),
        responses={202: RunOut},
        tags=["royalties"],
    )
    def post(self, request: Request) -> Response:
        period = request.data.get("period") if isinstance(request.data, dict) else None
        if not isinstance(period, str):
            return Response({"detail": _("Give the period as YYYY-Qn."), "code": "invalid"}, status=400)
        run = services.royalty_run_start(actor=_user(request), period=period)
        return Response(run_data(run), status=status.HTTP_202_ACCEPTED)


class RunDetailView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses={200: RunOut}, tags=["royalties"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(run_data(get_object_or_404(RoyaltyRun.objects.select_related("period"), pk=pk)))


class PeriodCloseView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "RoyaltyPeriod", {"period": serializers.CharField(), "state": serializers.CharField()}
            )
        },
        tags=["royalties"],
    )
    def post(self, request: Request, period: str) -> Response:
        row = services.period_close(actor=_user(request), period=period)
        return Response({"period": row.code, "state": row.state})


StatementOut = _out(
    "RoyaltyStatement",
    {
        "agreement": serializers.IntegerField(),
        "agreement_title": serializers.CharField(),
        "idea_id": serializers.IntegerField(allow_null=True),
        "payee": serializers.IntegerField(),
        "payee_name": serializers.CharField(),
        "period": serializers.CharField(),
        "currency": serializers.CharField(),
        "share_bp": serializers.IntegerField(),
        **{name: serializers.CharField() for name in selectors.Statement.AMOUNTS},
    },
)


class StatementListView(APIView):
    """Finance reads every statement of a period; anyone else only their own."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("period", str, required=True, description="YYYY-Qn")],
        responses={200: StatementOut(many=True)},
        tags=["royalties"],
    )
    def get(self, request: Request) -> Response:
        code = services.period_code_check(request.query_params.get("period", ""))
        period = Period.objects.filter(code=code).first()
        if period is None:
            return Response([])
        user = _user(request)
        payee = None if selectors.is_finance(user) else user
        return Response([s.as_dict() for s in selectors.statements_for(period=period, payee=payee)])


urlpatterns: list[URLPattern | URLResolver] = [
    path("royalties/agreements/", AgreementListView.as_view(), name="royalties-agreements"),
    path("royalties/sales-imports/", SalesImportView.as_view(), name="royalties-sales-imports"),
    path("royalties/sales-imports/<int:pk>/", SalesImportDetailView.as_view(), name="royalties-sales-import"),
    path("royalties/fx-rates/", FxRateView.as_view(), name="royalties-fx-rates"),
    path("royalties/runs/", RunView.as_view(), name="royalties-runs"),
    path("royalties/runs/<int:pk>/", RunDetailView.as_view(), name="royalties-run"),
    path("royalties/periods/<str:period>/close/", PeriodCloseView.as_view(), name="royalties-period-close"),
    path("royalties/statements/", StatementListView.as_view(), name="royalties-statements"),
]
