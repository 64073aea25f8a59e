"""Writes of the boards app: memberships, the charter, sessions, and every live-room action.

Live-room actions share one shape: ``<entity>_<action>(*, access, user, ..., client_msg_id="") -> SessionEvent``.
Each runs in one transaction holding the session row lock (``select_for_update``), stores its domain row and
one ``SessionEvent``, and broadcasts on commit (``boards.events.event_append``). A repeated ``client_msg_id``
from the same author returns the event stored the first time and stores nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.documents.models import Document
from wagtail.models import Collection, CollectionViewRestriction

from boards import events
from boards.events import event_append, group_send, user_group
from boards.models import (
    ActionItem,
    AgendaItem,
    Board,
    BoardMembership,
    ChatMessage,
    Decision,
    NpsResponse,
    Poll,
    PollOption,
    PollVote,
    PreRead,
    PreReadAcknowledgement,
    Question,
    QuestionUpvote,
    Session,
    SessionEvent,
)
from boards.selectors import SessionAccess, board_can_manage, poll_counts, poll_voter_count
from cocreate.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from cocreate.models import User
from cocreate.outbox import task_enqueue_on_commit
from cocreate.roles import GROUP_NAMES, Role, has_role
from cocreate.sanitize import clean_text
from ideas.models import Idea
from ideas.selectors import ideas_visible_to

# Codes of the errors that mean "this person may no longer be in the room" (the live room closes the socket).
ACCESS_LOST = frozenset({"not_member", "charter_required", "not_facilitator_anymore"})
SESSION_GONE = "session_gone"

MAX_CLIENT_MSG_ID = 64
MAX_CHAT_LENGTH = 2000
MAX_POLL_OPTIONS = 10
MAX_IDEAS_PER_AGENDA_ITEM = 20


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.public_name}


def _text(value: Any, *, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise DomainError(_("%(field)s must be text.") % {"field": field}, code="invalid")
    text = clean_text(value)
    if not text:
        raise DomainError(_("%(field)s must not be empty.") % {"field": field}, code="invalid")
    if len(text) > max_length:
        raise DomainError(
            _("%(field)s is limited to %(n)d characters.") % {"field": field, "n": max_length}, code="too_long"
        )
    return text


def _int(value: Any, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(_("%(field)s must be a whole number.") % {"field": field}, code="invalid")
    return value


# --- Boards and membership -------------------------------------------------------------------------------


def board_create(*, name: str, charter_text: str, description: str = "", charter_version: str = "1") -> Board:
    return Board.objects.create(
        name=clean_text(name),
        description=clean_text(description),
        charter_text=charter_text,
        charter_version=charter_version,
    )


def board_member_add(*, board: Board, user: User, by: User | None) -> BoardMembership:
    """Add ``user`` to the board (idempotent); they see nothing of it until they accept the charter."""
    if not user.is_active:
        raise DomainError(_("This account is not active."))
    membership, _created = BoardMembership.objects.get_or_create(board=board, user=user, defaults={"added_by": by})
    return membership


def board_member_remove(*, board: Board, user: User, by: User | None) -> bool:
    """Remove ``user``; their open live-room sockets for this board are closed once this commits."""
    deleted, _detail = BoardMembership.objects.filter(board=board, user=user).delete()
    if deleted:
        message = {"type": "access.revoked", "board_id": board.pk, "user_id": user.pk}
        transaction.on_commit(lambda: group_send(user_group(user.pk), message))
    return bool(deleted)


def charter_accept(*, board: Board, user: User, version: str | None = None) -> BoardMembership:
    """Record that ``user`` accepted the board's current charter (version and time).

    ``version`` names the text the person saw; accepting an outdated version is refused, so nobody accepts
    a charter they did not read.
    """
    membership = BoardMembership.objects.filter(board=board, user=user).first()
    if membership is None:
        raise PermissionDeniedError(_("Only members of this board can accept its charter."))
    if version is not None and str(version) != board.charter_version:
        raise ConflictError(_("The charter has changed since you opened it. Please read the current version."))
    BoardMembership.objects.filter(pk=membership.pk).update(
        charter_version_accepted=board.charter_version, charter_accepted_at=timezone.now()
    )
    membership.refresh_from_db()
    return membership


# --- Sessions ----------------------------------------------------------------------------------------------


def agenda_ideas_resolve(*, idea_ids: Sequence[Any], by: User | None) -> list[Idea]:
    """The ideas ``idea_ids`` name, if every one exists and ``by`` may see it; else a DomainError naming the rest.

    ``by=None`` (demo data, scripts) may link public ideas only.
    """
    if any(isinstance(value, bool) or not isinstance(value, int) for value in idea_ids):
        raise DomainError(_("Ideas are given by their ids (whole numbers)."), code="invalid")
    wanted = list(dict.fromkeys(idea_ids))
    if len(wanted) > MAX_IDEAS_PER_AGENDA_ITEM:
        raise DomainError(
            _("An agenda item links at most %(n)d ideas.") % {"n": MAX_IDEAS_PER_AGENDA_ITEM}, code="invalid"
        )
    viewer = by if by is not None else AnonymousUser()
    found = {idea.pk: idea for idea in ideas_visible_to(viewer).filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise DomainError(
            _("There is no idea you may link with the id %(ids)s.") % {"ids": ", ".join(missing)}, code="unknown_idea"
        )
    return [found[pk] for pk in wanted]


@transaction.atomic
def session_create(
    *,
    board: Board,
    title: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    agenda: Sequence[dict[str, Any]] = (),
    description: str = "",
    moderate_questions: bool = False,
    by: User | None = None,
) -> Session:
    """Schedule a session with its agenda (``[{"title", "duration_minutes", "ideas": [idea ids]}]``).

    It ends when the agenda does unless ``ends_at`` says otherwise. Linked ideas must be ones ``by`` may see
    (see ``agenda_ideas_resolve``); any bad input stores nothing.
    """
    if timezone.is_naive(starts_at):
        raise DomainError(_("The start time must include a time zone."))
    items = [(clean_text(str(item.get("title", ""))), int(item.get("duration_minutes") or 15)) for item in agenda]
    if any(not title for title, _minutes in items):
        raise DomainError(_("Every agenda item needs a title."))
    if any(minutes < 1 or minutes > 600 for _title, minutes in items):
        raise DomainError(_("Agenda items last between 1 and 600 minutes."))
    linked = [agenda_ideas_resolve(idea_ids=item.get("ideas") or [], by=by) for item in agenda]
    if ends_at is None:
        ends_at = starts_at + datetime.timedelta(minutes=sum(m for _t, m in items) or 60)
    if ends_at <= starts_at:
        raise DomainError(_("A session must end after it starts."))
    session = Session.objects.create(
        board=board,
        title=clean_text(title),
        description=clean_text(description),
        starts_at=starts_at,
        ends_at=ends_at,
        moderate_questions=moderate_questions,
    )
    created = AgendaItem.objects.bulk_create(
        AgendaItem(session=session, order=i, title=t, duration_minutes=m) for i, (t, m) in enumerate(items, start=1)
    )
    link_model = AgendaItem.ideas.through
    link_model.objects.bulk_create(
        link_model(agendaitem_id=item.pk, idea_id=idea.pk)
        for item, ideas in zip(created, linked, strict=True)
        for idea in ideas
    )
    return session


def agenda_item_link_ideas(*, item: AgendaItem, ideas: Sequence[Idea], by: User | None) -> AgendaItem:
    """Make ``ideas`` the agenda item's linked ideas (replacing the previous ones), if ``by`` may see each."""
    resolved = agenda_ideas_resolve(idea_ids=[idea.pk for idea in ideas], by=by)
    item.ideas.set(resolved)
    return item


# --- Pre-reads ---------------------------------------------------------------------------------------------


def board_pre_read_collection(*, board: Board) -> Collection:
    """The board's private Wagtail collection for pre-reads, created on first use.

    Its view restriction lets only product managers (and superusers) through Wagtail's own document URL, so
    that URL never hands a pre-read to anyone else; members download through ``boards:pre_read``, which
    checks membership and the charter. Takes the board row lock so that two callers create one collection.
    """
    with transaction.atomic():
        locked = Board.objects.select_for_update().get(pk=board.pk)
        collection = Collection.objects.filter(pk=locked.pre_read_collection_id).first()
        if collection is None:
            root = Collection.get_first_root_node()
            collection = root.add_child(name=f"{locked.name[:200]} · pre-reads (private)")
            Board.objects.filter(pk=locked.pk).update(pre_read_collection=collection)
        restriction, _created = CollectionViewRestriction.objects.get_or_create(
            collection=collection, defaults={"restriction_type": CollectionViewRestriction.GROUPS}
        )
        if restriction.restriction_type != CollectionViewRestriction.GROUPS:
            restriction.restriction_type = CollectionViewRestriction.GROUPS
            restriction.password = ""
            restriction.save(update_fields=["restriction_type", "password"])
        managers, _created = Group.objects.get_or_create(name=GROUP_NAMES[Role.PRODUCT_MANAGER])
        restriction.groups.set([managers])
    board.pre_read_collection = collection
    return collection


def pre_read_document_protect(*, board: Board, document: Document) -> Document:
    """Move ``document`` into the board's private collection; a pre-read of another board is refused."""
    collection = board_pre_read_collection(board=board)
    if document.collection_id == collection.pk:
        return document
    if Board.objects.filter(pre_read_collection_id=document.collection_id).exclude(pk=board.pk).exists():
        raise ConflictError(_("This document is a pre-read of another board. Upload a copy for this board."))
    Document.objects.filter(pk=document.pk).update(collection=collection)
    document.collection = collection
    return document


@transaction.atomic
def pre_read_add(*, session: Session, document: Document, order: int = 0) -> PreRead:
    """Attach ``document`` to the session as a pre-read, moving it into the board's private collection."""
    pre_read_document_protect(board=session.board, document=document)
    try:
        with transaction.atomic():
            return PreRead.objects.create(session=session, document=document, order=order)
    except IntegrityError:
        raise ConflictError(_("This document is already a pre-read of this session.")) from None


def pre_read_acknowledge(*, pre_read: PreRead, user: User) -> PreReadAcknowledgement:
    ack, _created = PreReadAcknowledgement.objects.get_or_create(pre_read=pre_read, user=user)
    return ack


def _locked_action(
    *, access: SessionAccess, user: User, client_msg_id: Any, build: Callable[[Session], SessionEvent]
) -> SessionEvent:
    """Run ``build`` once per (session, author, client_msg_id) inside a transaction holding the session lock."""
    if client_msg_id in (None, ""):
        client_msg_id = ""
    elif not isinstance(client_msg_id, str) or len(client_msg_id) > MAX_CLIENT_MSG_ID:
        raise DomainError(_("client_msg_id must be text of at most 64 characters."), code="invalid")
    session_id = access.session.pk

    def stored() -> SessionEvent | None:
        if not client_msg_id:
            return None
        return SessionEvent.objects.filter(session_id=session_id, author=user, client_msg_id=client_msg_id).first()

    earlier = stored()
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            session = _session_locked(access=access, user=user)
            event = build(session)
            if client_msg_id and event.author_id == user.pk:
                event.client_msg_id = client_msg_id
                event.save(update_fields=["client_msg_id"])
            return event
    except IntegrityError:
        earlier = stored()
        if earlier is None:
            raise
        return earlier


def _session_locked(*, access: SessionAccess, user: User) -> Session:
    """Lock the session row and check, in the same statement, that ``user`` may still act in it.

    The live room checks membership and charter on every message; doing it here costs no extra query and
    holds for the whole transaction. Facilitators by role (superusers, product managers) keep the access
    they had when they joined.
    """
    board = OuterRef("board_id")
    member: Any = Value(True)
    accepted: Any = Value(True)
    facilitates: Any = Value(False)
    if access.is_facilitator:
        facilitates = Exists(Board.facilitators.through.objects.filter(board_id=board, user_id=user.pk))
    else:
        memberships = BoardMembership.objects.filter(board_id=board, user_id=user.pk)
        member = Exists(memberships)
        accepted = Exists(
            memberships.filter(
                charter_accepted_at__isnull=False, charter_version_accepted=OuterRef("board__charter_version")
            )
        )
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("board", "current_agenda_item")
        .annotate(member=member, accepted=accepted, facilitates=facilitates)
        .filter(pk=access.session.pk)
        .first()
    )
    if session is None:
        raise NotFoundError(_("There is no such session."), code=SESSION_GONE)
    if access.is_facilitator:
        by_role = user.is_superuser or has_role(user, Role.PRODUCT_MANAGER)
        if not (by_role or session.facilitates):
            raise PermissionDeniedError(_("Only facilitators can do that."), code="not_facilitator_anymore")
    elif not session.member:
        raise PermissionDeniedError(_("Only members of this board can join its sessions."), code="not_member")
    elif not session.accepted:
        raise PermissionDeniedError(
            _("Accept the board's confidentiality charter before joining its sessions."), code="charter_required"
        )
    return session


def _require_live(session: Session) -> None:
    if session.state != Session.State.LIVE:
        raise DomainError(_("The session is not live."), code="not_live")


def _require_facilitator(access: SessionAccess) -> None:
    if not access.is_facilitator:
        raise PermissionDeniedError(_("Only facilitators can do that."))


def _agenda_item(session: Session, value: Any) -> AgendaItem | None:
    if value in (None, ""):
        return session.current_agenda_item
    item = AgendaItem.objects.filter(session=session, pk=_int(value, field="agenda_item")).first()
    if item is None:
        raise NotFoundError(_("There is no such agenda item in this session."))
    return item


def chat_send(
    *, access: SessionAccess, user: User, body: Any, agenda_item: Any = None, client_msg_id: Any = ""
) -> SessionEvent:
    text = _text(body, field="body", max_length=MAX_CHAT_LENGTH)

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        item = _agenda_item(session, agenda_item)
        message = ChatMessage.objects.create(session=session, agenda_item=item, author=user, body=text)
        return event_append(
            session=session,
            kind=events.CHAT_MESSAGE,
            author=user,
            payload={
                "message": message.pk,
                "body": text,
                "agenda_item": item.pk if item else None,
                "author": _person(user),
            },
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def chat_hide(*, access: SessionAccess, user: User, message: Any, client_msg_id: Any = "") -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        row = ChatMessage.objects.filter(session=session, pk=_int(message, field="message")).first()
        if row is None:
            raise NotFoundError(_("There is no such message."))
        ChatMessage.objects.filter(pk=row.pk).update(hidden=True)
        return event_append(session=session, kind=events.CHAT_HIDDEN, author=user, payload={"message": row.pk})

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def chat_pin(
    *, access: SessionAccess, user: User, message: Any, pinned: Any = True, client_msg_id: Any = ""
) -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        row = ChatMessage.objects.filter(session=session, pk=_int(message, field="message"), hidden=False).first()
        if row is None:
            raise NotFoundError(_("There is no such message."))
        ChatMessage.objects.filter(pk=row.pk).update(pinned=bool(pinned))
        return event_append(
            session=session, kind=events.CHAT_PINNED, author=user, payload={"message": row.pk, "pinned": bool(pinned)}
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def _question_payload(question: Question) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what members see, what facilitators and the author see in addition)."""
    public = {
        "question": question.pk,
        "body": question.body,
        "anonymous": question.anonymous,
        "author": None if question.anonymous else _person(question.author),
        "agenda_item": question.agenda_item_id,
        "status": question.status,
        "upvotes": question.upvote_count,
    }
    private = {"author": _person(question.author)} if question.anonymous else {}
    return public, private


def question_ask(
    *,
    access: SessionAccess,
    user: User,
    body: Any,
    anonymous: Any = False,
    agenda_item: Any = None,
    client_msg_id: Any = "",
) -> SessionEvent:
    """Ask a question; with moderation on, only facilitators (and the author) see it until it is approved."""
    text = _text(body, field="body", max_length=MAX_CHAT_LENGTH)

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        item = _agenda_item(session, agenda_item)
        pending = session.moderate_questions and not access.is_facilitator
        question = Question.objects.create(
            session=session,
            agenda_item=item,
            author=user,
            anonymous=bool(anonymous),
            body=text,
            status=Question.Status.PENDING if pending else Question.Status.OPEN,
        )
        public, private = _question_payload(question)
        return event_append(
            session=session,
            kind=events.QUESTION_ASKED,
            author=user,
            payload=public,
            private=private,
            visibility=SessionEvent.Visibility.FACILITATORS if pending else SessionEvent.Visibility.EVERYONE,
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def _question(session: Session, value: Any, *, statuses: Sequence[str]) -> Question:
    question = (
        Question.objects.select_related("author")
        .filter(session=session, pk=_int(value, field="question"), status__in=statuses)
        .first()
    )
    if question is None:
        raise NotFoundError(_("There is no such question."))
    return question


VISIBLE_QUESTION = (Question.Status.OPEN, Question.Status.ANSWERED)


def question_approve(*, access: SessionAccess, user: User, question: Any, client_msg_id: Any = "") -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        row = _question(session, question, statuses=[Question.Status.PENDING])
        row.status = Question.Status.OPEN
        row.save(update_fields=["status"])
        public, private = _question_payload(row)
        # The event's author is the person who asked, so their anonymity rules apply to this event too.
        return event_append(
            session=session, kind=events.QUESTION_PUBLISHED, author=row.author, payload=public, private=private
        )

    return _locked_action(access=access, user=user, client_msg_id="", build=build)


def question_upvote(*, access: SessionAccess, user: User, question: Any, client_msg_id: Any = "") -> SessionEvent:
    """One upvote per person per question."""

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        row = _question(session, question, statuses=VISIBLE_QUESTION)
        try:
            with transaction.atomic():
                QuestionUpvote.objects.create(question=row, user=user)
        except IntegrityError:
            raise ConflictError(_("You already upvoted this question."), code="already_upvoted") from None
        Question.objects.filter(pk=row.pk).update(upvote_count=F("upvote_count") + 1)
        row.refresh_from_db(fields=["upvote_count"])
        return event_append(
            session=session,
            kind=events.QUESTION_UPVOTED,
            author=user,
            payload={"question": row.pk, "upvotes": row.upvote_count},
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def _question_moderate(
    *, access: SessionAccess, user: User, question: Any, kind: str, change: dict[str, Any], client_msg_id: Any
) -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        row = _question(session, question, statuses=[*VISIBLE_QUESTION, Question.Status.PENDING])
        Question.objects.filter(pk=row.pk).update(**change)
        return event_append(session=session, kind=kind, author=user, payload={"question": row.pk, **change})

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def question_answer(*, access: SessionAccess, user: User, question: Any, client_msg_id: Any = "") -> SessionEvent:
    return _question_moderate(
        access=access,
        user=user,
        question=question,
        kind=events.QUESTION_ANSWERED,
        change={"status": Question.Status.ANSWERED},
        client_msg_id=client_msg_id,
    )


def question_hide(*, access: SessionAccess, user: User, question: Any, client_msg_id: Any = "") -> SessionEvent:
    return _question_moderate(
        access=access,
        user=user,
        question=question,
        kind=events.QUESTION_HIDDEN,
        change={"status": Question.Status.HIDDEN},
        client_msg_id=client_msg_id,
    )


def question_pin(
    *, access: SessionAccess, user: User, question: Any, pinned: Any = True, client_msg_id: Any = ""
) -> SessionEvent:
    return _question_moderate(
        access=access,
        user=user,
        question=question,
        kind=events.QUESTION_PINNED,
        change={"pinned": bool(pinned)},
        client_msg_id=client_msg_id,
    )


def poll_open(
    *,
    access: SessionAccess,
    user: User,
    question: Any,
    options: Any,
    kind: Any = Poll.Kind.SINGLE,
    results_live: Any = True,
    agenda_item: Any = None,
    client_msg_id: Any = "",
) -> SessionEvent:
    _require_facilitator(access)
    text = _text(question, field="question", max_length=300)
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_POLL_OPTIONS:
        raise DomainError(_("A poll needs between 2 and 10 options."), code="invalid")
    labels = [_text(option, field="option", max_length=200) for option in options]
    if kind not in Poll.Kind.values:
        raise DomainError(_("A poll is single or multiple choice."), code="invalid")

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        item = _agenda_item(session, agenda_item)
        poll = Poll.objects.create(
            session=session,
            agenda_item=item,
            question=text,
            kind=kind,
            results_live=bool(results_live),
            created_by=user,
        )
        created = PollOption.objects.bulk_create(
            PollOption(poll=poll, order=i, label=label) for i, label in enumerate(labels, start=1)
        )
        return event_append(
            session=session,
            kind=events.POLL_OPENED,
            author=user,
            payload={
                "poll": poll.pk,
                "question": text,
                "kind": kind,
                "results_live": poll.results_live,
                "agenda_item": item.pk if item else None,
                "options": [{"id": o.pk, "label": o.label} for o in created],
            },
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def poll_vote(*, access: SessionAccess, user: User, poll: Any, options: Any, client_msg_id: Any = "") -> SessionEvent:
    """Vote (or change one's vote). Results go to everyone when the poll shows them live, else to facilitators."""
    if isinstance(options, int) and not isinstance(options, bool):
        options = [options]
    if not isinstance(options, list) or not options:
        raise DomainError(_("Choose at least one option."), code="invalid")
    option_ids = {_int(option, field="option") for option in options}

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        row = Poll.objects.filter(session=session, pk=_int(poll, field="poll")).first()
        if row is None:
            raise NotFoundError(_("There is no such poll."))
        if row.state != Poll.State.OPEN:
            raise DomainError(_("This poll is closed."), code="poll_closed")
        if row.kind == Poll.Kind.SINGLE and len(option_ids) != 1:
            raise DomainError(_("Choose exactly one option."), code="invalid")
        chosen = list(PollOption.objects.filter(poll=row, pk__in=option_ids))
        if len(chosen) != len(option_ids):
            raise NotFoundError(_("There is no such option in this poll."))
        PollVote.objects.filter(poll=row, user=user).delete()
        PollVote.objects.bulk_create(PollVote(poll=row, option=option, user=user) for option in chosen)
        counts = {"counts": poll_counts(poll=row), "voters": poll_voter_count(poll=row)}
        return event_append(
            session=session,
            kind=events.POLL_RESULTS,
            author=user,
            payload={"poll": row.pk, **(counts if row.results_live else {"voters": counts["voters"]})},
            private={} if row.results_live else counts,
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def poll_close(*, access: SessionAccess, user: User, poll: Any, client_msg_id: Any = "") -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        row = Poll.objects.filter(session=session, pk=_int(poll, field="poll"), state=Poll.State.OPEN).first()
        if row is None:
            raise NotFoundError(_("There is no such open poll."))
        Poll.objects.filter(pk=row.pk).update(state=Poll.State.CLOSED, closed_at=timezone.now())
        return event_append(
            session=session,
            kind=events.POLL_CLOSED,
            author=user,
            payload={"poll": row.pk, "counts": poll_counts(poll=row), "voters": poll_voter_count(poll=row)},
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def reaction_add(*, access: SessionAccess, user: User, emoji: Any, client_msg_id: Any = "") -> SessionEvent:
    if emoji not in events.REACTIONS:
        raise DomainError(_("Unknown reaction."), code="invalid")

    def build(session: Session) -> SessionEvent:
        _require_live(session)
        return event_append(
            session=session, kind=events.REACTION_ADDED, author=user, payload={"emoji": emoji, "author": _person(user)}
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def agenda_advance(
    *, access: SessionAccess, user: User, agenda_item: Any = None, client_msg_id: Any = ""
) -> SessionEvent:
    """Move the room to ``agenda_item``, or to the item after the current one."""
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        if agenda_item not in (None, ""):
            item = _agenda_item(session, agenda_item)
        else:
            after = session.current_agenda_item.order if session.current_agenda_item else 0
            item = AgendaItem.objects.filter(session=session, order__gt=after).order_by("order").first()
            if item is None:
                raise DomainError(_("This is the last agenda item."), code="agenda_end")
        session.current_agenda_item = item
        session.save(update_fields=["current_agenda_item"])
        assert item is not None
        return event_append(
            session=session,
            kind=events.AGENDA_ADVANCED,
            author=user,
            payload={"agenda_item": item.pk, "title": item.title, "order": item.order},
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def decision_record(
    *, access: SessionAccess, user: User, text: Any, agenda_item: Any = None, client_msg_id: Any = ""
) -> SessionEvent:
    _require_facilitator(access)
    body = _text(text, field="text", max_length=MAX_CHAT_LENGTH)

    def build(session: Session) -> SessionEvent:
        item = _agenda_item(session, agenda_item)
        decision = Decision.objects.create(session=session, agenda_item=item, text=body, recorded_by=user)
        return event_append(
            session=session,
            kind=events.DECISION_RECORDED,
            author=user,
            payload={"decision": decision.pk, "text": body, "agenda_item": item.pk if item else None},
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def action_item_create(
    *,
    access: SessionAccess,
    user: User,
    title: Any,
    owner: Any,
    due_date: Any,
    agenda_item: Any = None,
    client_msg_id: Any = "",
) -> SessionEvent:
    """An action item owned by a member or a facilitator of the board, due on an ISO date."""
    _require_facilitator(access)
    text = _text(title, field="title", max_length=300)
    try:
        due = datetime.date.fromisoformat(str(due_date))
    except ValueError:
        raise DomainError(_("The due date must be a date (YYYY-MM-DD)."), code="invalid") from None
    owner_id = _int(owner, field="owner")

    def build(session: Session) -> SessionEvent:
        owner_user = User.objects.filter(pk=owner_id, is_active=True).first()
        board = session.board
        if owner_user is None or not (
            BoardMembership.objects.filter(board=board, user=owner_user).exists()
            or board_can_manage(user=owner_user, board=board)
        ):
            raise DomainError(_("The owner must be a member or a facilitator of this board."), code="invalid")
        item = _agenda_item(session, agenda_item)
        action = ActionItem.objects.create(
            session=session, agenda_item=item, title=text, owner=owner_user, due_date=due, created_by=user
        )
        return event_append(
            session=session,
            kind=events.ACTION_ITEM_CREATED,
            author=user,
            payload={
                "action_item": action.pk,
                "title": text,
                "owner": _person(owner_user),
                "due_date": due.isoformat(),
                "status": action.status,
            },
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def action_item_set_status(*, action_item: ActionItem, status: str, by: User) -> ActionItem:
    if by.pk != action_item.owner_id and not board_can_manage(user=by, board=action_item.session.board):
        raise PermissionDeniedError(_("Only the owner or a facilitator can change this action item."))
    if status not in ActionItem.Status.values:
        raise DomainError(_("Unknown status."))
    ActionItem.objects.filter(pk=action_item.pk).update(status=status)
    action_item.refresh_from_db()
    return action_item


def session_start(*, access: SessionAccess, user: User, client_msg_id: Any = "") -> SessionEvent:
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        if session.state != Session.State.SCHEDULED:
            raise ConflictError(_("Only a scheduled session can start."), code="invalid_state")
        session.state = Session.State.LIVE
        session.started_at = timezone.now()
        if session.current_agenda_item is None:
            session.current_agenda_item = session.agenda_items.order_by("order").first()
        session.save(update_fields=["state", "started_at", "current_agenda_item"])
        return event_append(
            session=session,
            kind=events.SESSION_STATE,
            author=user,
            payload={"state": session.state, "agenda_item": session.current_agenda_item_id},
        )

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


def session_end(*, access: SessionAccess, user: User, client_msg_id: Any = "") -> SessionEvent:
    """End a live session; its minutes and the NPS survey are e-mailed to members once this commits."""
    _require_facilitator(access)

    def build(session: Session) -> SessionEvent:
        if session.state != Session.State.LIVE:
            raise ConflictError(_("Only a live session can end."), code="invalid_state")
        session.state = Session.State.ENDED
        session.ended_at = timezone.now()
        session.save(update_fields=["state", "ended_at"])
        Poll.objects.filter(session=session, state=Poll.State.OPEN).update(
            state=Poll.State.CLOSED, closed_at=session.ended_at
        )
        from boards.tasks import minutes_send

        session_id = session.pk
        task_enqueue_on_commit(task=minutes_send, kwargs={"session_id": session_id})
        return event_append(session=session, kind=events.SESSION_STATE, author=user, payload={"state": session.state})

    return _locked_action(access=access, user=user, client_msg_id=client_msg_id, build=build)


# --- After the session ------------------------------------------------------------------------------------


def nps_submit(*, session: Session, user: User, score: int, comment: str = "") -> NpsResponse:
    """One answer per member per ended session; a second submission updates the first."""
    if session.state != Session.State.ENDED:
        raise DomainError(_("The survey opens when the session has ended."))
    if not BoardMembership.objects.filter(board=session.board, user=user).exists():
        raise PermissionDeniedError(_("Only members of this board answer its survey."))
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise DomainError(_("The score is a whole number from 0 to 10."))
    organisation = user.organisation
    response, _created = NpsResponse.objects.update_or_create(
        session=session,
        user=user,
        defaults={
            "score": score,
            "comment": clean_text(comment)[:2000],
            # As the respondent's organisation is when answering (a later answer records the later tier).
            "organisation": organisation,
            "tier": organisation.tier if organisation else "",
        },
    )
    return response


def minutes_email_members(*, session: Session) -> int:
    """Queue the minutes e-mail for every member (idempotent per session and member). Returns how many."""
    from cocreate.mail import email_user_on_commit

    memberships = BoardMembership.objects.filter(board=session.board, user__is_active=True).select_related("user")
    sent = 0
    for membership in memberships:
        email_user_on_commit(
            user=membership.user,
            template="boards/email/minutes",
            context={"session": session, "board": session.board, "site_url": settings.SITE_URL},
            idempotency_key=f"boards-minutes-{session.pk}-{membership.user_id}",
        )
        sent += 1
    return sent


def action_item_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Remind owners of open action items due within ``BOARDS_REMINDER_DAYS`` days (default 2), once each.

    A conditional update claims each item before its e-mail is queued, so two runs never remind twice.
    """
    from cocreate.mail import email_user_on_commit

    now = now or timezone.now()
    horizon = now.date() + datetime.timedelta(days=int(getattr(settings, "BOARDS_REMINDER_DAYS", 2)))
    due = ActionItem.objects.filter(
        status=ActionItem.Status.OPEN, reminder_sent_at__isnull=True, due_date__lte=horizon
    ).select_related("owner", "session", "session__board")
    sent = 0
    for item in due:
        with transaction.atomic():
            claimed = ActionItem.objects.filter(pk=item.pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now)
            if not claimed:
                continue
            email_user_on_commit(
                user=item.owner,
                template="boards/email/action_item_reminder",
                context={"item": item, "site_url": settings.SITE_URL},
                idempotency_key=f"boards-action-reminder-{item.pk}",
            )
            sent += 1
    return sent
