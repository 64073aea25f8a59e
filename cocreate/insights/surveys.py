"""Satisfaction and NPS surveys: who is asked when, the signed single-use links, and recording an answer.

- CSAT (1-5) goes to an idea's creator and accepted co-creators once the idea is closed (commercialised, not
  approved, archived or merged), and to a board's members once one of its sessions has ended.
- The relationship NPS (0-10) goes each quarter to customers active in the last 90 days who sit on no advisory
  board (board members already answer the boards' own NPS after each session).

The periodic job finds new occasions by looking at the data (ideas and boards services stay untouched); every
survey and invitation is unique in the database, so running the job twice, or two workers at once, sends nothing
twice. Each invitation gets at most one reminder. Links carry the invitation's id signed with a timestamp; they
expire after ``INSIGHTS_SURVEY_LINK_DAYS`` (default 14) and work once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from boards.models import BoardMembership, Session
from cocreate.errors import ConflictError, DomainError, NotFoundError
from cocreate.models import Survey, SurveyAnswer, SurveyInvitation, User
from cocreate.roles import Role, has_role
from cocreate.sanitize import clean_text
from ideas.models import Comment, Idea, IdeaCoCreator, StatusChange, Support

CLOSED_STATUSES = (Idea.Status.COMMERCIALISED, Idea.Status.NOT_APPROVED, Idea.Status.ARCHIVED, Idea.Status.MERGED)
# Occasions older than this when the job first sees them are not surveyed (a fresh install does not ask about
# last year's ideas).
LOOKBACK = datetime.timedelta(days=14)
REMINDER_AFTER = datetime.timedelta(days=3)
ACTIVE_WINDOW = datetime.timedelta(days=90)
COMMENT_MAX = 2000
SALT = "cocreate.insights.survey"


def link_max_age() -> datetime.timedelta:
    return datetime.timedelta(days=int(getattr(settings, "INSIGHTS_SURVEY_LINK_DAYS", 14)))


# --- Questions and links --------------------------------------------------------------------------------------


def survey_question(survey: Survey) -> str:
    """The question, in the active language."""
    if survey.occasion == Survey.Occasion.IDEA_CLOSED and survey.idea is not None:
        return _("How satisfied are you with how your idea “%(title)s” was handled?") % {"title": survey.idea.title}
    if survey.occasion == Survey.Occasion.SESSION_ENDED and survey.session is not None:
        return _("How satisfied were you with the session “%(title)s”?") % {"title": survey.session.title}
    return _("How likely are you to recommend taking part in our customer community to a colleague?")


survey_question_lazy = lazy(survey_question, str)


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.dumps(invitation.pk, salt=SALT, compress=True)


def survey_link(invitation: SurveyInvitation) -> str:
    return settings.SITE_URL + reverse("insights:survey", args=[survey_token(invitation)])


def survey_invitation_from_token(token: str) -> SurveyInvitation:
    """The invitation a link names. Raises NotFoundError for a forged link, DomainError for an expired one."""
    try:
        invitation_id = signing.loads(token, salt=SALT, max_age=link_max_age())
    except signing.SignatureExpired as exc:
        raise DomainError(_("This survey link has expired."), code="expired") from exc
    except signing.BadSignature as exc:
        raise NotFoundError(_("This survey link is not valid.")) from exc
    invitation = (
        SurveyInvitation.objects.select_related("survey", "survey__idea", "survey__session", "user")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise NotFoundError(_("This survey link is not valid."))
    return invitation


# --- Answering ------------------------------------------------------------------------------------------------


@transaction.atomic
def survey_answer(*, invitation: SurveyInvitation, score: Any, comment: str = "") -> SurveyAnswer:
    """Record the invitee's answer, with their organisation and tier as they are now. Once only: the invitation
    is claimed with a conditional update, and the database allows one answer per respondent per survey."""
    survey = invitation.survey
    low, high = survey.scores
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise DomainError(
            _("The score is a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}, code="score"
        )
    comment = clean_text(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("The comment is at most %(max)d characters.") % {"max": COMMENT_MAX}, code="too_long")
    now = timezone.now()
    claimed = SurveyInvitation.objects.filter(pk=invitation.pk, answered_at__isnull=True).update(answered_at=now)
    if not claimed:
        raise ConflictError(_("You have already answered this survey. Thank you!"), code="answered")
    user = invitation.user
    organisation = user.organisation
    try:
        with transaction.atomic():
            return SurveyAnswer.objects.create(
                survey=survey,
                respondent=user,
                kind=survey.kind,
                score=score,
                comment=comment,
                organisation=organisation,
                tier=organisation.tier if organisation else "",
            )
    except IntegrityError as exc:
        raise ConflictError(_("You have already answered this survey. Thank you!"), code="answered") from exc


# --- Sending --------------------------------------------------------------------------------------------------


def _email(invitation: SurveyInvitation, *, reminder: bool) -> None:
    from cocreate.mail import email_user_on_commit

    email_user_on_commit(
        user=invitation.user,
        template="cocreate/insights/email/survey",
        context={
            "survey": invitation.survey,
            "question": survey_question_lazy(invitation.survey),
            "link": survey_link(invitation),
            "reminder": reminder,
            "days": link_max_age().days,
        },
        idempotency_key=f"insights-survey-{invitation.pk}-{'reminder' if reminder else 'first'}",
    )


def _invite(survey: Survey, users: Iterable[User]) -> int:
    """Invite ``users`` (active ones, once each) and queue their e-mails on commit. Returns how many."""
    people = {user.pk: user for user in users if user.is_active}
    if not people:
        return 0
    SurveyInvitation.objects.bulk_create(
        [SurveyInvitation(survey=survey, user_id=pk) for pk in people], ignore_conflicts=True
    )
    invitations = SurveyInvitation.objects.filter(survey=survey, user_id__in=people)
    sent = 0
    for invitation in invitations.select_related("user", "survey", "survey__idea", "survey__session"):
        _email(invitation, reminder=False)
        sent += 1
    return sent


def _survey_create(**fields: Any) -> Survey | None:
    """Create a survey; None when another run already made it (the unique constraints decide)."""
    try:
        with transaction.atomic():
            return Survey.objects.create(**fields)
    except IntegrityError:
        return None


def surveys_for_closed_ideas(*, now: datetime.datetime | None = None) -> int:
    """CSAT surveys for ideas closed within ``LOOKBACK`` that have none yet. Returns invitations sent."""
    now = now or timezone.now()
    surveyed = Survey.objects.filter(kind=Survey.Kind.CSAT, idea__isnull=False).values("idea_id")
    idea_ids = (
        StatusChange.objects.filter(to_status__in=CLOSED_STATUSES, created_at__gte=now - LOOKBACK)
        .exclude(idea_id__in=surveyed)
        .values_list("idea_id", flat=True)
        .distinct()
    )
    sent = 0
    for idea in Idea.objects.filter(pk__in=list(idea_ids), status__in=CLOSED_STATUSES).select_related("creator"):
        with transaction.atomic():
            survey = _survey_create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=idea)
            if survey is None:
                continue
            cocreators = User.objects.filter(
                pk__in=IdeaCoCreator.objects.filter(idea=idea, accepted_at__isnull=False).values("user_id")
            )
            sent += _invite(survey, [idea.creator, *cocreators])
    return sent


def surveys_for_ended_sessions(*, now: datetime.datetime | None = None) -> int:
    """CSAT surveys for sessions ended within ``LOOKBACK`` that have none yet, to the board's members."""
    now = now or timezone.now()
    surveyed = Survey.objects.filter(kind=Survey.Kind.CSAT, session__isnull=False).values("session_id")
    sessions = Session.objects.filter(state=Session.State.ENDED, ended_at__gte=now - LOOKBACK).exclude(pk__in=surveyed)
    sent = 0
    for session in sessions:
        with transaction.atomic():
            survey = _survey_create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.SESSION_ENDED, session=session)
            if survey is None:
                continue
            members = User.objects.filter(
                pk__in=BoardMembership.objects.filter(board_id=session.board_id).values("user_id")
            )
            sent += _invite(survey, members)
    return sent


def quarter_of(day: datetime.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def relationship_nps_send(*, now: datetime.datetime | None = None) -> int:
    """The quarter's NPS survey to customers active in the last 90 days who sit on no advisory board.
    Once per quarter: a second run finds the survey and sends nothing."""
    now = now or timezone.now()
    survey = _survey_create(
        kind=Survey.Kind.NPS, occasion=Survey.Occasion.QUARTER, period=quarter_of(timezone.localdate(now))
    )
    if survey is None:
        return 0
    since = now - ACTIVE_WINDOW
    active_ids = (
        set(Idea.objects.filter(created_at__gte=since).values_list("creator_id", flat=True))
        | set(Support.objects.filter(created_at__gte=since).values_list("user_id", flat=True))
        | set(
            Comment.objects.filter(created_at__gte=since, kind=Comment.Kind.COMMENT).values_list("author_id", flat=True)
        )
    )
    customers = [
        user
        for user in User.objects.filter(pk__in=active_ids, is_active=True, is_staff=False).exclude(
            Q(board_memberships__isnull=False)
        )
        if has_role(user, Role.CUSTOMER)
    ]
    with transaction.atomic():
        return _invite(survey, customers)


def survey_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """One reminder to each invitee who has not answered after ``REMINDER_AFTER``, while the survey is still
    worth answering (sent within the link's lifetime). Claimed with a conditional update: never twice."""
    now = now or timezone.now()
    due = SurveyInvitation.objects.filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        sent_at__lte=now - REMINDER_AFTER,
        sent_at__gt=now - link_max_age(),
        user__is_active=True,
    ).select_related("user", "survey", "survey__idea", "survey__session")
    sent = 0
    for invitation in due:
        with transaction.atomic():
            if not SurveyInvitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            _email(invitation, reminder=True)
            sent += 1
    return sent


def surveys_send(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic job: new occasions, then reminders."""
    return {
        "ideas": surveys_for_closed_ideas(now=now),
        "sessions": surveys_for_ended_sessions(now=now),
        "reminders": survey_reminders_send(now=now),
    }
