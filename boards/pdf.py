"""The minutes of a session as a PDF (reportlab), from the same data as the minutes page."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

CJK_FONT = "STSong-Light"  # a CID font shipped with reportlab; covers Chinese in both scripts
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=CJK_FONT, fontSize=18, leading=22),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=CJK_FONT, spaceBefore=10),
        "body": ParagraphStyle("b", parent=base["BodyText"], fontName=CJK_FONT, fontSize=10, leading=14),
        "meta": ParagraphStyle("m", parent=base["BodyText"], fontName=CJK_FONT, fontSize=9, textColor=colors.grey),
    }


def _table(rows: list[list[str]], styles: dict[str, ParagraphStyle], widths: list[float]) -> Table:
    cells = [[Paragraph(escape(str(cell)), styles["body"]) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef0ff")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#e3e6ee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def minutes_pdf(minutes: dict[str, Any]) -> bytes:
    session = minutes["session"]
    styles = _styles()
    p = styles["body"]
    story: list[Flowable] = [
        Paragraph(escape(_("Minutes: %(title)s") % {"title": session.title}), styles["title"]),
        Paragraph(
            escape(f"{minutes['board'].name} · {formats.date_format(session.starts_at, 'DATETIME_FORMAT')}"),
            styles["meta"],
        ),
        Paragraph(escape(_("Confidential under the board's charter.")), styles["meta"]),
        Spacer(1, 6 * mm),
        Paragraph(escape(_("Agenda")), styles["h2"]),
    ]
    for item in minutes["agenda"]:
        story.append(Paragraph(escape(f"{item.order}. {item.title} ({item.duration_minutes} min)"), p))
        for idea in item.linked_ideas:
            supporters = ngettext("%(n)d supporter", "%(n)d supporters", idea.supporters_count) % {
                "n": idea.supporters_count
            }
            story.append(Paragraph(escape(f"    · {idea.title} ({supporters})"), styles["meta"]))
    story.append(Paragraph(escape(_("Decisions")), styles["h2"]))
    story += [Paragraph(escape(f"• {d.text}"), p) for d in minutes["decisions"]] or [Paragraph(escape(_("None.")), p)]
    story.append(Paragraph(escape(_("Questions")), styles["h2"]))
    if minutes["questions"]:
        rows = [[_("Question"), _("Asked by"), _("Upvotes"), _("Answered")]]
        rows += [
            [
                q.body,
                _("Anonymous") if q.anonymous else q.author.public_name,
                str(q.upvote_count),
                _("yes") if q.status == "answered" else _("no"),
            ]
            for q in minutes["questions"]
        ]
        story.append(_table(rows, styles, [90 * mm, 35 * mm, 20 * mm, 20 * mm]))
    else:
        story.append(Paragraph(escape(_("None.")), p))
    story.append(Paragraph(escape(_("Polls")), styles["h2"]))
    for result in minutes["polls"]:
        story.append(Paragraph(escape(f"{result.poll.question} ({result.voters} {_('voters')})"), p))
        story.append(
            _table(
                [[_("Option"), _("Votes"), "%"]] + [[a, str(b), str(c)] for a, b, c in result.rows],
                styles,
                [100 * mm, 25 * mm, 20 * mm],
            )
        )
        story.append(Spacer(1, 3 * mm))
    if not minutes["polls"]:
        story.append(Paragraph(escape(_("None.")), p))
    story.append(Paragraph(escape(_("Action items")), styles["h2"]))
    if minutes["action_items"]:
        rows = [[_("Action"), _("Owner"), _("Due"), _("Status")]]
        rows += [
            [
                a.title,
                a.owner.public_name,
                formats.date_format(a.due_date, "SHORT_DATE_FORMAT"),
                str(a.get_status_display()),
            ]
            for a in minutes["action_items"]
        ]
        story.append(_table(rows, styles, [80 * mm, 40 * mm, 25 * mm, 20 * mm]))
    else:
        story.append(Paragraph(escape(_("None.")), p))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, title=str(session.title), leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm
    ).build(story)
    return buffer.getvalue()
