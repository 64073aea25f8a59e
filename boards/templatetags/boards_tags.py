"""Template tags other apps' pages use to show what advisory boards did (the idea page's outcomes box)."""

from __future__ import annotations

from typing import Any

from django import template

from boards.selectors import IdeaOutcomes, idea_outcomes
from ideas.models import Idea

register = template.Library()


@register.simple_tag(takes_context=True)
def idea_board_outcomes(context: dict[str, Any], idea: Idea) -> IdeaOutcomes:
    """``{% idea_board_outcomes idea as outcomes %}``: the board outcomes the page's viewer may see."""
    return idea_outcomes(idea=idea, user=context["request"].user)
