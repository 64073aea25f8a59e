"""Surveys: sent by the periodic job at the right moments, one reminder, signed single-use expiring links,
one answer per respondent with their organisation and tier at answer time."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from boards.models import Session
from cocreate.insights import surveys
from cocreate.insights.tasks import send_relationship_nps, send_surveys
from cocreate.models import Survey, SurveyAnswer, SurveyInvitation, User
from cocreate.roles import Role
from ideas.models import Idea, IdeaCoCreator, StatusChange, Support
from tests.boards.factories import BoardFactory, MembershipFactory, SessionFactory
from tests.conftest import logged_in_client
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory


def close(idea: Idea, status: str, *, ago: datetime.timedelta = datetime.timedelta(hours=1)) -> None:
    previous = idea.status
    Idea.objects.filter(pk=idea.pk).update(status=status)
    change = StatusChange.objects.create(idea=idea, from_status=previous, to_status=status)
    StatusChange.objects.filter(pk=change.pk).update(created_at=timezone.now() - ago)


def link_in(message: Any) -> str:
    match = re.search(r"https?://\S+/insights/survey/(\S+)/", message.body)
    assert match, message.body
    return f"/insights/survey/{match.group(1)}/"


def run(task: Any, capture: Any, **kwargs: Any) -> Any:
    with capture(execute=True):
        return task.delay(**kwargs).get()


@pytest.fixture
def closed_idea(site: Any) -> Idea:
    creator = UserFactory(roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="gold"))
    idea = IdeaFactory(creator=creator, status=Idea.Status.IN_DEVELOPMENT)
    partner = UserFactory(roles=[Role.CUSTOMER])
    IdeaCoCreator.objects.create(idea=idea, user=partner, accepted_at=timezone.now())
    IdeaCoCreator.objects.create(idea=idea, user=UserFactory(roles=[Role.CUSTOMER]))  # never accepted
    close(idea, Idea.Status.COMMERCIALISED)
    return idea


def test_a_closed_idea_gets_one_csat_survey_for_its_creator_and_accepted_cocreators(
    closed_idea: Idea, django_capture_on_commit_callbacks: Any
) -> None:
    result = run(send_surveys, django_capture_on_commit_callbacks)
    assert result == {"ideas": 2, "sessions": 0, "reminders": 0}
    survey = Survey.objects.get(idea=closed_idea)
    assert (survey.kind, survey.occasion) == (Survey.Kind.CSAT, Survey.Occasion.IDEA_CLOSED)
    recipients = sorted(m.to[0] for m in mail.outbox)
    creators = sorted([closed_idea.creator.email, closed_idea.cocreators.get(accepted_at__isnull=False).user.email])
    assert recipients == creators
    assert closed_idea.title in mail.outbox[0].body
    # The job runs every 15 minutes: the second run finds the survey and sends nothing.
    assert run(send_surveys, django_capture_on_commit_callbacks) == {"ideas": 0, "sessions": 0, "reminders": 0}
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("status", [Idea.Status.NOT_APPROVED, Idea.Status.ARCHIVED])
def test_other_closing_statuses_are_surveyed_too(
    site: Any, status: str, django_capture_on_commit_callbacks: Any
) -> None:
    idea = IdeaFactory(status=Idea.Status.IN_REVIEW)
    close(idea, status)
    assert run(send_surveys, django_capture_on_commit_callbacks)["ideas"] == 1


def test_ideas_closed_long_ago_or_still_open_are_not_surveyed(
    site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    old = IdeaFactory(status=Idea.Status.IN_DEVELOPMENT)
    close(old, Idea.Status.COMMERCIALISED, ago=datetime.timedelta(days=30))
    reopened = IdeaFactory(status=Idea.Status.IN_REVIEW)
    close(reopened, Idea.Status.NOT_APPROVED)
    close(reopened, Idea.Status.IN_REVIEW)  # back in review: not closed any more
    assert run(send_surveys, django_capture_on_commit_callbacks)["ideas"] == 0
    assert not Survey.objects.exists()


def test_an_ended_session_surveys_the_boards_members_but_not_its_facilitators(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    board = BoardFactory()
    members = [UserFactory(roles=[Role.BOARD_MEMBER]) for _ in range(2)]
    for member in members:
        MembershipFactory(board=board, user=member)
    facilitator = UserFactory(is_staff=True)
    board.facilitators.add(facilitator)
    now = timezone.now()
    session = SessionFactory(
        board=board, starts_at=now - datetime.timedelta(hours=3), ends_at=now - datetime.timedelta(hours=1),
        state=Session.State.ENDED, ended_at=now - datetime.timedelta(hours=1),
    )  # fmt: skip
    SessionFactory(board=board, state=Session.State.LIVE)
    assert run(send_surveys, django_capture_on_commit_callbacks)["sessions"] == 2
    assert Survey.objects.get().session == session
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in members)
    assert run(send_surveys, django_capture_on_commit_callbacks)["sessions"] == 0


def test_answering_through_the_link_records_the_score_with_the_organisation_and_tier_of_that_moment(
    closed_idea: Idea, django_capture_on_commit_callbacks: Any
) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == [closed_idea.creator.email])
    url = link_in(message)
    client = Client()
    page = client.get(url)
    assert page.status_code == 200
    assert [choice[0] for choice in page.context["form"].fields["score"].choices] == [1, 2, 3, 4, 5]
    response = client.post(url, {"score": "4", "comment": "<b>Quick</b> and clear"})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    answer = SurveyAnswer.objects.get()
    organisation = closed_idea.creator.organisation
    assert (answer.score, answer.comment, answer.kind) == (4, "Quick and clear", Survey.Kind.CSAT)
    assert (answer.respondent, answer.organisation, answer.tier) == (closed_idea.creator, organisation, "gold")
    organisation.tier = "bronze"
    organisation.save()
    answer.refresh_from_db()
    assert answer.tier == "gold"


def test_a_link_works_once(closed_idea: Idea, django_capture_on_commit_callbacks: Any) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    url = link_in(mail.outbox[0])
    client = Client()
    assert client.post(url, {"score": "5"}).status_code == 200
    again = client.post(url, {"score": "1"})
    assert again.status_code == 409
    assert "already answered" in again.content.decode()
    assert client.get(url).status_code == 409
    assert list(SurveyAnswer.objects.values_list("score", flat=True)) == [5]


def test_the_database_refuses_a_second_answer_from_the_same_person(closed_idea: Idea) -> None:
    survey = Survey.objects.create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=closed_idea)
    SurveyAnswer.objects.create(survey=survey, respondent=closed_idea.creator, kind="csat", score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyAnswer.objects.create(survey=survey, respondent=closed_idea.creator, kind="csat", score=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyAnswer.objects.create(survey=survey, respondent=UserFactory(), kind="csat", score=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=closed_idea)


def test_links_expire(closed_idea: Idea, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    url = link_in(mail.outbox[0])
    settings.INSIGHTS_SURVEY_LINK_DAYS = 0
    response = Client().post(url, {"score": "5"})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not SurveyAnswer.objects.exists()


def test_a_forged_link_is_not_found_and_someone_elses_link_is_refused(
    closed_idea: Idea, customer: User, django_capture_on_commit_callbacks: Any
) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    url = link_in(mail.outbox[0])
    token = url.split("/")[-2]
    assert Client().get(url.replace(token, token[:-2] + "xx")).status_code == 404
    assert Client().get("/insights/survey/12/").status_code == 404
    assert logged_in_client(customer).post(url, {"score": "5"}).status_code == 403
    assert not SurveyAnswer.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "x", ""])
def test_a_score_out_of_range_is_a_form_error(
    closed_idea: Idea, score: str, django_capture_on_commit_callbacks: Any
) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    response = Client().post(link_in(mail.outbox[0]), {"score": score})
    assert response.status_code == 400
    assert response.context["form"].errors["score"]
    assert not SurveyAnswer.objects.exists()
    assert SurveyInvitation.objects.filter(answered_at__isnull=False).count() == 0


def test_the_service_checks_the_score_range_for_each_kind(closed_idea: Idea) -> None:
    from cocreate.errors import DomainError

    survey = Survey.objects.create(kind=Survey.Kind.NPS, occasion=Survey.Occasion.QUARTER, period="2026-Q1")
    invitation = SurveyInvitation.objects.create(survey=survey, user=closed_idea.creator)
    with pytest.raises(DomainError):
        surveys.survey_answer(invitation=invitation, score=11)
    with pytest.raises(DomainError):
        surveys.survey_answer(invitation=invitation, score=True)
    assert surveys.survey_answer(invitation=invitation, score=0).score == 0


def test_one_reminder_at_most_and_only_while_the_link_still_works(
    closed_idea: Idea, django_capture_on_commit_callbacks: Any
) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    creator_invitation = SurveyInvitation.objects.get(user=closed_idea.creator)
    other = SurveyInvitation.objects.exclude(pk=creator_invitation.pk).get()
    SurveyInvitation.objects.filter(pk=creator_invitation.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=4)
    )
    SurveyInvitation.objects.filter(pk=other.pk).update(sent_at=timezone.now() - datetime.timedelta(days=20))
    mail.outbox.clear()
    assert run(send_surveys, django_capture_on_commit_callbacks)["reminders"] == 1
    assert [m.to[0] for m in mail.outbox] == [closed_idea.creator.email]
    assert "Reminder" in mail.outbox[0].subject
    assert "only reminder" in mail.outbox[0].body
    assert run(send_surveys, django_capture_on_commit_callbacks)["reminders"] == 0
    # The reminder's link works too.
    assert Client().post(link_in(mail.outbox[0]), {"score": "3"}).status_code == 200


def test_no_reminder_after_an_answer(closed_idea: Idea, django_capture_on_commit_callbacks: Any) -> None:
    run(send_surveys, django_capture_on_commit_callbacks)
    for invitation in SurveyInvitation.objects.all():
        surveys.survey_answer(invitation=invitation, score=5)
    SurveyInvitation.objects.update(sent_at=timezone.now() - datetime.timedelta(days=4))
    assert surveys.survey_reminders_send() == 0


def test_the_quarterly_nps_goes_once_to_active_customers_who_sit_on_no_board(
    site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    active = UserFactory(roles=[Role.CUSTOMER])
    idle = UserFactory(roles=[Role.CUSTOMER])
    on_board = UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER])
    MembershipFactory(user=on_board)
    staff = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    idea = IdeaFactory(creator=staff)
    for user in (active, on_board, staff):
        Support.objects.create(idea=idea, user=user)
    old = Support.objects.create(idea=IdeaFactory(), user=idle)
    Support.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=200))
    assert run(send_relationship_nps, django_capture_on_commit_callbacks) == 1
    assert [m.to[0] for m in mail.outbox] == [active.email]
    survey = Survey.objects.get()
    assert (survey.kind, survey.period) == (Survey.Kind.NPS, surveys.quarter_of(timezone.localdate()))
    assert run(send_relationship_nps, django_capture_on_commit_callbacks) == 0
    response = Client().get(link_in(mail.outbox[0]))
    assert [c[0] for c in response.context["form"].fields["score"].choices] == list(range(11))


def test_survey_answers_are_never_shown_to_customers(closed_idea: Idea, customer: User) -> None:
    survey = Survey.objects.create(kind=Survey.Kind.CSAT, occasion=Survey.Occasion.IDEA_CLOSED, idea=closed_idea)
    SurveyAnswer.objects.create(survey=survey, respondent=closed_idea.creator, kind="csat", score=2, comment="secret")
    client = logged_in_client(closed_idea.creator)
    assert client.get("/insights/").status_code == 403
    assert client.get("/insights/export/csat.csv").status_code == 403
    assert "secret" not in client.get(closed_idea.get_absolute_url()).content.decode()
