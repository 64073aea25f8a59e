"""E-mail from services: rendered in the recipient's language and sent by Celery once the data is committed."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from cocreate.models import User


def email_user_on_commit(*, user: User, template: str, context: dict[str, Any], idempotency_key: str = "") -> None:
    """Queue ``templates/<template>_subject.txt`` / ``_body.txt`` / ``_body.html`` for ``user`` after commit.

    The task goes through the outbox (``cocreate/outbox.py``): a broker outage delays the e-mail, never loses it.

    The HTML part is optional. The key makes a retried service call send one e-mail, not two.
    """
    language = user.preferred_language or "en"
    with translation.override(language):
        full_context = {"user": user, **context}
        subject = " ".join(render_to_string(f"{template}_subject.txt", full_context).split())
        text = render_to_string(f"{template}_body.txt", full_context)
        html: str
        try:
            html = render_to_string(f"{template}_body.html", full_context)
        except Exception:  # noqa: BLE001 - the HTML part is optional
            html = ""

    from cocreate.outbox import task_enqueue_on_commit
    from cocreate.tasks import send_email

    task_enqueue_on_commit(
        task=send_email,
        kwargs={"to": [user.email], "subject": subject, "text": text, "html": html, "idempotency_key": idempotency_key},
    )
