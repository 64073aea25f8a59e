"""Demo data: an advisory board with two members who accepted its charter, a live session and an upcoming one.

The live session's agenda links the demo's most supported ideas (overall, and among gold customers), so the
session page, the live room and those ideas' pages show the link. Runs after the ideas demo.
"""

from __future__ import annotations

import datetime
import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from wagtail.documents.models import Document

from boards import services
from boards.models import Board, BoardMembership, PreRead, Session
from cocreate.demo import DemoPeople
from cocreate.models import Organisation
from ideas.selectors import most_supported_ideas

BOARD_NAME = "Strategic Customer Advisory Board"
CHARTER = (
    "1. Confidentiality. Everything shared in this board (roadmaps, figures, other members' views) is confidential. "
    "Do not share it outside the board, not even inside your own company without permission.\n\n"
    "2. Chatham House. You may use what you learn, but never say who said it.\n\n"
    "3. No selling. The board is for strategy; neither we nor members use it to sell.\n\n"
    "4. Attendance. Members take part in at least three of the four sessions each year and read the pre-reads."
)
AGENDA = [
    {"title": "Welcome and what changed since last quarter", "duration_minutes": 10},
    {"title": "Roadmap 2027: where we are heading", "duration_minutes": 35},
    {"title": "Supply-chain visibility: your priorities", "duration_minutes": 30},
    {"title": "Decisions and next steps", "duration_minutes": 15},
]


def _pre_read_document() -> Document:
    """A two-paragraph PDF pre-read, made here so that the demo needs no files of its own."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    lines = [
        "Roadmap 2027 - pre-read for the Q4 strategy session (confidential)",
        "",
        "1. Real-time shipment visibility across carriers, in the product by Q2.",
        "2. Supplier risk scores from the ideas you supported most.",
        "Questions to think about: which of these matters most to your business, and why?",
    ]
    y = 800
    for line in lines:
        pdf.drawString(60, y, line)
        y -= 20
    pdf.save()
    return Document.objects.create(
        title="Roadmap 2027 pre-read", file=ContentFile(buffer.getvalue(), name="roadmap-2027-pre-read.pdf")
    )


def _link_demo_ideas(session: Session) -> None:
    """The roadmap item discusses the two most supported ideas, the supply-chain item the gold customers' top two."""
    items = list(session.agenda_items.order_by("order"))
    if len(items) < 3 or any(item.ideas.exists() for item in items):
        return
    picks = {
        items[1]: most_supported_ideas(limit=2),
        items[2]: most_supported_ideas(tier=Organisation.Tier.GOLD, limit=2),
    }
    for item, ideas in picks.items():
        if ideas:
            services.agenda_item_link_ideas(item=item, ideas=ideas, by=None)


@transaction.atomic
def seed_demo(*, people: DemoPeople) -> list[str]:
    board = Board.objects.filter(name=BOARD_NAME).first()
    if board is None:
        board = services.board_create(
            name=BOARD_NAME,
            description="Executives of our largest customers shape the roadmap with our product team, four times a year.",
            charter_text=CHARTER,
            charter_version="2026-11",
        )
    board.facilitators.add(people.product_manager)
    for member in (people.board_member, people.board_member2):
        services.board_member_add(board=board, user=member, by=people.product_manager)
        membership = BoardMembership.objects.get(board=board, user=member)
        if not membership.charter_current:
            services.charter_accept(board=board, user=member, version=board.charter_version)

    now = timezone.now().replace(second=0, microsecond=0)
    live = board.sessions.filter(title="Q4 strategy session").first()
    if live is None:
        live = services.session_create(
            board=board,
            title="Q4 strategy session",
            description="Live now: join the room to discuss the 2027 roadmap.",
            starts_at=now - datetime.timedelta(minutes=15),
            agenda=AGENDA,
        )
    if live.state == Session.State.SCHEDULED:
        Session.objects.filter(pk=live.pk).update(
            state=Session.State.LIVE, started_at=now, current_agenda_item=live.agenda_items.order_by("order").first()
        )
    if not live.pre_reads.exists():
        services.pre_read_add(session=live, document=_pre_read_document(), order=1)
    for pre_read in PreRead.objects.filter(session__board=board).select_related("document"):
        services.pre_read_document_protect(board=board, document=pre_read.document)
    _link_demo_ideas(live)
    if not board.sessions.filter(title="Q1 2027 planning").exists():
        services.session_create(
            board=board,
            title="Q1 2027 planning",
            starts_at=now + datetime.timedelta(days=90),
            agenda=[{"title": "Review of Q4 action items", "duration_minutes": 20}, *AGENDA[1:3]],
        )
    return [
        f"board '{board.name}': facilitator {people.product_manager.email}, "
        f"members {people.board_member.email} and {people.board_member2.email} (charter accepted)",
        f"live session: /boards/sessions/{live.pk}/live/",
    ]
