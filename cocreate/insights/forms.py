"""The insights filters and the survey answer form."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from boards.models import Board
from cocreate.insights.selectors import InsightFilters
from cocreate.models import Organisation, Survey
from ideas.models import IdeaCampaignPage

MAX_RANGE_DAYS = 5 * 366


class InsightFiltersForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=IdeaCampaignPage.objects.none(),
        required=False,
        empty_label=_("All campaigns"),
        help_text=_("Applies to the idea figures."),
    )
    board = forms.ModelChoiceField(
        label=_("Board"),
        queryset=Board.objects.none(),
        required=False,
        empty_label=_("All boards"),
        help_text=_(
            "Session figures: that board's sessions. Idea figures: the ideas created or supported by people of the "
            "organisations that have a member on the board."
        ),
    )
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All tiers")), *Organisation.Tier.choices], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = IdeaCampaignPage.objects.order_by("title")  # type: ignore[attr-defined]
        self.fields["board"].queryset = Board.objects.order_by("name")  # type: ignore[attr-defined]

    @classmethod
    def from_query(cls, data: Any) -> InsightFiltersForm:
        """Bound to the query string; a missing date takes its default (the last twelve months)."""
        default = InsightFilters.default()
        bound = {key: data.get(key, "") for key in ("start", "end", "campaign", "board", "tier")}
        bound["start"] = bound["start"] or default.start.isoformat()
        bound["end"] = bound["end"] or default.end.isoformat()
        return cls(bound)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: datetime.date | None = cleaned.get("start")
        end: datetime.date | None = cleaned.get("end")
        if start and end:
            if start > end:
                self.add_error("end", _("The end date must be on or after the start date."))
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("start", _("Choose at most five years."))
            elif start > timezone.localdate():
                self.add_error("start", _("The period starts in the future."))
        return cleaned

    def filters(self) -> InsightFilters:
        data = self.cleaned_data
        return InsightFilters(
            start=data["start"],
            end=data["end"],
            campaign_id=data["campaign"].pk if data.get("campaign") else None,
            board_id=data["board"].pk if data.get("board") else None,
            tier=data.get("tier") or "",
        )


class SurveyAnswerForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect(attrs={"class": "survey-scale"}))
    comment = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, survey: Survey, question: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = survey.scores
        field = self.fields["score"]
        field.label = question
        field.choices = [(i, str(i)) for i in range(low, high + 1)]  # type: ignore[attr-defined]
        field.help_text = (
            _("1 = very dissatisfied, 5 = very satisfied")
            if survey.kind == Survey.Kind.CSAT
            else _("0 = not at all likely, 10 = extremely likely")
        )
