"""Forms for the ideas pages: they shape input; the rules are checked again by the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ideas import services
from ideas.models import Comment, Idea, NotificationPreference, Support


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleImageField, self).clean(item, initial) for item in files]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


class IdeaForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=services.TITLE_MAX)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=services.SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or two sentences: the problem and your idea."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=services.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Describe who needs it and why. Basic formatting (<b>, <i>, lists, links) is kept."),
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    cocreators = forms.CharField(
        label=_("Co-creators"),
        required=False,
        help_text=_("E-mail addresses or display names, separated by commas. Each must accept the invitation."),
    )
    images = MultipleImageField(
        label=_("Images"), required=False, help_text=_("Up to 6 images, JPEG, PNG, WebP or GIF, 5 MB each.")
    )
    terms_accepted = forms.BooleanField(label=_("I accept the contribution terms"), required=True)

    def __init__(self, *args: Any, resubmit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs.update({"autocomplete": "off", "data-similar-source": "1"})
        if resubmit:
            for name in ("cocreators", "images", "terms_accepted"):
                del self.fields[name]

    def clean_description(self) -> str:
        text: str = self.cleaned_data["description"].replace("\r\n", "\n")
        if "<" not in text:
            # Plain text: keep its paragraphs.
            text = "".join(f"<p>{part.strip()}</p>" for part in text.split("\n\n") if part.strip())
        return text

    def tag_list(self) -> list[str]:
        return _split(self.cleaned_data.get("tags", ""))

    def cocreator_list(self) -> list[str]:
        return _split(self.cleaned_data.get("cocreators", ""))


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"), max_length=services.COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=Comment.Kind.choices, initial=Comment.Kind.COMMENT, required=False)


class ReportForm(forms.Form):
    reason = forms.CharField(label=_("What is wrong?"), max_length=500)
    comment = forms.IntegerField(required=False, widget=forms.HiddenInput)


class TriageForm(forms.ModelForm[Idea]):
    class Meta:
        model = Idea
        fields = ["owner_department", "impact", "effort"]


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class ProxySupportForm(forms.Form):
    email = forms.EmailField(label=_("Customer contact's e-mail"))
    importance = forms.ChoiceField(label=_("Importance"), choices=Support.Importance.choices, required=False)
    would_buy = forms.NullBooleanField(label=_("Would buy"), required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, required=False)


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(label=_("E-mail me"), choices=NotificationPreference.Email.choices)
