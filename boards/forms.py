from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class NpsForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How likely are you to recommend this advisory board to a peer?"),
        choices=[(i, str(i)) for i in range(11)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "nps-scale"}),
        help_text=_("0 = not at all likely, 10 = extremely likely"),
    )
    comment = forms.CharField(
        label=_("What is the main reason for your score?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_comment(self) -> Any:
        return self.cleaned_data["comment"].strip()
