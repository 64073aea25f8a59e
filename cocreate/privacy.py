"""A person's data: export everything the platform holds about them, and delete their account.

Deletion is pseudonymisation, not removal of the row: what they wrote stays (a discussion with holes reads badly
and other people replied to it), attributed to "Deleted user"; the royalty ledger, payouts and payee shares are
financial records that must be kept, so they keep pointing at the same row, which now carries only the pseudonym
``deleted-<id>@invalid``. Personal data — name, e-mail addresses, job title, organisation, language, password,
sessions, API tokens, social logins, follows, notifications — is removed.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.sessions.models import Session as WebSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocreate.errors import DomainError
from cocreate.models import SessionPresence, User

DELETED_NAME = "Deleted user"
_HIDDEN_USER_FIELDS = {"password"}


def pseudonym_for(user: User) -> str:
    return f"deleted-{user.pk}@invalid"


def _rows(queryset: models.QuerySet[Any]) -> list[dict[str, Any]]:
    """Every column of every row, JSON-ready (dates as ISO strings, decimals as strings)."""
    fields = [field.attname for field in queryset.model._meta.concrete_fields]
    return json.loads(json.dumps(list(queryset.values(*fields)), cls=DjangoJSONEncoder))


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about ``user``, grouped by app, as a JSON-serialisable dict."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount

    from boards import models as boards
    from ideas import models as ideas
    from rewards import models as rewards

    profile = _rows(User.objects.filter(pk=user.pk))[0]
    for hidden in _HIDDEN_USER_FIELDS:
        profile.pop(hidden, None)
    profile["organisation_name"] = user.organisation.name if user.organisation else None
    profile["roles"] = sorted(user.groups.values_list("name", flat=True))
    return {
        "format": "cocreate-user-export/1",
        "exported_at": timezone.now().isoformat(),
        "profile": profile,
        "email_addresses": _rows(EmailAddress.objects.filter(user=user)),
        "social_accounts": [
            {"provider": account.provider, "uid": account.uid, "date_joined": account.date_joined.isoformat()}
            for account in SocialAccount.objects.filter(user=user)
        ],
        "ideas": {
            "created": _rows(ideas.Idea.objects.filter(creator=user)),
            "cocreated": _rows(ideas.IdeaCoCreator.objects.filter(user=user)),
            "supports": _rows(ideas.Support.objects.filter(user=user)),
            "comments": _rows(ideas.Comment.objects.filter(author=user)),
            "follows": _rows(ideas.Follow.objects.filter(user=user)),
            "reports": _rows(ideas.Report.objects.filter(reporter=user)),
            "notifications": _rows(ideas.Notification.objects.filter(user=user)),
            "notification_preference": _rows(ideas.NotificationPreference.objects.filter(user=user)),
        },
        "boards": {
            "memberships": _rows(boards.BoardMembership.objects.filter(user=user)),
            "chat_messages": _rows(boards.ChatMessage.objects.filter(author=user)),
            "questions": _rows(boards.Question.objects.filter(author=user)),
            "question_upvotes": _rows(boards.QuestionUpvote.objects.filter(user=user)),
            "poll_votes": _rows(boards.PollVote.objects.filter(user=user)),
            "survey_answers": _rows(boards.NpsResponse.objects.filter(user=user)),
            "sessions_joined": _rows(SessionPresence.objects.filter(user=user)),
            "pre_reads_read": _rows(boards.PreReadAcknowledgement.objects.filter(user=user)),
            "action_items": _rows(boards.ActionItem.objects.filter(owner=user)),
        },
        "royalties": {
            "shares": _rows(rewards.TermsPayee.objects.filter(user=user)),
            "ledger": _rows(rewards.LedgerEntry.objects.filter(payee=user)),
            "payouts": _rows(rewards.Payout.objects.filter(payee=user)),
        },
    }


def user_data_export_json(*, user: User) -> str:
    return json.dumps(user_data_export(user=user), ensure_ascii=False, indent=2, sort_keys=True)


def _sessions_end(user: User) -> int:
    """Delete the database sessions logged in as ``user`` (decoding each live one: there is no index by user)."""
    ended = 0
    for web_session in WebSession.objects.filter(expire_date__gt=timezone.now()).iterator():
        if web_session.get_decoded().get("_auth_user_id") == str(user.pk):
            web_session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_delete(*, user: User) -> User:
    """Remove ``user``'s personal data and close the account; what they wrote and the royalty records stay,
    attributed to the pseudonym. Superusers are refused (another administrator removes their rights first)."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from rest_framework.authtoken.models import Token

    from boards.models import SessionEvent
    from ideas.events import notifications_revoke_on_commit
    from ideas.models import Follow, Notification, NotificationPreference

    if user.is_superuser:
        raise DomainError(_("An administrator account cannot delete itself; ask another administrator."))
    user = User.objects.select_for_update().get(pk=user.pk)
    pseudonym = pseudonym_for(user)
    user.email = pseudonym
    user.username = pseudonym
    user.first_name = ""
    user.last_name = ""
    user.display_name = DELETED_NAME
    user.job_title = ""
    user.organisation = None
    user.preferred_language = ""
    user.is_active = False
    user.is_staff = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    Token.objects.filter(user=user).delete()
    Follow.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    # Live-room events keep a copy of the author's name in their payload (replayed to late joiners).
    for event in SessionEvent.objects.filter(author=user).select_for_update():
        for part in (event.payload, event.private):
            author = part.get("author") if isinstance(part, dict) else None
            if isinstance(author, dict) and author.get("id") == user.pk:
                author["name"] = DELETED_NAME
        event.save(update_fields=["payload", "private"])
    _sessions_end(user)
    notifications_revoke_on_commit(user_id=user.pk)
    return user
