"""Pages of the boards app: board list, board and charter, session, live room, minutes, survey, NPS."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from boards import services
from boards.events import REACTIONS, resume_limit
from boards.forms import NpsForm
from boards.models import ActionItem, BoardMembership, NpsResponse, PreRead, PreReadAcknowledgement, Session
from boards.pdf import minutes_pdf
from boards.selectors import (
    BoardAccess,
    SessionAccess,
    agenda_for,
    board_access,
    boards_for_user,
    idea_links,
    minutes_for,
    nps_for_board,
    nps_summary,
    session_access,
)
from cocreate.errors import DomainError, NotFoundError, PermissionDeniedError
from cocreate.models import User


def _board(request: HttpRequest, pk: int) -> BoardAccess:
    try:
        return board_access(user=request.user, board_id=pk)
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None


def _session(request: HttpRequest, pk: int) -> SessionAccess:
    """The session for someone allowed in; a member who has not accepted the charter gets a 403."""
    try:
        return session_access(user=request.user, session_id=pk)
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    boards = list(boards_for_user(user=user))
    memberships = {m.board_id: m for m in BoardMembership.objects.filter(user=user).select_related("board")}
    now = timezone.now()
    rows = []
    for board in boards:
        membership = memberships.get(board.pk)
        next_session = board.sessions.exclude(state=Session.State.ENDED).order_by("starts_at").first()
        rows.append(
            {
                "board": board,
                "charter_pending": membership is not None and not membership.charter_current,
                "next_session": next_session,
                "live": next_session is not None and next_session.state == Session.State.LIVE,
            }
        )
    return render(request, "boards/index.html", {"rows": rows, "now": now})


@login_required
def board_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _board(request, pk)
    context: dict[str, object] = {"access": access, "board": access.board}
    if access.can_view:
        sessions = access.board.sessions.order_by("-starts_at")
        context["upcoming"] = [s for s in sessions if s.state != Session.State.ENDED][::-1]
        context["past"] = [s for s in sessions if s.state == Session.State.ENDED]
        context["members"] = access.board.memberships.select_related("user", "user__organisation").order_by(
            "user__display_name"
        )
        context["facilitators"] = access.board.facilitators.all()
    return render(request, "boards/board.html", context)


@login_required
@require_POST
def charter_accept(request: HttpRequest, pk: int) -> HttpResponse:
    access = _board(request, pk)
    if request.POST.get("agree") != "yes":
        messages.error(request, _("Tick the box to accept the charter."))
        return redirect("boards:board", pk=pk)
    try:
        services.charter_accept(board=access.board, user=_user(request), version=request.POST.get("version"))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you. You accepted the charter and can now take part."))
    return redirect("boards:board", pk=pk)


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _session(request, pk)
    session = access.session
    user = _user(request)
    pre_reads = list(session.pre_reads.select_related("document"))
    read = set(
        PreReadAcknowledgement.objects.filter(pre_read__in=pre_reads, user=user).values_list("pre_read_id", flat=True)
    )
    member_count = session.board.memberships.count()
    ack_counts: dict[int, list[str]] = {}
    if access.is_facilitator:
        for ack in PreReadAcknowledgement.objects.filter(pre_read__in=pre_reads).select_related("user"):
            ack_counts.setdefault(ack.pre_read_id, []).append(ack.user.public_name)
    context = {
        "session": session,
        "board": session.board,
        "access": access,
        "agenda": agenda_for(session=session, user=user),
        "pre_reads": [
            {"pre_read": p, "read": p.pk in read, "readers": sorted(ack_counts.get(p.pk, []))} for p in pre_reads
        ],
        "member_count": member_count,
        "survey_open": session.state == Session.State.ENDED
        and not access.is_facilitator
        and not NpsResponse.objects.filter(session=session, user=user).exists(),
    }
    return render(request, "boards/session.html", context)


@login_required
def pre_read_download(request: HttpRequest, pk: int) -> FileResponse:
    """Pre-reads are served here, after the access check, never from a public document URL."""
    pre_read = PreRead.objects.select_related("document").filter(pk=pk).first()
    if pre_read is None:
        raise Http404
    _session(request, pre_read.session_id)
    document = pre_read.document
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.filename)


@login_required
@require_POST
def pre_read_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    pre_read = PreRead.objects.filter(pk=pk).first()
    if pre_read is None:
        raise Http404
    _session(request, pre_read.session_id)
    services.pre_read_acknowledge(pre_read=pre_read, user=_user(request))
    messages.success(request, _("Marked as read."))
    return redirect("boards:session", pk=pre_read.session_id)


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


@login_required
def session_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """An iCalendar file (RFC 5545) with the session in UTC; calendars show it in the reader's time zone."""
    session = _session(request, pk).session
    url = request.build_absolute_uri(reverse("boards:session", args=[session.pk]))
    agenda = "\n".join(
        f"{a.order}. {a.title} ({a.duration_minutes} min)" for a in session.agenda_items.order_by("order")
    )
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//cocreate//advisory boards//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:session-{session.pk}@cocreate",
        f"DTSTAMP:{_ics_time(timezone.now())}",
        f"DTSTART:{_ics_time(session.starts_at)}",
        f"DTEND:{_ics_time(session.ends_at)}",
        f"SUMMARY:{_ics_text(f'{session.board.name}: {session.title}')}",
        f"DESCRIPTION:{_ics_text(agenda + chr(10) + url)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    response = HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


def _live_strings() -> dict[str, str]:
    """The live room script's words, translated here so that the script needs no catalogue of its own."""
    return {
        "online": _("Connected"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "catchingUp": _("Catching up on what you missed…"),
        "closed4401": _("Your login has expired. Please log in again."),
        "closed4403": _("You no longer have access to this session."),
        "closed4404": _("This session no longer exists."),
        "allTopics": _("All topics"),
        "anonymous": _("Anonymous"),
        "you": _("you"),
        "pending": _("Awaiting approval"),
        "answered": _("Answered"),
        "pinned": _("Pinned"),
        "approve": _("Approve"),
        "markAnswered": _("Mark answered"),
        "pin": _("Pin"),
        "unpin": _("Unpin"),
        "hide": _("Hide"),
        "upvote": _("Upvote"),
        "vote": _("Vote"),
        "closePoll": _("Close poll"),
        "closed": _("Closed"),
        "voters": _("voters"),
        "resultsAfterClose": _("Results are shown when the poll closes."),
        "noMessages": _("No messages on this topic yet."),
        "noQuestions": _("No questions yet. Ask the first one."),
        "noPolls": _("No polls yet."),
        "nothingYet": _("Nothing yet."),
        "goTo": _("Go to"),
        "owner": _("Owner"),
        "due": _("due"),
        "live": _("Live"),
        "scheduled": _("Scheduled"),
        "ended": _("Ended"),
        "sessionEnded": _("The session has ended. The minutes will be e-mailed to members."),
        "confirmEnd": _("End the session for everyone? Minutes are sent to members."),
        "supporters": _("supporters"),
        "linkedIdeas": _("Ideas on this topic"),
    }


@login_required
def live_room(request: HttpRequest, pk: int) -> HttpResponse:
    access = _session(request, pk)
    session = access.session
    agenda = [
        {
            "id": a.pk,
            "order": a.order,
            "title": a.title,
            "minutes": a.duration_minutes,
            "ideas": idea_links(a.linked_ideas),  # type: ignore[attr-defined]  # prefetched by agenda_for
        }
        for a in agenda_for(session=session, user=request.user)
    ]
    people = [
        {"id": m.user_id, "name": m.user.public_name}
        for m in session.board.memberships.select_related("user").order_by("user__display_name")
    ]
    people += [{"id": f.pk, "name": f.public_name} for f in session.board.facilitators.all()]
    config = {
        "session": session.pk,
        "state": session.state,
        "currentAgendaItem": session.current_agenda_item_id,
        "isFacilitator": access.is_facilitator,
        "user": {"id": request.user.pk, "name": _user(request).public_name},
        "agenda": agenda,
        "people": people,
        "reactions": list(REACTIONS),
        "eventsUrl": reverse("api-session-events", args=[session.pk]),
        "socketPath": f"/ws/sessions/{session.pk}/",
        "resumeLimit": resume_limit(),
        "t": _live_strings(),
    }
    return render(request, "boards/live.html", {"session": session, "access": access, "config": config})


def _ended(request: HttpRequest, pk: int) -> SessionAccess:
    access = _session(request, pk)
    if access.session.state != Session.State.ENDED and not access.is_facilitator:
        raise Http404
    return access


@login_required
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    access = _ended(request, pk)
    return render(request, "boards/minutes.html", {**minutes_for(session=access.session), "access": access})


@login_required
def minutes_download(request: HttpRequest, pk: int) -> HttpResponse:
    access = _ended(request, pk)
    response = HttpResponse(minutes_pdf(minutes_for(session=access.session)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="minutes-session-{access.session.pk}.pdf"'
    return response


@login_required
@require_POST
def action_item_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner or a facilitator marks an action item done (or open again, or cancelled)."""
    item = ActionItem.objects.select_related("session__board").filter(pk=pk).first()
    if item is None:
        raise Http404
    _session(request, item.session_id)
    try:
        services.action_item_set_status(action_item=item, status=request.POST.get("status", ""), by=_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("boards:minutes", pk=item.session_id)


@login_required
def nps_survey(request: HttpRequest, pk: int) -> HttpResponse:
    access = _session(request, pk)
    session = access.session
    if access.is_facilitator:
        return redirect("boards:nps_report", pk=session.board_id)
    existing = NpsResponse.objects.filter(session=session, user=_user(request)).first()
    initial = {"score": existing.score, "comment": existing.comment} if existing else None
    form = NpsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.nps_submit(
                session=session,
                user=_user(request),
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("boards:session", pk=session.pk)
    return render(request, "boards/nps_survey.html", {"session": session, "form": form, "existing": existing})


@login_required
def nps_report(request: HttpRequest, pk: int) -> HttpResponse:
    access = _board(request, pk)
    if not access.can_manage:
        raise PermissionDenied(_("Only facilitators see survey results."))
    overall, points = nps_for_board(board=access.board)
    comments = (
        NpsResponse.objects.filter(session__board=access.board)
        .exclude(comment="")
        .select_related("session")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "boards/nps_report.html",
        {
            "board": access.board,
            "overall": overall,
            "points": points,
            "comments": comments,
            "empty": nps_summary(label="", scores=[]),
        },
    )
