"""Demo answers for the insights page: the last four quarters' relationship NPS from the demo customers, and CSAT
answers about the demo ideas that are closed and the demo sessions that ended. Runs after the ideas and boards
seeders (``manage.py seed_demo`` with ``cocreate.insights`` listed last). Idempotent: the surveys are unique per
quarter, idea and session, and an answer once given is kept.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from boards.models import BoardMembership, Session
from cocreate.demo import DemoPeople
from cocreate.insights.surveys import CLOSED_STATUSES, quarter_of
from cocreate.models import SessionPresence, Survey, SurveyAnswer, SurveyInvitation, User
from ideas.models import Idea

# Per person, oldest quarter first: a community that grows more enthusiastic.
NPS_SCORES = {
    "customer": [8, 9, 10, 10],
    "customer2": [6, 7, 9, 8],
    "board_member": [7, 9, 9, 10],
    "board_member2": [4, 6, 7, 9],
}
CSAT_SCORES = [5, 4, 3, 5, 4]


def _answer(*, survey: Survey, user: User, score: int, when: datetime.datetime) -> bool:
    """Invite ``user`` and record their answer at ``when``; False when they had already answered."""
    invitation, _created = SurveyInvitation.objects.get_or_create(survey=survey, user=user)
    if invitation.answered_at is not None:
        return False
    organisation = user.organisation
    answer = SurveyAnswer.objects.create(
        survey=survey,
        respondent=user,
        kind=survey.kind,
        score=score,
        organisation=organisation,
        tier=organisation.tier if organisation else "",
    )
    SurveyAnswer.objects.filter(pk=answer.pk).update(created_at=when)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        sent_at=when - datetime.timedelta(days=1), answered_at=when
    )
    return True


def _quarters(today: datetime.date) -> list[datetime.datetime]:
    """The middle of the first month of this quarter and the three before it, oldest first."""
    starts = []
    year, month = today.year, (today.month - 1) // 3 * 3 + 1
    for _ in range(4):
        starts.append(timezone.make_aware(datetime.datetime(year, month, 15, 10)))
        year, month = (year - 1, 10) if month == 1 else (year, month - 3)
    return [moment for moment in reversed(starts) if moment <= timezone.now()] or [timezone.now()]


@transaction.atomic
def seed_demo(*, people: DemoPeople) -> list[str]:
    answers = 0
    moments = _quarters(timezone.localdate())
    for moment_index, moment in enumerate(moments):
        survey, _created = Survey.objects.get_or_create(
            kind=Survey.Kind.NPS, occasion=Survey.Occasion.QUARTER, period=quarter_of(moment.date())
        )
        for attribute, scores in NPS_SCORES.items():
            score = scores[len(scores) - len(moments) + moment_index]
            answers += _answer(survey=survey, user=getattr(people, attribute), score=score, when=moment)

    now = timezone.now()
    closed = Idea.objects.filter(status__in=CLOSED_STATUSES).select_related("creator").order_by("pk")
    for index, idea in enumerate(closed):
        survey, _created = Survey.objects.get_or_create(
            kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=idea
        )
        when = now - datetime.timedelta(days=35 * index + 3)
        answers += _answer(survey=survey, user=idea.creator, score=CSAT_SCORES[index % len(CSAT_SCORES)], when=when)
    for index, session in enumerate(Session.objects.filter(state=Session.State.ENDED).order_by("pk")):
        survey, _created = Survey.objects.get_or_create(
            kind=Survey.Kind.CSAT, occasion=Survey.Occasion.SESSION_ENDED, session=session
        )
        members = BoardMembership.objects.filter(board_id=session.board_id).select_related("user__organisation")
        for offset, membership in enumerate(members):
            score = CSAT_SCORES[(index + offset + 1) % len(CSAT_SCORES)]
            when = (session.ended_at or now) + datetime.timedelta(hours=2)
            answers += _answer(survey=survey, user=membership.user, score=score, when=when)
            # Everyone joined the room a few minutes in (the presence log the attendance chart counts).
            joined = session.starts_at + datetime.timedelta(minutes=2 + offset)
            SessionPresence.objects.get_or_create(
                session=session,
                user=membership.user,
                defaults={"first_joined_at": joined, "last_seen_at": session.ends_at},
            )
    return [f"{answers} survey answers added (NPS per quarter, CSAT on closed ideas and ended sessions)"]
