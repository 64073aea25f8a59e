"""Statement and payment files: CSV (for spreadsheets and banks) and PDF (reportlab), from the selectors' figures."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from rewards import money
from rewards.models import Payout
from rewards.selectors import Statement

STATEMENT_COLUMNS = ["period", "agreement", "agreement_title", "idea_id", "payee", "payee_name", "currency", "share_bp"]


def _safe(value: object) -> object:
    """Stop spreadsheet formula injection: text starting with = + - @ is prefixed with a quote (numbers pass)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        money.parse_amount(text)
    except money.MoneyError:
        return False
    return True


def statements_csv(statements: Iterable[Statement]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS + list(Statement.AMOUNTS))
    for statement in statements:
        data = statement.as_dict()
        writer.writerow([_safe(data[c]) for c in STATEMENT_COLUMNS + list(Statement.AMOUNTS)])
    return out.getvalue()


def statement_lines_csv(statement: Statement) -> str:
    """One statement with every contributing sales line below the summary."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "amount", "currency"])
    for name in Statement.AMOUNTS:
        writer.writerow([name, statement.amount(name), statement.currency])
    writer.writerow([])
    writer.writerow(
        ["product_code", "month", "currency", "gross_sales", "returns", "discounts", "net", "territory", "channel",
         "late", "adjusts_line"]
    )  # fmt: skip
    for line in statement.sales_lines().iterator(chunk_size=2000):
        writer.writerow(
            [
                _safe(line.product_code),
                line.month.strftime("%Y-%m"),
                line.currency,
                money.format_minor(line.gross_minor, line.currency),
                money.format_minor(line.returns_minor, line.currency),
                money.format_minor(line.discounts_minor, line.currency),
                money.format_minor(line.net_minor, line.currency),
                _safe(line.territory),
                _safe(line.channel),
                "yes" if line.is_late else "",
                _safe(line.adjusts.line_key) if line.adjusts else "",
            ]
        )
    return out.getvalue()


def payouts_csv(payouts: Iterable[Payout]) -> str:
    """The payment file for the bank: approved payouts only, one line each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["payout_id", "payee_name", "payee_email", "amount", "currency", "agreement", "period", "reference"]
    )
    for payout in payouts:
        writer.writerow(
            [
                payout.pk,
                _safe(payout.payee.public_name),
                _safe(payout.payee.email),
                money.format_minor(payout.amount_minor, payout.currency),
                payout.currency,
                _safe(payout.agreement.title),
                payout.period.code,
                f"ROYALTY-{payout.period.code}-{payout.pk}",
            ]
        )
    return out.getvalue()


LABELS = {
    "opening": gettext_lazy("Opening balance"),
    "earned": gettext_lazy("Earned"),
    "adjustments": gettext_lazy("Adjustments"),
    "recouped": gettext_lazy("Advance recouped (your share, before the split)"),
    "paid": gettext_lazy("Paid"),
    "closing": gettext_lazy("Closing balance"),
    "payable": gettext_lazy("Payable"),
    "carried_forward": gettext_lazy("Carried forward"),
}


def statement_pdf(statement: Statement) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"Royalty statement {statement.period.code}",
    )  # fmt: skip
    styles = getSampleStyleSheet()
    story: list[object] = [
        Paragraph(_("Royalty statement"), styles["Title"]),
        Paragraph(f"{statement.agreement.title} · {statement.period.code}", styles["Heading2"]),
        Paragraph(
            f"{statement.payee.public_name} · {_('share')} {statement.share_bp / 100:.2f}% · {statement.currency}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    summary = [[str(LABELS[name]), statement.amount(name)] for name in Statement.AMOUNTS]
    table = Table(summary, colWidths=[110 * mm, 50 * mm])
    table.setStyle(
        TableStyle(
            [
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ("FONTNAME", (0, 5), (-1, 5), "Helvetica-Bold"),
            ]
        )
    )
    story += [table, Spacer(1, 8 * mm), Paragraph(_("Contributing sales lines"), styles["Heading3"])]
    rows = [[_("Product"), _("Month"), _("Gross"), _("Returns"), _("Discounts"), _("Net"), _("Currency"), _("Note")]]
    # Every contributing line, however many: the statement is the payee's evidence for the amount.
    for line in statement.sales_lines().iterator(chunk_size=2000):
        rows.append(
            [
                line.product_code,
                line.month.strftime("%Y-%m"),
                money.format_minor(line.gross_minor, line.currency),
                money.format_minor(line.returns_minor, line.currency),
                money.format_minor(line.discounts_minor, line.currency),
                money.format_minor(line.net_minor, line.currency),
                line.currency,
                _("late, adjusts %(key)s") % {"key": line.adjusts.line_key}
                if line.adjusts
                else (_("late") if line.is_late else ""),
            ]
        )
    lines_table = Table(
        rows, repeatRows=1, colWidths=[30 * mm, 15 * mm, 23 * mm, 20 * mm, 20 * mm, 23 * mm, 13 * mm, 30 * mm]
    )
    lines_table.setStyle(
        TableStyle(
            [
                ("FONTSIZE", (0, 0), (-1, -1), 7),
                ("ALIGN", (2, 0), (5, -1), "RIGHT"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
            ]
        )
    )
    story.append(lines_table)
    doc.build(story)
    return buffer.getvalue()
