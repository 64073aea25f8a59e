"""Factories for boards tests: a board with members who accepted its charter, sessions with agendas."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from boards.models import AgendaItem, Board, BoardMembership, Session


class BoardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Board

    name = factory.Sequence(lambda n: f"Advisory Board {n}")
    description = "Strategy board of our largest customers."
    charter_text = "What is said in the room stays in the room."
    charter_version = "2026-1"


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member who accepted the current charter (pass ``charter_accepted_at=None`` for one who did not)."""

    class Meta:
        model = BoardMembership

    board = factory.SubFactory(BoardFactory)
    charter_version_accepted = factory.LazyAttribute(lambda m: m.board.charter_version)
    charter_accepted_at = factory.LazyFunction(timezone.now)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    board = factory.SubFactory(BoardFactory)
    title = factory.Sequence(lambda n: f"Quarterly session {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(hours=2))
    state = Session.State.LIVE


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    session = factory.SubFactory(SessionFactory)
    order = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Agenda item {n}")
    duration_minutes = 20
