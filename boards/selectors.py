"""Reads of the boards app, each deciding who may see what.

Access rules: superusers, product managers and a board's facilitators manage the board and see all of it;
members see a board's sessions only once they accepted the current charter; nobody else sees anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from boards.events import event_for_viewer, event_wire
from boards.models import ActionItem, AgendaItem, Board, BoardMembership, Decision, Poll, Session, SessionEvent
from cocreate.errors import NotFoundError, PermissionDeniedError
from cocreate.models import User
from cocreate.roles import Role, has_role
from ideas.models import Idea
from ideas.selectors import ideas_visible_to

AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class BoardAccess:
    board: Board
    membership: BoardMembership | None
    can_manage: bool

    @property
    def charter_current(self) -> bool:
        return self.membership is not None and self.membership.charter_current

    @property
    def can_view(self) -> bool:
        return self.can_manage or self.charter_current


@dataclass(frozen=True)
class SessionAccess:
    session: Session
    is_facilitator: bool


def board_can_manage(*, user: AnyUser, board: Board) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or has_role(user, Role.PRODUCT_MANAGER):
        return True
    return board.facilitators.filter(pk=user.pk).exists()


def board_access(*, user: AnyUser, board_id: int) -> BoardAccess:
    """The board with what ``user`` may do on it. Raises NotFoundError or PermissionDeniedError.

    Members whose charter is not current get an access back (they must see the charter to accept it);
    callers check ``can_view`` before showing anything else.
    """
    board = Board.objects.filter(pk=board_id).first()
    if board is None:
        raise NotFoundError(_("There is no such board."))
    if not user.is_authenticated:
        raise PermissionDeniedError(_("Log in to see this board."), code="not_authenticated")
    membership = BoardMembership.objects.filter(board=board, user_id=user.pk).select_related("board").first()
    can_manage = board_can_manage(user=user, board=board)
    if membership is None and not can_manage:
        raise PermissionDeniedError(_("Only members of this board can see it."))
    return BoardAccess(board=board, membership=membership, can_manage=can_manage)


def session_access(*, user: AnyUser, session_id: int) -> SessionAccess:
    """The session, if ``user`` may take part in it. Raises NotFoundError or PermissionDeniedError.

    Checked on every live-room message, so it costs few queries (session + board, membership, facilitator).
    """
    session = Session.objects.select_related("board").filter(pk=session_id).first()
    if session is None:
        raise NotFoundError(_("There is no such session."))
    if not user.is_authenticated or not user.is_active:
        raise PermissionDeniedError(_("Log in to join this session."), code="not_authenticated")
    if board_can_manage(user=user, board=session.board):
        return SessionAccess(session=session, is_facilitator=True)
    membership = BoardMembership.objects.filter(board=session.board, user_id=user.pk).first()
    if membership is None:
        raise PermissionDeniedError(_("Only members of this board can join its sessions."))
    if membership.charter_version_accepted != session.board.charter_version or membership.charter_accepted_at is None:
        raise PermissionDeniedError(
            _("Accept the board's confidentiality charter before joining its sessions."), code="charter_required"
        )
    return SessionAccess(session=session, is_facilitator=False)


def boards_for_user(*, user: AnyUser) -> QuerySet[Board]:
    """Boards listed to ``user``: all for product managers and superusers, else facilitated or joined."""
    if not user.is_authenticated:
        return Board.objects.none()
    boards = Board.objects.annotate(member_count=Count("memberships", distinct=True))
    if user.is_superuser or has_role(user, Role.PRODUCT_MANAGER):
        return boards.order_by("name")
    return boards.filter(Q(memberships__user=user) | Q(facilitators=user)).distinct().order_by("name")


def sessions_for_user(*, user: AnyUser, board_id: int | None = None) -> QuerySet[Session]:
    """Sessions ``user`` may see: of boards they manage, or whose current charter they accepted."""
    if not user.is_authenticated:
        return Session.objects.none()
    sessions = Session.objects.select_related("board")
    if board_id is not None:
        sessions = sessions.filter(board_id=board_id)
    if user.is_superuser or has_role(user, Role.PRODUCT_MANAGER):
        return sessions
    accepted = BoardMembership.objects.filter(
        user=user, charter_accepted_at__isnull=False, charter_version_accepted=F("board__charter_version")
    ).values("board_id")
    return sessions.filter(Q(board__facilitators=user) | Q(board_id__in=accepted)).distinct()


def agenda_ideas(*, user: AnyUser) -> Prefetch[Any]:
    """Prefetch an agenda item's linked ideas, keeping only those ``user`` may see, most supported first.

    Use on agenda items (``prefetch_related(agenda_ideas(user=...))``); the ideas land in ``item.linked_ideas``.
    """
    return Prefetch(
        "ideas",
        queryset=ideas_visible_to(user).order_by("-supporters_count", "pk"),
        to_attr="linked_ideas",
    )


def agenda_for(*, session: Session, user: AnyUser) -> list[AgendaItem]:
    """The session's agenda in order, each item with ``linked_ideas`` that ``user`` may see."""
    return list(session.agenda_items.order_by("order").prefetch_related(agenda_ideas(user=user)))


def idea_links(ideas: list[Idea]) -> list[dict[str, Any]]:
    """How pages, the live room and the API describe a linked idea: title, supporters and where it lives."""
    return [
        {"id": idea.pk, "title": idea.title, "supporters": idea.supporters_count, "url": idea.get_absolute_url()}
        for idea in ideas
    ]


def events_after(*, access: SessionAccess, user_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """Events after id ``after`` that this viewer may see, oldest first; at most ``limit`` + 1 rows are read."""
    rows = SessionEvent.objects.filter(session=access.session, pk__gt=after).order_by("pk")
    if not access.is_facilitator:
        rows = rows.filter(Q(visibility=SessionEvent.Visibility.EVERYONE) | Q(author_id=user_id))
    shaped = []
    for event in rows[: limit + 1]:
        item = event_for_viewer(event_wire(event), user_id=user_id, is_facilitator=access.is_facilitator)
        if item is not None:
            shaped.append(item)
    return shaped


def session_last_seq(*, session_id: int) -> int:
    return SessionEvent.objects.filter(session_id=session_id).aggregate(newest=Max("seq"))["newest"] or 0


def event_wires_between(*, session_id: int, after_seq: int, upto_seq: int) -> list[dict[str, Any]]:
    """Every event with ``after_seq < seq <= upto_seq`` in channel-layer form (consumers filter per viewer)."""
    rows = SessionEvent.objects.filter(session_id=session_id, seq__gt=after_seq, seq__lte=upto_seq).order_by("seq")
    return [event_wire(event) for event in rows]


def last_event_id(*, access: SessionAccess, user_id: int) -> int:
    """The id of the newest event of the session this viewer may see (0 when there is none)."""
    rows = SessionEvent.objects.filter(session=access.session)
    if not access.is_facilitator:
        rows = rows.filter(Q(visibility=SessionEvent.Visibility.EVERYONE) | Q(author_id=user_id))
    return rows.aggregate(last=Max("pk"))["last"] or 0


def poll_counts(*, poll: Poll) -> dict[str, int]:
    counts = {str(option.pk): 0 for option in poll.options.all()}
    for row in poll.votes.values("option_id").annotate(n=Count("pk")):
        counts[str(row["option_id"])] = row["n"]
    return counts


def poll_voter_count(*, poll: Poll) -> int:
    return poll.votes.values("user_id").distinct().count()


@dataclass(frozen=True)
class PollResult:
    poll: Poll
    rows: list[tuple[str, int, int]]  # (label, votes, percent of voters)
    voters: int


def poll_results(*, session: Session) -> list[PollResult]:
    results = []
    for poll in session.polls.prefetch_related("options").order_by("pk"):
        counts = poll_counts(poll=poll)
        voters = poll_voter_count(poll=poll)
        rows = [
            (option.label, counts[str(option.pk)], round(100 * counts[str(option.pk)] / voters) if voters else 0)
            for option in poll.options.all()
        ]
        results.append(PollResult(poll=poll, rows=rows, voters=voters))
    return results


def minutes_for(*, session: Session) -> dict[str, Any]:
    """Everything the minutes show: agenda, decisions, questions (anonymous ones without a name), polls, actions."""
    from boards.models import ActionItem, Decision, Question

    # Minutes go to every member by e-mail, so linked ideas are the ones anybody may see.
    agenda = agenda_for(session=session, user=AnonymousUser())
    questions = list(
        Question.objects.filter(session=session, status__in=[Question.Status.OPEN, Question.Status.ANSWERED])
        .select_related("author")
        .order_by("-upvote_count", "pk")
    )
    return {
        "session": session,
        "board": session.board,
        "agenda": agenda,
        "decisions": list(Decision.objects.filter(session=session).select_related("agenda_item").order_by("pk")),
        "questions": questions,
        "polls": poll_results(session=session),
        "action_items": list(ActionItem.objects.filter(session=session).select_related("owner").order_by("due_date")),
        "attendee_count": SessionEvent.objects.filter(session=session, author__isnull=False)
        .values("author_id")
        .distinct()
        .count(),
    }


@dataclass(frozen=True)
class NpsSummary:
    label: str
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> int | None:
        """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100."""
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses)

    @property
    def bar_left(self) -> int:
        """Where a -100..100 score's bar ends, as a percentage of the chart's width."""
        return 50 + (self.score or 0) // 2


def nps_summary(*, label: str, scores: list[int]) -> NpsSummary:
    return NpsSummary(
        label=label,
        responses=len(scores),
        promoters=sum(1 for s in scores if s >= 9),
        passives=sum(1 for s in scores if 7 <= s <= 8),
        detractors=sum(1 for s in scores if s <= 6),
    )


def nps_for_board(*, board: Board) -> tuple[NpsSummary, list[NpsSummary]]:
    """The board's NPS over all sessions, and per ended session in time order (the chart's points)."""
    from boards.models import NpsResponse

    per_session: dict[int, list[int]] = {}
    for session_id, score in NpsResponse.objects.filter(session__board=board).values_list("session_id", "score"):
        per_session.setdefault(session_id, []).append(score)
    sessions = board.sessions.filter(state=Session.State.ENDED).order_by("starts_at")
    points = [
        nps_summary(label=f"{s.starts_at:%Y-%m-%d} {s.title}", scores=per_session.get(s.pk, [])) for s in sessions
    ]
    overall = nps_summary(label=board.name, scores=[score for scores in per_session.values() for score in scores])
    return overall, points


# --- Outcomes on ideas ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdeaSessionOutcome:
    """What one session decided about an idea: the agenda items that linked it, their decisions and actions."""

    session: Session
    agenda_items: list[AgendaItem]
    decisions: list[Decision]
    action_items: list[ActionItem]


@dataclass(frozen=True)
class IdeaOutcomes:
    """Board sessions that discussed an idea, as far as one viewer may know.

    ``sessions`` are those whose content the viewer may read (staff and product managers: all; members: their
    boards' sessions once they accepted the current charter). ``discussed_elsewhere`` says that other boards
    discussed it too: the viewer learns that much and nothing more, as the charter keeps the rest confidential.
    """

    sessions: list[IdeaSessionOutcome]
    discussed_elsewhere: bool

    @property
    def discussed(self) -> bool:
        return bool(self.sessions) or self.discussed_elsewhere


def _boards_readable_by(user: AnyUser) -> set[int] | None:
    """Ids of boards whose sessions ``user`` may read; ``None`` means every board (staff, product managers)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_staff or user.is_superuser or has_role(user, Role.PRODUCT_MANAGER):
        return None
    accepted = BoardMembership.objects.filter(
        user_id=user.pk, charter_accepted_at__isnull=False, charter_version_accepted=F("board__charter_version")
    ).values_list("board_id", flat=True)
    return set(accepted) | set(Board.objects.filter(facilitators=user.pk).values_list("pk", flat=True))


def idea_outcomes(*, idea: Idea, user: AnyUser) -> IdeaOutcomes:
    """Decisions and action items of started sessions whose agenda items link ``idea``, as ``user`` may see them.

    A decision or action item belongs to the idea when it was recorded on an agenda item that links the idea.
    Costs a fixed number of queries whatever the number of sessions.
    """
    items = list(
        AgendaItem.objects.filter(ideas=idea, session__state__in=[Session.State.LIVE, Session.State.ENDED])
        .select_related("session", "session__board")
        .order_by("-session__starts_at", "order")
    )
    if not items:
        return IdeaOutcomes(sessions=[], discussed_elsewhere=False)
    readable = _boards_readable_by(user)
    shown = [item for item in items if readable is None or item.session.board_id in readable]
    hidden = len(shown) < len(items)
    item_ids = [item.pk for item in shown]
    decisions = Decision.objects.filter(agenda_item_id__in=item_ids).order_by("pk")
    actions = ActionItem.objects.filter(agenda_item_id__in=item_ids).select_related("owner").order_by("due_date", "pk")
    by_session: dict[int, IdeaSessionOutcome] = {}
    for item in shown:
        outcome = by_session.setdefault(
            item.session_id, IdeaSessionOutcome(session=item.session, agenda_items=[], decisions=[], action_items=[])
        )
        outcome.agenda_items.append(item)
    for decision in decisions:
        by_session[decision.session_id].decisions.append(decision)
    for action in actions:
        by_session[action.session_id].action_items.append(action)
    return IdeaOutcomes(sessions=list(by_session.values()), discussed_elsewhere=hidden)
