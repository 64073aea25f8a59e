"""Forms for the finance pages. They parse; the services decide."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cocreate.models import User
from rewards import money


class PayeesField(forms.CharField):
    """One payee per line: ``e-mail share_bp`` (``alice@example.com 6000``)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[tuple[User, int]]:  # type: ignore[override]
        text = super().to_python(value) or ""
        payees = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.replace(",", " ").split()
            if len(parts) != 2 or not parts[1].isdigit():
                raise forms.ValidationError(_("Line %(n)s: write “e-mail share_bp”.") % {"n": number})
            user = User.objects.filter(email__iexact=parts[0], is_active=True).first()
            if user is None:
                raise forms.ValidationError(
                    _("Line %(n)s: no active user %(email)s.") % {"n": number, "email": parts[0]}
                )
            payees.append((user, int(parts[1])))
        return payees


class TermsForm(forms.Form):
    effective_from = forms.DateField(label=_("Effective from"), widget=forms.DateInput(attrs={"type": "date"}))
    rate_bp = forms.IntegerField(label=_("Rate (basis points)"), initial=100, help_text=_("100 = 1% of net sales."))
    tiers = forms.CharField(
        label=_("Tiers (JSON, optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('e.g. [{"up_to": "1000000.00", "rate_bp": 100}, {"up_to": null, "rate_bp": 200}]'),
    )
    rounding = forms.ChoiceField(label=_("Rounding"), choices=money.Rounding.choices, initial=money.Rounding.HALF_UP)
    minimum_payout = forms.DecimalField(
        label=_("Minimum payout"), initial=Decimal("0"), max_digits=18, decimal_places=3
    )
    advance = forms.DecimalField(label=_("Advance"), initial=Decimal("0"), max_digits=18, decimal_places=3)
    payees = PayeesField(
        label=_("Payees"), required=False, help_text=_("One per line: e-mail and share in basis points (sum 10,000).")
    )

    def clean_tiers(self) -> list[dict[str, Any]]:
        raw = self.cleaned_data.get("tiers") or ""
        if not raw.strip():
            return []
        try:
            tiers = json.loads(raw, parse_float=str)
        except ValueError:
            raise forms.ValidationError(_("Tiers must be JSON.")) from None
        if not isinstance(tiers, list):
            raise forms.ValidationError(_("Tiers must be a JSON list."))
        return tiers


class AgreementForm(TermsForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR", help_text=_("ISO 4217, e.g. EUR."))
    product_codes = forms.CharField(label=_("Product codes"), help_text=_("Separated by commas or spaces."))

    field_order = ["title", "currency", "product_codes"]


class ProductCodesForm(forms.Form):
    codes = forms.CharField(label=_("Product codes"), help_text=_("Separated by commas or spaces."))


class SalesImportForm(forms.Form):
    file = forms.FileField(
        label=_("Net-sales CSV"),
        help_text=_(
            "Columns: product_code, month, currency, gross_sales, returns, discounts (optional territory, channel, line_id)."
        ),
    )


class PeriodForm(forms.Form):
    period = forms.RegexField(
        label=_("Period"), regex=r"^\d{4}-Q[1-4]$", help_text=_("A calendar quarter, e.g. 2026-Q3.")
    )


class FxRateForm(PeriodForm):
    from_currency = forms.CharField(label=_("From"), max_length=3)
    to_currency = forms.CharField(label=_("To"), max_length=3)
    rate = forms.DecimalField(label=_("Period-end rate"), max_digits=15, decimal_places=8)


class PaidForm(forms.Form):
    reference = forms.CharField(label=_("Payment reference"), max_length=100)


class HoldForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)
