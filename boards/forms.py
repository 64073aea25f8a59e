from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
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


class IdeaPicker(forms.Widget):
    """Checkboxes to link ideas to an agenda item, without listing every idea in the page.

    Offers the linked ideas, the most supported ideas overall and per customer tier
    (``ideas.selectors.most_supported_ideas``), and a search by title: ``boards/idea_picker.js`` asks
    ``GET /api/ideas/?q=`` and adds what it finds as more checkboxes. The form field decides which ids are valid.
    """

    template_name = "boards/widgets/idea_picker.html"
    allow_multiple_selected = True
    suggestions = 8

    class Media:
        js = ["boards/idea_picker.js"]

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        # The project's templates live in TEMPLATES' DIRS, which Django's default form renderer does not search.
        return super().render(name, value, attrs, renderer=TemplatesSetting())

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # an empty selection unlinks every idea

    def format_value(self, value: Any) -> list[str]:
        if value is None:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(getattr(v, "pk", v)) for v in values if v not in (None, "")]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        from cocreate.models import Organisation
        from ideas.models import Idea
        from ideas.selectors import most_supported_ideas

        context = super().get_context(name, value, attrs)
        chosen = context["widget"]["value"]
        linked = list(
            Idea.objects.filter(pk__in=[v for v in chosen if v.isdigit()]).order_by("-supporters_count", "pk")
        )
        groups: list[tuple[Any, list[Idea]]] = [
            (_("Linked ideas"), linked),
            (_("Most supported overall"), most_supported_ideas(limit=self.suggestions)),
        ]
        for tier, label in Organisation.Tier.choices:
            groups.append(
                (
                    _("Most supported by %(tier)s customers") % {"tier": label},
                    most_supported_ideas(tier=tier, limit=self.suggestions),
                )
            )
        # An idea may appear in several lists (its checkboxes agree: same name and value, kept in step by the script).
        rows = [{"label": label, "ideas": ideas, "tiered": ideas is not linked} for label, ideas in groups]
        context["widget"]["groups"] = rows
        context["widget"]["chosen"] = set(chosen)
        return context
