from __future__ import annotations

from django import forms

from cocreate.models import User
from cocreate.sanitize import clean_text


class ProfileForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["display_name", "job_title", "preferred_language"]

    def clean_display_name(self) -> str:
        return clean_text(self.cleaned_data["display_name"])

    def clean_job_title(self) -> str:
        return clean_text(self.cleaned_data["job_title"])
