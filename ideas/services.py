"""Every change to ideas is one of these named services. They check who may act, enforce the lifecycle and
raise ``DomainError`` subclasses with messages safe to show; side effects run on commit.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cocreate.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError
from cocreate.models import User
from cocreate.ratelimit import rate_limit_check
from cocreate.roles import Role, has_role
from cocreate.sanitize import clean_html, clean_text
from ideas.events import notifications_push_on_commit, unread_push_on_commit
from ideas.list_cache import idea_lists_changed
from ideas.models import (
    COMMENT_EDIT_WINDOW,
    Comment,
    Follow,
    Idea,
    IdeaCampaignPage,
    IdeaCoCreator,
    IdeaImage,
    IdeaMerge,
    IdeaReview,
    InternalNote,
    Notification,
    NotificationPreference,
    Report,
    ReviewRound,
    StatusChange,
    Support,
)
from ideas.selectors import campaign_for_user, comment_may_delete, comment_may_edit, is_idea_creator

TITLE_MAX = 120
SUMMARY_MAX = 300
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 5_000
TAGS_MAX = 8
TAG_MAX = 40
COCREATORS_MAX = 10
IMAGES_MAX = 6
IMAGE_BYTES_MAX = 5 * 1024 * 1024
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
QUANTITY_MAX = 1_000_000

# The moves a product manager may make with idea_set_status; moderation, expiry, milestones and merges have
# their own services.
ALLOWED_MOVES: dict[str, frozenset[str]] = {
    Idea.Status.PUBLISHED: frozenset({Idea.Status.IN_REVIEW, Idea.Status.ARCHIVED}),
    Idea.Status.EXPIRED: frozenset({Idea.Status.ARCHIVED}),
    Idea.Status.IN_REVIEW: frozenset({Idea.Status.APPROVED, Idea.Status.NOT_APPROVED, Idea.Status.ARCHIVED}),
    Idea.Status.NOT_APPROVED: frozenset({Idea.Status.IN_REVIEW, Idea.Status.ARCHIVED}),
    Idea.Status.APPROVED: frozenset({Idea.Status.IN_DEVELOPMENT, Idea.Status.ARCHIVED}),
    Idea.Status.IN_DEVELOPMENT: frozenset({Idea.Status.COMMERCIALISED, Idea.Status.ARCHIVED}),
}
# Statuses in which the conversation is frozen (LEGO: archived and expired projects take no more comments).
FROZEN_STATUSES = frozenset({Idea.Status.EXPIRED, Idea.Status.ARCHIVED, Idea.Status.MERGED, Idea.Status.REJECTED})

MENTION_RE = re.compile(r"(?<![\w.])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w.-]{2,60})")


def _require_pm(user: User) -> None:
    if not has_role(user, Role.PRODUCT_MANAGER):
        raise PermissionDeniedError(_("Only product managers may do this."))


def _plain(value: str, *, field: str, max_length: int, required: bool = True) -> str:
    text = " ".join(clean_text(value or "").split())
    if required and not text:
        raise DomainError(_("%(field)s is required.") % {"field": field}, code="required")
    if len(text) > max_length:
        raise DomainError(
            _("%(field)s is too long (at most %(max)d characters).") % {"field": field, "max": max_length},
            code="too_long",
        )
    return text


def _rich(value: str, *, field: str, max_length: int) -> str:
    html = str(clean_html(value or ""))
    if not clean_text(html).strip():
        raise DomainError(_("%(field)s is required.") % {"field": field}, code="required")
    if len(html) > max_length:
        raise DomainError(
            _("%(field)s is too long (at most %(max)d characters).") % {"field": field, "max": max_length},
            code="too_long",
        )
    return html


def _tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        text = clean_text(tag).strip().lower()
        if not text:
            continue
        if len(text) > TAG_MAX:
            raise DomainError(_("A tag is at most %(max)d characters.") % {"max": TAG_MAX}, code="too_long")
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > TAGS_MAX:
        raise DomainError(_("At most %(max)d tags.") % {"max": TAGS_MAX}, code="too_many")
    return cleaned


def _check_image(upload: UploadedFile) -> None:
    if upload.size is None or upload.size > IMAGE_BYTES_MAX:
        raise DomainError(_("Each image must be at most 5 MB."), code="image_too_large")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as image:
            image.verify()
            mime = Image.MIME.get(image.format or "", "")
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DomainError(_("%(name)s is not an image.") % {"name": upload.name}, code="image_type") from exc
    if mime not in IMAGE_TYPES:
        raise DomainError(_("Images must be JPEG, PNG, WebP or GIF."), code="image_type")
    upload.seek(0)


def _find_user(reference: str) -> User | None:
    reference = reference.strip().lstrip("@")
    if "@" in reference:
        return User.objects.filter(email__iexact=reference, is_active=True).first()
    matches = list(User.objects.filter(display_name__iexact=reference, is_active=True)[:2])
    return matches[0] if len(matches) == 1 else None


# Notifications -------------------------------------------------------------------------------------------------


def notify(*, users: Iterable[User], kind: str, idea: Idea | None, message: str, params: dict[str, Any]) -> None:
    """Tell ``users`` (in-app, and by e-mail per their preference) about an event on ``idea``.

    ``message`` is an untranslated format string (marked with ``gettext_noop``); it is translated into each
    recipient's language. E-mails are queued on commit with an idempotency key per notification.
    """
    from cocreate.mail import email_user_on_commit

    recipients = {user.pk: user for user in users if user.is_active}
    if not recipients:
        return
    prefs = dict(NotificationPreference.objects.filter(user_id__in=recipients).values_list("user_id", "email"))
    rows = []
    for user in recipients.values():
        with translation.override(user.preferred_language or "en"):
            # Lazy values (status labels) are translated here, in the recipient's language.
            text = _(message) % {key: str(v) if isinstance(v, Promise) else v for key, v in params.items()}
        rows.append(Notification(user=user, kind=kind, idea=idea, text=text[:300]))
    Notification.objects.bulk_create(rows)
    notifications_push_on_commit(rows)
    for row in rows:
        if prefs.get(row.user_id, NotificationPreference.Email.IMMEDIATE) != NotificationPreference.Email.IMMEDIATE:
            continue
        email_user_on_commit(
            user=recipients[row.user_id],
            template="ideas/email/notification",
            context={"notification": row, "idea": idea, "site_url": settings.SITE_URL},
            idempotency_key=f"ideas-notification-{row.pk or id(row)}-{row.user_id}-{kind}",
        )


def _audience(idea: Idea, *, exclude: Iterable[int] = ()) -> list[User]:
    """Creator, accepted co-creators and followers (supporters follow by default)."""
    ids = {idea.creator_id}
    ids.update(IdeaCoCreator.objects.filter(idea=idea, accepted_at__isnull=False).values_list("user_id", flat=True))
    ids.update(Follow.objects.filter(idea=idea).values_list("user_id", flat=True))
    ids.difference_update(exclude)
    return list(User.objects.filter(pk__in=ids))


def _creators(idea: Idea) -> list[User]:
    ids = [idea.creator_id]
    ids += list(IdeaCoCreator.objects.filter(idea=idea, accepted_at__isnull=False).values_list("user_id", flat=True))
    return list(User.objects.filter(pk__in=ids))


def _record_status(*, idea: Idea, from_status: str, to_status: str, actor: User | None, reason: str = "") -> None:
    StatusChange.objects.create(idea=idea, from_status=from_status, to_status=to_status, actor=actor, reason=reason)
    from ideas.webhooks import webhook_queue

    webhook_queue(
        event="idea.status_changed",
        payload={"idea": idea.pk, "from": from_status, "to": to_status, "reason": reason},
    )


# Submission and moderation -------------------------------------------------------------------------------------


@transaction.atomic
def idea_submit(
    *,
    campaign: IdeaCampaignPage,
    creator: User,
    title: str,
    summary: str,
    description: str,
    terms_accepted: bool,
    tags: Sequence[str] = (),
    cocreators: Sequence[str] = (),
    images: Sequence[UploadedFile] = (),
    resubmitted_from: Idea | None = None,
) -> Idea:
    """Submit an idea into ``campaign``: pending moderation (or published when the campaign needs none)."""
    if not campaign.live:
        raise NotFoundError(_("This campaign does not exist."))
    if not campaign_for_user(campaign=campaign, user=creator):
        raise PermissionDeniedError(_("You may not submit ideas to this campaign."))
    if not campaign.accepting_ideas:
        raise ConflictError(_("This campaign no longer accepts ideas."), code="campaign_closed")
    rate_limit_check(scope="idea_submit", key=creator.pk, limit=10, period=3600)
    title = _plain(title, field=_("Title"), max_length=TITLE_MAX)
    summary = _plain(summary, field=_("Summary"), max_length=SUMMARY_MAX)
    description = _rich(description, field=_("Description"), max_length=DESCRIPTION_MAX)
    tag_names = _tags(tags)
    if not terms_accepted:
        raise DomainError(_("Please accept the contribution terms."), code="terms")
    if len(images) > IMAGES_MAX:
        raise DomainError(_("At most %(max)d images.") % {"max": IMAGES_MAX}, code="too_many")
    for upload in images:
        _check_image(upload)
    invitees: list[User] = []
    for reference in cocreators:
        if not reference.strip():
            continue
        user = _find_user(reference)
        if user is None:
            raise DomainError(
                _("No member called %(name)s was found.") % {"name": clean_text(reference)[:80]}, code="cocreator"
            )
        if user.pk != creator.pk and user not in invitees:
            invitees.append(user)
    if len(invitees) > COCREATORS_MAX:
        raise DomainError(_("At most %(max)d co-creators.") % {"max": COCREATORS_MAX}, code="too_many")
    duplicate = Idea.objects.filter(
        creator=creator,
        campaign=campaign,
        title__iexact=title,
        status__in=[Idea.Status.PENDING, Idea.Status.NEEDS_WORK, Idea.Status.PUBLISHED],
    ).exists()
    if duplicate:
        raise ConflictError(_("You have already submitted an idea with this title."), code="duplicate")
    if resubmitted_from is not None:
        if resubmitted_from.creator_id != creator.pk:
            raise PermissionDeniedError(_("Only the creator may submit this idea again."))
        if resubmitted_from.status != Idea.Status.EXPIRED:
            raise ConflictError(_("Only an expired idea can be submitted again."), code="not_expired")

    now = timezone.now()
    idea = Idea.objects.create(
        campaign=campaign,
        creator=creator,
        title=title,
        summary=summary,
        description=description,
        terms_version=campaign.terms_version,
        terms_accepted_at=now,
        resubmitted_from=resubmitted_from,
    )
    if tag_names:
        idea.tags.add(*tag_names)
    for position, upload in enumerate(images):
        IdeaImage.objects.create(idea=idea, image=upload, position=position)
    Follow.objects.create(idea=idea, user=creator)
    IdeaCoCreator.objects.bulk_create([IdeaCoCreator(idea=idea, user=user) for user in invitees])
    notify(
        users=invitees,
        kind=Notification.Kind.INVITATION,
        idea=idea,
        message=gettext_noop("%(name)s invited you to co-create “%(title)s”."),
        params={"name": creator.public_name, "title": title},
    )
    _record_status(idea=idea, from_status="", to_status=Idea.Status.PENDING, actor=creator)
    if not campaign.moderation_required:
        _publish(idea=idea, actor=None, now=now)
    return idea


@transaction.atomic
def idea_resubmit(
    *, idea: Idea, user: User, title: str, summary: str, description: str, tags: Sequence[str] | None = None
) -> Idea:
    """The creator reworks an idea sent back as *needs work*; it returns to the moderation queue."""
    if idea.creator_id != user.pk:
        raise PermissionDeniedError(_("Only the creator may resubmit this idea."))
    if idea.status != Idea.Status.NEEDS_WORK:
        raise ConflictError(_("Only an idea that needs work can be resubmitted."), code="status")
    now = timezone.now()
    if idea.resubmit_after and now < idea.resubmit_after:
        raise ConflictError(
            _("You may resubmit after %(when)s.")
            % {"when": f"{timezone.localtime(idea.resubmit_after):%Y-%m-%d %H:%M}"},
            code="too_early",
        )
    rate_limit_check(scope="idea_submit", key=user.pk, limit=10, period=3600)
    title = _plain(title, field=_("Title"), max_length=TITLE_MAX)
    summary = _plain(summary, field=_("Summary"), max_length=SUMMARY_MAX)
    description = _rich(description, field=_("Description"), max_length=DESCRIPTION_MAX)
    updated = Idea.objects.filter(pk=idea.pk, status=Idea.Status.NEEDS_WORK).update(
        title=title, summary=summary, description=description, status=Idea.Status.PENDING, updated_at=now
    )
    if not updated:
        raise ConflictError(_("Only an idea that needs work can be resubmitted."), code="status")
    idea_lists_changed()
    idea.refresh_from_db()
    if tags is not None:
        idea.tags.set(_tags(tags))
    # The conditional UPDATE bypasses save(), so refresh the search index by hand.
    from wagtail.search.index import insert_or_update_object

    insert_or_update_object(idea)
    _record_status(idea=idea, from_status=Idea.Status.NEEDS_WORK, to_status=Idea.Status.PENDING, actor=user)
    return idea


def _publish(*, idea: Idea, actor: User | None, now: datetime) -> None:
    milestones = idea.campaign.milestone_list()
    deadline = now + timedelta(days=milestones[0][1])
    updated = Idea.objects.filter(pk=idea.pk, status=Idea.Status.PENDING).update(
        status=Idea.Status.PUBLISHED, published_at=now, deadline=deadline, status_reason="", trending_score=1.0
    )
    if not updated:
        raise ConflictError(_("This idea has already been moderated."), code="status")
    idea_lists_changed()
    idea.refresh_from_db()
    _record_status(idea=idea, from_status=Idea.Status.PENDING, to_status=Idea.Status.PUBLISHED, actor=actor)
    from ideas.webhooks import webhook_queue

    webhook_queue(event="idea.created", payload={"idea": idea.pk, "title": idea.title})


class ModerationDecision:
    PUBLISH = "publish"
    NEEDS_WORK = "needs_work"
    REJECT = "reject"
    ALL = (PUBLISH, NEEDS_WORK, REJECT)


@transaction.atomic
def idea_moderate(*, idea: Idea, moderator: User, decision: str, reason: str = "") -> Idea:
    """Publish, send back (*needs work*, may resubmit after the campaign's delay) or reject a pending idea."""
    _require_pm(moderator)
    if decision not in ModerationDecision.ALL:
        raise DomainError(_("Unknown decision."), code="decision")
    reason = _plain(reason, field=_("Reason"), max_length=2000, required=decision != ModerationDecision.PUBLISH)
    now = timezone.now()
    if decision == ModerationDecision.PUBLISH:
        _publish(idea=idea, actor=moderator, now=now)
        message = gettext_noop("Your idea “%(title)s” is published and gathering support.")
    else:
        to_status = Idea.Status.NEEDS_WORK if decision == ModerationDecision.NEEDS_WORK else Idea.Status.REJECTED
        fields: dict[str, Any] = {"status": to_status, "status_reason": reason}
        if to_status == Idea.Status.NEEDS_WORK:
            fields["resubmit_after"] = now + idea.campaign.resubmit_delay()
        if not Idea.objects.filter(pk=idea.pk, status=Idea.Status.PENDING).update(**fields):
            raise ConflictError(_("This idea has already been moderated."), code="status")
        idea_lists_changed()
        idea.refresh_from_db()
        _record_status(idea=idea, from_status=Idea.Status.PENDING, to_status=to_status, actor=moderator, reason=reason)
        message = (
            gettext_noop("Your idea “%(title)s” needs work: %(reason)s")
            if to_status == Idea.Status.NEEDS_WORK
            else gettext_noop("Your idea “%(title)s” was not accepted: %(reason)s")
        )
    notify(
        users=_creators(idea),
        kind=Notification.Kind.STATUS,
        idea=idea,
        message=message,
        params={"title": idea.title, "reason": reason},
    )
    return idea


# Support -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportResult:
    supporters: int
    supported: bool
    created: bool


def _support_options(importance: str, would_buy: bool | None, quantity: int | None) -> None:
    if importance not in Support.Importance.values:
        raise DomainError(_("Unknown importance."), code="importance")
    if quantity is not None and not 1 <= quantity <= QUANTITY_MAX:
        raise DomainError(_("Quantity must be between 1 and 1,000,000."), code="quantity")
    if quantity is not None and would_buy is False:
        raise DomainError(_("A quantity only makes sense if you would buy."), code="quantity")


def support_add(
    *,
    idea: Idea,
    user: User,
    importance: str = "",
    would_buy: bool | None = None,
    quantity: int | None = None,
    recorded_by: User | None = None,
) -> SupportResult:
    """Support ``idea`` as ``user``; idempotent (a second call changes nothing and returns the count).

    ``recorded_by`` (a product manager) records a proxy support on behalf of the customer contact ``user``.

    Exactness: the support row and the conditional increment commit together (on PostgreSQL in one statement,
    see ``_support_add_in_one_statement``; elsewhere in one transaction). The idea's row lock serialises
    concurrent supporters, so each sees the latest count; a second insert by the same user changes nothing.
    """
    if recorded_by is not None:
        _require_pm(recorded_by)
    elif not campaign_for_user(campaign=idea.campaign, user=user):
        raise PermissionDeniedError(_("You may not support ideas in this campaign."))
    _support_options(importance, would_buy, quantity)
    rate_limit_check(scope="support", key=(recorded_by or user).pk, limit=120, period=60)
    if idea.status != Idea.Status.PUBLISHED:
        raise ConflictError(_("This idea is not gathering support."), code="not_supportable")
    if connection.vendor == "postgresql":
        return _support_add_in_one_statement(
            idea=idea, user=user, importance=importance, would_buy=would_buy, quantity=quantity, recorded_by=recorded_by
        )
    counts = not is_idea_creator(idea=idea, user=user)
    with transaction.atomic():
        if not _support_insert(
            idea=idea,
            user=user,
            importance=importance,
            would_buy=would_buy,
            quantity=quantity,
            recorded_by=recorded_by,
            counts=counts,
        ):
            supporters = Idea.objects.values_list("supporters_count", flat=True).get(pk=idea.pk)
            return SupportResult(supporters=supporters, supported=True, created=False)
        changed = _count_change(idea_id=idea.pk, delta=1 if counts else 0)
        if changed is None:
            raise ConflictError(_("This idea is not gathering support."), code="not_supportable")
        Follow.objects.bulk_create([Follow(idea=idea, user=user)], ignore_conflicts=True)
        idea_lists_changed()
        supporters, reached = changed
        if _next_milestone_reached(idea=idea, supporters=supporters, reached=reached):
            supporters = _milestones_check(idea_id=idea.pk)
    return SupportResult(supporters=supporters, supported=True, created=True)


def _support_add_in_one_statement(
    *,
    idea: Idea,
    user: User,
    importance: str,
    would_buy: bool | None,
    quantity: int | None,
    recorded_by: User | None,
) -> SupportResult:
    """``support_add`` on PostgreSQL: one statement, so one round trip and no transaction around it.

    It locks the idea's row while the idea still gathers support (a waiting supporter then sees the latest count
    and status), inserts the support unless the person already supports it (whether it counts, i.e. the person is
    neither the creator nor an accepted co-creator, is decided in the same statement), adds one to the count when
    it counts, and follows the idea. A second insert by the same person waits on the row lock and then skips. A
    milestone reached is applied afterwards under the row lock (``_milestones_check``); it compares and sets
    ``milestones_reached``, so it applies once.
    """
    sql = f"""
        WITH idea AS (
            SELECT id, creator_id, supporters_count, milestones_reached FROM {Idea._meta.db_table}
            WHERE id = %(idea)s AND status = %(published)s FOR UPDATE
        ), inserted AS (
            INSERT INTO {Support._meta.db_table} (idea_id, user_id, created_at, importance, would_buy, quantity,
                is_proxy, recorded_by_id, counts, merged_from_id)
            SELECT idea.id, %(user)s, %(now)s, %(importance)s, %(would_buy)s::boolean, %(quantity)s::integer,
                %(proxy)s, %(recorded_by)s::bigint,
                idea.creator_id <> %(user)s AND NOT EXISTS (
                    SELECT 1 FROM {IdeaCoCreator._meta.db_table} c
                    WHERE c.idea_id = idea.id AND c.user_id = %(user)s AND c.accepted_at IS NOT NULL
                ),
                NULL
            FROM idea
            ON CONFLICT (idea_id, user_id) DO NOTHING
            RETURNING counts
        ), counted AS (
            UPDATE {Idea._meta.db_table} SET supporters_count = supporters_count + 1
            WHERE id IN (SELECT id FROM idea) AND EXISTS (SELECT 1 FROM inserted WHERE counts)
            RETURNING supporters_count
        ), followed AS (
            INSERT INTO {Follow._meta.db_table} (idea_id, user_id, created_at)
            SELECT id, %(user)s, %(now)s FROM idea WHERE EXISTS (SELECT 1 FROM inserted)
            ON CONFLICT DO NOTHING
        )
        SELECT EXISTS (SELECT 1 FROM inserted),
            coalesce((SELECT supporters_count FROM counted), idea.supporters_count), idea.milestones_reached
        FROM idea
    """  # noqa: S608 - table names from the models
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "idea": idea.pk,
                "published": Idea.Status.PUBLISHED.value,
                "user": user.pk,
                "now": now,
                "importance": importance,
                "would_buy": would_buy,
                "quantity": quantity,
                "proxy": recorded_by is not None,
                "recorded_by": recorded_by.pk if recorded_by is not None else None,
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise ConflictError(_("This idea is not gathering support."), code="not_supportable")
    created, supporters, reached = bool(row[0]), int(row[1]), int(row[2])
    if created:
        idea_lists_changed()
    if created and _next_milestone_reached(idea=idea, supporters=supporters, reached=reached):
        with transaction.atomic():
            supporters = _milestones_check(idea_id=idea.pk)
    return SupportResult(supporters=supporters, supported=True, created=created)


def _support_insert(
    *,
    idea: Idea,
    user: User,
    importance: str,
    would_buy: bool | None,
    quantity: int | None,
    recorded_by: User | None,
    counts: bool,
) -> bool:
    """Insert the support unless the person already supports the idea; True when this call inserted it.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent insert of the same pair to commit and then skips, so a
    double click changes nothing, without a savepoint round trip.
    """
    table = Support._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (idea_id, user_id, created_at, importance, would_buy, quantity, is_proxy, "  # noqa: S608 - table name from the model
            "recorded_by_id, counts, merged_from_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL) "
            "ON CONFLICT (idea_id, user_id) DO NOTHING RETURNING id",
            [
                idea.pk,
                user.pk,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                importance,
                would_buy,
                quantity,
                recorded_by is not None,
                recorded_by.pk if recorded_by is not None else None,
                counts,
            ],
        )
        return cursor.fetchone() is not None


def _count_change(*, idea_id: int, delta: int) -> tuple[int, int] | None:
    """Add ``delta`` to the count of an idea still gathering support, returning ``(count, milestones reached)``,
    or None when the idea no longer gathers support. The UPDATE holds the idea's row lock until commit."""
    table = Idea._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET supporters_count = supporters_count + %s "  # noqa: S608 - table name from the model
            "WHERE id = %s AND status = %s RETURNING supporters_count, milestones_reached",
            [delta, idea_id, Idea.Status.PUBLISHED.value],
        )
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _next_milestone_reached(*, idea: Idea, supporters: int, reached: int) -> bool:
    milestones = idea.campaign.milestone_list()
    return reached < len(milestones) and supporters >= milestones[reached][0]


def support_withdraw(*, idea: Idea, user: User) -> SupportResult:
    """Withdraw ``user``'s support while the idea gathers support; idempotent."""
    if not user.is_authenticated:
        raise PermissionDeniedError(_("Please log in."))
    rate_limit_check(scope="support", key=user.pk, limit=120, period=60)
    if idea.status != Idea.Status.PUBLISHED:
        raise ConflictError(_("Support can only be withdrawn while the idea gathers support."), code="frozen")
    with transaction.atomic():
        table = Support._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE idea_id = %s AND user_id = %s RETURNING counts",  # noqa: S608
                [idea.pk, user.pk],
            )
            row = cursor.fetchone()
        if row is None:
            supporters = Idea.objects.values_list("supporters_count", flat=True).get(pk=idea.pk)
            return SupportResult(supporters=supporters, supported=False, created=False)
        changed = _count_change(idea_id=idea.pk, delta=-1 if row[0] else 0)
        if changed is None:
            raise ConflictError(_("Support can only be withdrawn while the idea gathers support."), code="frozen")
        idea_lists_changed()
    return SupportResult(supporters=changed[0], supported=False, created=False)


def _milestones_check(*, idea_id: int) -> int:
    """Apply any milestone the idea's count has reached; returns the count. Call inside the transaction that
    changed the count (after the UPDATE that locked the idea's row), or in a transaction of its own: it locks the
    row itself, so concurrent callers apply a milestone once."""
    idea = Idea.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=idea_id)
    milestones = idea.campaign.milestone_list()
    reached = sum(1 for supporters, _days in milestones if idea.supporters_count >= supporters)
    if reached <= idea.milestones_reached or idea.status != Idea.Status.PUBLISHED:
        return idea.supporters_count
    fields: dict[str, Any] = {"milestones_reached": reached}
    if not idea.milestones_reached:
        # When the funnel's "milestone" stage was reached; later milestones leave it as it is.
        fields["first_milestone_at"] = timezone.now()
    final = reached >= len(milestones)
    if final:
        fields.update(status=Idea.Status.IN_REVIEW, deadline=None)
    else:
        extra = sum(days for _supporters, days in milestones[idea.milestones_reached + 1 : reached + 1])
        fields["deadline"] = (idea.deadline or timezone.now()) + timedelta(days=extra)
    Idea.objects.filter(pk=idea.pk, milestones_reached=idea.milestones_reached).update(**fields)
    idea_lists_changed()
    idea.refresh_from_db()
    milestone = milestones[reached - 1][0]
    if final:
        _record_status(idea=idea, from_status=Idea.Status.PUBLISHED, to_status=Idea.Status.IN_REVIEW, actor=None)
        message = gettext_noop("“%(title)s” reached %(milestone)d supporters and is now in review.")
    else:
        message = gettext_noop(
            "“%(title)s” reached %(milestone)d supporters: it has until %(deadline)s to reach %(next)d."
        )
    notify(
        users=_audience(idea),
        kind=Notification.Kind.MILESTONE,
        idea=idea,
        message=message,
        params={
            "title": idea.title,
            "milestone": milestone,
            "deadline": f"{timezone.localtime(idea.deadline):%Y-%m-%d}" if idea.deadline else "",
            "next": milestones[reached][0] if not final else milestone,
        },
    )
    return idea.supporters_count


def support_recount(*, idea: Idea) -> int:
    """Set the idea's count from its rows (used by merges and the consistency check)."""
    count = Support.objects.filter(idea=idea, counts=True).count()
    Idea.objects.filter(pk=idea.pk).update(supporters_count=count)
    idea_lists_changed()
    idea.supporters_count = count
    return count


# Lifecycle -----------------------------------------------------------------------------------------------------


@transaction.atomic
def idea_set_status(
    *,
    idea: Idea,
    actor: User,
    status: str,
    reason: str = "",
    product_codes: Sequence[str] | None = None,
    launch_date: date | None = None,
    not_approved_code: str = "",
    reason_public: bool = False,
) -> Idea:
    """Move an idea along the lifecycle (``ALLOWED_MOVES`` only), by a product manager.

    Archiving posts the reason as an official response. Commercialising needs a launch date and product codes
    and, on commit, opens a draft royalty agreement in ``rewards``.
    """
    _require_pm(actor)
    if status not in Idea.Status.values:
        raise DomainError(_("Unknown status."), code="status")
    from_status = idea.status
    if status not in ALLOWED_MOVES.get(from_status, frozenset()):
        raise ConflictError(
            _("An idea cannot move from %(from)s to %(to)s.")
            % {"from": Idea.Status(from_status).label, "to": Idea.Status(status).label},
            code="transition",
        )
    reason = _plain(reason, field=_("Reason"), max_length=2000, required=status == Idea.Status.ARCHIVED)
    fields: dict[str, Any] = {"status": status, "status_reason": reason}
    codes: list[str] = []
    if status == Idea.Status.COMMERCIALISED:
        codes = [_plain(code, field=_("Product code"), max_length=40) for code in (product_codes or [])]
        if not codes:
            raise DomainError(_("Give at least one product code."), code="product_codes")
        if launch_date is None:
            raise DomainError(_("Give the launch date."), code="launch_date")
        fields.update(product_codes=codes, launch_date=launch_date)
    if status == Idea.Status.NOT_APPROVED:
        fields.update(
            not_approved_code=_plain(not_approved_code, field=_("Reason code"), max_length=40, required=False),
            not_approved_public=reason_public,
        )
    if status in {Idea.Status.IN_REVIEW, Idea.Status.ARCHIVED}:
        fields["deadline"] = None
    if not Idea.objects.filter(pk=idea.pk, status=from_status).update(**fields):
        raise ConflictError(_("The idea changed meanwhile; reload and try again."), code="stale")
    idea_lists_changed()
    idea.refresh_from_db()
    _record_status(idea=idea, from_status=from_status, to_status=status, actor=actor, reason=reason)
    if status == Idea.Status.ARCHIVED:
        _comment_create(idea=idea, author=actor, body=f"<p>{reason}</p>", kind=Comment.Kind.OFFICIAL, parent=None)
    shown_reason = reason if status != Idea.Status.NOT_APPROVED or reason_public else ""
    notify(
        users=_audience(idea, exclude=[actor.pk]),
        kind=Notification.Kind.STATUS,
        idea=idea,
        message=gettext_noop("“%(title)s” is now %(status)s. %(reason)s"),
        params={"title": idea.title, "status": str(Idea.Status(status).label).lower(), "reason": shown_reason},
    )
    if status == Idea.Status.COMMERCIALISED:
        _open_royalty_agreement_on_commit(idea=idea, product_codes=codes)
    return idea


def _open_royalty_agreement_on_commit(*, idea: Idea, product_codes: list[str]) -> None:
    accepted = IdeaCoCreator.objects.filter(idea=idea, accepted_at__isnull=False).order_by("accepted_at", "pk")
    creator_ids = [idea.creator_id, *accepted.values_list("user_id", flat=True)]
    idea_id, title, launch_date = idea.pk, idea.title, idea.launch_date

    def open_agreement() -> None:
        # rewards is built in parallel; look the function up at call time so either side can land first.
        agreement_draft_open = importlib.import_module("rewards.services").agreement_draft_open
        agreement_draft_open(
            idea_id=idea_id,
            title=title,
            product_codes=product_codes,
            launch_date=launch_date,
            creator_ids=creator_ids,
        )

    # robust: the idea's status is already committed; a failure in rewards is logged, not turned into a 500.
    transaction.on_commit(open_agreement, robust=True)


def ideas_expire(*, now: datetime | None = None) -> list[int]:
    """Expire every idea gathering support whose deadline has passed; returns their ids.

    Idempotent and safe to run twice at once: each idea moves with a conditional UPDATE, so only one run
    notifies its creator.
    """
    now = now or timezone.now()
    expired: list[int] = []
    candidates = Idea.objects.filter(status=Idea.Status.PUBLISHED, deadline__lt=now).values_list("pk", flat=True)
    for idea_id in list(candidates[:5000]):
        with transaction.atomic():
            changed = Idea.objects.filter(pk=idea_id, status=Idea.Status.PUBLISHED, deadline__lt=now).update(
                status=Idea.Status.EXPIRED
            )
            if not changed:
                continue
            idea_lists_changed()
            idea = Idea.objects.get(pk=idea_id)
            _record_status(idea=idea, from_status=Idea.Status.PUBLISHED, to_status=Idea.Status.EXPIRED, actor=None)
            notify(
                users=_creators(idea),
                kind=Notification.Kind.STATUS,
                idea=idea,
                message=gettext_noop(
                    "“%(title)s” did not reach its milestone in time and has expired. You may submit it again."
                ),
                params={"title": idea.title},
            )
            expired.append(idea_id)
    return expired


@transaction.atomic
def idea_merge(*, source: Idea, target: Idea, actor: User, reason: str = "") -> IdeaMerge:
    """Merge duplicate ``source`` into ``target``: its supporters move over (each person counted once, never
    a target creator), its followers follow the target, comments stay on the source. Reversible."""
    _require_pm(actor)
    if source.pk == target.pk:
        raise DomainError(_("An idea cannot be merged into itself."), code="same")
    mergeable = {Idea.Status.PUBLISHED, Idea.Status.IN_REVIEW, Idea.Status.EXPIRED, Idea.Status.NOT_APPROVED}
    locked = {i.pk: i for i in Idea.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.status not in mergeable:
        raise ConflictError(_("This idea cannot be merged."), code="status")
    if target.status in {Idea.Status.MERGED, Idea.Status.PENDING, Idea.Status.NEEDS_WORK, Idea.Status.REJECTED}:
        raise ConflictError(_("Ideas can only be merged into a public idea."), code="status")
    reason = _plain(reason, field=_("Reason"), max_length=2000, required=False)
    target_creators = {target.creator_id} | set(
        IdeaCoCreator.objects.filter(idea=target, accepted_at__isnull=False).values_list("user_id", flat=True)
    )
    already = set(Support.objects.filter(idea=target).values_list("user_id", flat=True))
    moved = [
        Support(
            idea=target,
            user_id=support.user_id,
            importance=support.importance,
            would_buy=support.would_buy,
            quantity=support.quantity,
            is_proxy=support.is_proxy,
            recorded_by_id=support.recorded_by_id,
            counts=support.user_id not in target_creators,
            merged_from=source,
        )
        for support in Support.objects.filter(idea=source, counts=True)
        if support.user_id not in already
    ]
    Support.objects.bulk_create(moved)
    followers = set(Follow.objects.filter(idea=source).values_list("user_id", flat=True))
    followers.difference_update(Follow.objects.filter(idea=target).values_list("user_id", flat=True))
    Follow.objects.bulk_create([Follow(idea=target, user_id=user_id) for user_id in followers])
    record = IdeaMerge.objects.create(
        source=source,
        target=target,
        merged_by=actor,
        reason=reason,
        source_status=source.status,
        supports_moved=len(moved),
    )
    Idea.objects.filter(pk=source.pk).update(
        status=Idea.Status.MERGED, merged_into=target, deadline=None, status_reason=reason
    )
    idea_lists_changed()
    source.refresh_from_db()
    support_recount(idea=target)
    _record_status(
        idea=source, from_status=record.source_status, to_status=Idea.Status.MERGED, actor=actor, reason=reason
    )
    affected = {u.pk: u for u in _audience(source, exclude=[actor.pk])}
    affected.update({u.pk: u for u in _creators(target)})
    notify(
        users=affected.values(),
        kind=Notification.Kind.MERGE,
        idea=target,
        message=gettext_noop("“%(source)s” was merged into “%(target)s”; its supporters now support it."),
        params={"source": source.title, "target": target.title},
    )
    if target.status == Idea.Status.PUBLISHED:
        _milestones_check(idea_id=target.pk)
    return record


@transaction.atomic
def idea_unmerge(*, merge: IdeaMerge, actor: User) -> Idea:
    """Undo a merge: the carried-over supports leave the target and the source returns to its old status."""
    _require_pm(actor)
    merge = IdeaMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ConflictError(_("This merge was already undone."), code="undone")
    Support.objects.filter(idea=merge.target, merged_from=merge.source).delete()
    Follow.objects.filter(idea=merge.target, user__idea_follows__idea=merge.source).exclude(
        user__supports__idea=merge.target
    ).exclude(user_id=merge.target.creator_id).delete()
    Idea.objects.filter(pk=merge.source_id, status=Idea.Status.MERGED).update(
        status=merge.source_status, merged_into=None
    )
    idea_lists_changed()
    support_recount(idea=merge.target)
    merge.undone_at = timezone.now()
    merge.save(update_fields=["undone_at"])
    source = Idea.objects.get(pk=merge.source_id)
    _record_status(idea=source, from_status=Idea.Status.MERGED, to_status=source.status, actor=actor, reason="unmerge")
    return source


@transaction.atomic
def idea_triage(*, idea: Idea, actor: User, owner_department: str, impact: int | None, effort: int | None) -> Idea:
    _require_pm(actor)
    if owner_department not in Idea.Department.values:
        raise DomainError(_("Unknown department."), code="department")
    for value in (impact, effort):
        if value is not None and not 1 <= value <= 10:
            raise DomainError(_("Impact and effort are between 1 and 10."), code="range")
    Idea.objects.filter(pk=idea.pk).update(owner_department=owner_department, impact=impact, effort=effort)
    idea.refresh_from_db()
    return idea


def internal_note_add(*, idea: Idea, author: User, body: str) -> InternalNote:
    _require_pm(author)
    return InternalNote.objects.create(idea=idea, author=author, body=_plain(body, field=_("Note"), max_length=5000))


# Review rounds -------------------------------------------------------------------------------------------------


@transaction.atomic
def review_round_open(*, actor: User, name: str, deadline: date, ideas: Sequence[Idea] | None = None) -> ReviewRound:
    """Open a review round with the given ideas, or every idea in review not already in an open round."""
    _require_pm(actor)
    name = _plain(name, field=_("Name"), max_length=120)
    if deadline < timezone.localdate():
        raise DomainError(_("The deadline is in the past."), code="deadline")
    if ideas is None:
        busy = IdeaReview.objects.filter(round__closed_at__isnull=True).values("idea_id")
        ideas = list(Idea.objects.filter(status=Idea.Status.IN_REVIEW).exclude(pk__in=busy))
    elif any(idea.status != Idea.Status.IN_REVIEW for idea in ideas):
        raise ConflictError(_("Only ideas in review can be added to a round."), code="status")
    review_round = ReviewRound.objects.create(name=name, deadline=deadline, opened_by=actor)
    IdeaReview.objects.bulk_create([IdeaReview(round=review_round, idea=idea) for idea in ideas])
    return review_round


@transaction.atomic
def review_score(*, review: IdeaReview, actor: User, scores: dict[str, int]) -> IdeaReview:
    from ideas.models import REVIEW_CRITERIA

    _require_pm(actor)
    known = {key for key, _label in REVIEW_CRITERIA}
    for key, value in scores.items():
        if key not in known or not isinstance(value, int) or not 1 <= value <= 5:
            raise DomainError(_("Scores are whole numbers from 1 to 5 for the listed criteria."), code="scores")
    review.scores = {**review.scores, **scores}
    review.save(update_fields=["scores"])
    return review


@transaction.atomic
def review_decide(
    *,
    review: IdeaReview,
    actor: User,
    decision: str,
    reason: str = "",
    reason_code: str = "",
    reason_public: bool = False,
) -> IdeaReview:
    """Approve, not approve (coded reason, optionally public) or keep evaluating (the idea stays in review
    and is picked up by the next round)."""
    _require_pm(actor)
    if review.round.closed_at is not None:
        raise ConflictError(_("This review round is closed."), code="closed")
    if decision not in IdeaReview.Decision.values or not decision:
        raise DomainError(_("Unknown decision."), code="decision")
    if decision == IdeaReview.Decision.APPROVED:
        idea_set_status(idea=review.idea, actor=actor, status=Idea.Status.APPROVED, reason=reason)
    elif decision == IdeaReview.Decision.NOT_APPROVED:
        idea_set_status(
            idea=review.idea,
            actor=actor,
            status=Idea.Status.NOT_APPROVED,
            reason=reason,
            not_approved_code=reason_code,
            reason_public=reason_public,
        )
    review.decision = decision
    review.reason_code = reason_code[:40]
    review.reason_public = reason_public
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.save()
    return review


def review_round_close(*, review_round: ReviewRound, actor: User) -> ReviewRound:
    _require_pm(actor)
    ReviewRound.objects.filter(pk=review_round.pk, closed_at__isnull=True).update(closed_at=timezone.now())
    review_round.refresh_from_db()
    return review_round


# Conversation --------------------------------------------------------------------------------------------------


def _comment_create(*, idea: Idea, author: User, body: str, kind: str, parent: Comment | None) -> Comment:
    comment = Comment.objects.create(idea=idea, author=author, body=body, kind=kind, parent=parent)
    Idea.objects.filter(pk=idea.pk).update(comments_count=F("comments_count") + 1)
    idea_lists_changed()
    if kind == Comment.Kind.OFFICIAL:
        Idea.objects.filter(pk=idea.pk, first_official_response_at__isnull=True).update(
            first_official_response_at=comment.created_at
        )
    return comment


@transaction.atomic
def comment_add(
    *, idea: Idea, author: User, body: str, parent: Comment | None = None, kind: str = Comment.Kind.COMMENT
) -> Comment:
    """Comment on a public idea; replies hang under a top-level comment (one level). Creators post updates,
    product managers official responses. Mentions (@e-mail or @display name) notify the person."""
    if not author.is_authenticated:
        raise PermissionDeniedError(_("Please log in."))
    is_pm = has_role(author, Role.PRODUCT_MANAGER)
    if not is_pm and not campaign_for_user(campaign=idea.campaign, user=author):
        raise PermissionDeniedError(_("You may not comment in this campaign."))
    if kind not in Comment.Kind.values:
        raise DomainError(_("Unknown kind of comment."), code="kind")
    if kind == Comment.Kind.OFFICIAL and not is_pm:
        raise PermissionDeniedError(_("Only product managers post official responses."))
    if kind == Comment.Kind.UPDATE and not is_idea_creator(idea=idea, user=author):
        raise PermissionDeniedError(_("Only the creators post updates."))
    if not idea.is_public and not is_pm:
        raise ConflictError(_("This idea is not public yet."), code="not_public")
    if idea.status in FROZEN_STATUSES and not is_pm:
        raise ConflictError(_("This idea no longer takes comments."), code="frozen")
    rate_limit_check(scope="comment", key=author.pk, limit=20, period=300)
    html = _rich(body, field=_("Comment"), max_length=COMMENT_MAX)
    if parent is not None:
        if parent.idea_id != idea.pk:
            raise NotFoundError(_("The comment you reply to does not exist."))
        parent = parent.parent or parent
    comment = _comment_create(idea=idea, author=author, body=html, kind=kind, parent=parent)
    notified: set[int] = {author.pk}
    params = {"name": author.public_name, "title": idea.title}
    mentioned = _mentions(clean_text(html))
    mentioned = [user for user in mentioned if user.pk not in notified]
    notify(
        users=mentioned,
        kind=Notification.Kind.MENTION,
        idea=idea,
        message=gettext_noop("%(name)s mentioned you on “%(title)s”."),
        params=params,
    )
    notified.update(user.pk for user in mentioned)
    if parent is not None and parent.author_id not in notified:
        notify(
            users=[parent.author],
            kind=Notification.Kind.REPLY,
            idea=idea,
            message=gettext_noop("%(name)s replied to your comment on “%(title)s”."),
            params=params,
        )
        notified.add(parent.author_id)
    if kind in {Comment.Kind.UPDATE, Comment.Kind.OFFICIAL}:
        message = (
            gettext_noop("%(name)s posted an update on “%(title)s”.")
            if kind == Comment.Kind.UPDATE
            else gettext_noop("An official response was posted on “%(title)s”.")
        )
        audience = _audience(idea, exclude=notified)
        notify(users=audience, kind=kind, idea=idea, message=message, params=params)
    elif parent is None:
        notify(
            users=[u for u in _creators(idea) if u.pk not in notified],
            kind=Notification.Kind.COMMENT,
            idea=idea,
            message=gettext_noop("%(name)s commented on “%(title)s”."),
            params=params,
        )
    from ideas.webhooks import webhook_queue

    webhook_queue(event="comment.created", payload={"idea": idea.pk, "comment": comment.pk, "kind": kind})
    return comment


def _mentions(text: str) -> list[User]:
    users: dict[int, User] = {}
    for match in MENTION_RE.finditer(text):
        user = _find_user(match.group(1).rstrip("."))
        if user is not None:
            users[user.pk] = user
    return list(users.values())[:10]


@transaction.atomic
def comment_edit(*, comment: Comment, actor: User, body: str) -> Comment:
    """The author corrects a comment within ``COMMENT_EDIT_WINDOW``. The new body is sanitized and limited like a
    new comment; mentions added by an edit notify nobody. A conditional update keeps a late or concurrent edit (or
    one racing a deletion) from changing anything."""
    now = timezone.now()
    if comment.author_id != actor.pk:
        raise PermissionDeniedError(_("Only the author may edit a comment."))
    if comment.deleted_at is not None or comment.hidden_at is not None:
        raise ConflictError(_("This comment can no longer be edited."), code="gone")
    if not comment_may_edit(comment=comment, user=actor, now=now):
        raise ConflictError(
            _("A comment can only be edited in the first %(minutes)d minutes.")
            % {"minutes": int(COMMENT_EDIT_WINDOW.total_seconds() // 60)},
            code="edit_window_closed",
        )
    if comment.idea.status in FROZEN_STATUSES:
        raise ConflictError(_("This idea no longer takes comments."), code="frozen")
    html = _rich(body, field=_("Comment"), max_length=COMMENT_MAX)
    changed = Comment.objects.filter(
        pk=comment.pk,
        author=actor,
        deleted_at__isnull=True,
        hidden_at__isnull=True,
        created_at__gte=now - COMMENT_EDIT_WINDOW,
    ).update(body=html, edited_at=now)
    if not changed:
        raise ConflictError(_("This comment can no longer be edited."), code="gone")
    comment.refresh_from_db()
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor: User) -> Comment:
    """Soft-delete: the comment keeps its place so that its replies still make sense, but its body is erased and
    its author no longer shown. Open reports about it are resolved. Deleting twice changes nothing."""
    if not comment_may_delete(comment=comment, user=actor):
        if comment.kind == Comment.Kind.OFFICIAL:
            raise PermissionDeniedError(_("Only staff may delete an official response."))
        raise PermissionDeniedError(_("Only the author or a moderator may delete this comment."))
    if comment.deleted_at is not None:
        return comment
    now = timezone.now()
    Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(body="", deleted_at=now)
    Report.objects.filter(comment=comment, resolved_at__isnull=True).update(resolved_at=now, resolved_by=actor)
    comment.refresh_from_db()
    return comment


def comment_hide(*, comment: Comment, moderator: User) -> Comment:
    _require_pm(moderator)
    Comment.objects.filter(pk=comment.pk, hidden_at__isnull=True).update(hidden_at=timezone.now())
    Report.objects.filter(comment=comment, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=moderator
    )
    comment.refresh_from_db()
    return comment


def report_dismiss(*, report: Report, moderator: User) -> Report:
    _require_pm(moderator)
    Report.objects.filter(pk=report.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=moderator
    )
    report.refresh_from_db()
    return report


def report_create(*, reporter: User, idea: Idea, comment: Comment | None = None, reason: str) -> Report:
    """Report abusive content to the moderators (once per person and item)."""
    if not reporter.is_authenticated:
        raise PermissionDeniedError(_("Please log in."))
    rate_limit_check(scope="report", key=reporter.pk, limit=10, period=3600)
    reason = _plain(reason, field=_("Reason"), max_length=500)
    if comment is not None and comment.idea_id != idea.pk:
        raise NotFoundError(_("This comment does not exist."))
    existing = Report.objects.filter(reporter=reporter, idea=idea, comment=comment, resolved_at__isnull=True).first()
    if existing is not None:
        return existing
    return Report.objects.create(reporter=reporter, idea=idea, comment=comment, reason=reason)


def follow_set(*, idea: Idea, user: User, follow: bool) -> bool:
    if not user.is_authenticated:
        raise PermissionDeniedError(_("Please log in."))
    if follow:
        Follow.objects.get_or_create(idea=idea, user=user)
    else:
        Follow.objects.filter(idea=idea, user=user).delete()
    return follow


@transaction.atomic
def cocreator_respond(*, cocreator: IdeaCoCreator, user: User, accept: bool) -> IdeaCoCreator:
    """The invited person accepts (recording the time and the campaign's terms version) or declines.

    An accepted co-creator's own support stops counting, like the creator's.
    """
    if cocreator.user_id != user.pk:
        raise PermissionDeniedError(_("This invitation is not yours."))
    if cocreator.accepted_at or cocreator.declined_at:
        raise ConflictError(_("You have already answered this invitation."), code="answered")
    now = timezone.now()
    if accept:
        cocreator.accepted_at = now
        cocreator.terms_version = cocreator.idea.campaign.terms_version
        changed = Support.objects.filter(idea=cocreator.idea, user=user, counts=True).update(counts=False)
        if changed:
            Idea.objects.filter(pk=cocreator.idea_id).update(supporters_count=F("supporters_count") - changed)
            idea_lists_changed()
    else:
        cocreator.declined_at = now
    cocreator.save()
    return cocreator


def notifications_mark_read(*, user: User, ids: Sequence[int] | None = None) -> int:
    """Mark the user's unread notifications (or those of ``ids``) read; their other tabs get the new count."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    marked = unread.update(read_at=timezone.now())
    if marked:
        unread_push_on_commit(user_id=user.pk)
    return marked


def notification_preference_set(*, user: User, email: str) -> NotificationPreference:
    if email not in NotificationPreference.Email.values:
        raise DomainError(_("Unknown e-mail preference."), code="preference")
    pref, _created = NotificationPreference.objects.update_or_create(user=user, defaults={"email": email})
    return pref


def trending_refresh(*, now: datetime | None = None, window_days: int = 7) -> int:
    """Recompute ``trending_score`` for ideas gathering support: supports in the last week (x5) and comments
    (x3), decaying with the idea's age in hours (Fider's gravity 1.4, scaled)."""
    now = now or timezone.now()
    since = now - timedelta(days=window_days)
    ideas = (
        Idea.objects.filter(status=Idea.Status.PUBLISHED)
        .annotate(
            recent_supports=Count("supports", filter=Q(supports__created_at__gte=since, supports__counts=True)),
        )
        .values_list("pk", "published_at", "recent_supports")
    )
    recent_comments = dict(
        Comment.objects.filter(created_at__gte=since, idea__status=Idea.Status.PUBLISHED)
        .values("idea_id")
        .annotate(n=Count("pk"))
        .values_list("idea_id", "n")
    )
    updates = []
    for pk, published_at, supports in ideas.iterator(chunk_size=2000):
        age_hours = max((now - (published_at or now)).total_seconds() / 3600, 0)
        score = (1 + supports * 5 + recent_comments.get(pk, 0) * 3) / ((age_hours + 2) ** 1.4) * 1000
        updates.append(Idea(pk=pk, trending_score=score))
    Idea.objects.bulk_update(updates, ["trending_score"], batch_size=1000)
    idea_lists_changed()
    return len(updates)


def digests_send(*, period: str, now: datetime | None = None) -> int:
    """E-mail each person who chose a ``daily`` or ``weekly`` digest their notifications since the last one.

    Idempotent per person and period window: the e-mail's key names the window, and ``last_digest_at`` moves
    forward in the same transaction.
    """
    from cocreate.mail import email_user_on_commit

    if period not in {NotificationPreference.Email.DAILY, NotificationPreference.Email.WEEKLY}:
        raise DomainError(_("Unknown digest period."), code="period")
    now = now or timezone.now()
    span = timedelta(days=1 if period == NotificationPreference.Email.DAILY else 7)
    sent = 0
    for pref in NotificationPreference.objects.filter(email=period).select_related("user"):
        since = pref.last_digest_at or (now - span)
        with transaction.atomic():
            notifications = list(
                Notification.objects.filter(user=pref.user, created_at__gt=since, created_at__lte=now).order_by(
                    "created_at"
                )[:100]
            )
            if not notifications:
                continue
            if not NotificationPreference.objects.filter(pk=pref.pk, last_digest_at=pref.last_digest_at).update(
                last_digest_at=now
            ):
                continue
            email_user_on_commit(
                user=pref.user,
                template="ideas/email/digest",
                context={"notifications": notifications, "site_url": settings.SITE_URL},
                idempotency_key=f"ideas-digest-{pref.user_id}-{period}-{now:%Y%m%d%H}",
            )
            sent += 1
    return sent


def ideas_search_index_sync(*, batch_size: int = 5000) -> int:
    """Add every idea missing from the search index to it, in batches; returns how many were added.

    Saves index an idea as it happens, but rows that arrive without ``post_save`` (bulk loads, restored
    backups, ideas created by a process that looked at the database before the full-text table existed and
    settled on the non-indexing fallback) would otherwise stay unfindable: search and the similar-ideas
    suggestions came back empty in a freshly migrated database. Run after every ``migrate``.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import BigIntegerField
    from django.db.models.functions import Cast
    from modelsearch.backends import database as database_search
    from wagtail.search.models import IndexEntry

    from cocreate.search_index import search_index_add_many

    # modelsearch decides once per process whether SQLite full text is usable; a process that asked before
    # the migrations created the table would keep the fallback, which neither indexes nor finds indexed rows.
    if database_search.USE_SQLITE_FTS is False:
        database_search.USE_SQLITE_FTS = None
    indexed = IndexEntry.objects.filter(content_type=ContentType.objects.get_for_model(Idea)).annotate(
        idea_id=Cast("object_id", output_field=BigIntegerField())
    )
    missing = list(Idea.objects.exclude(pk__in=indexed.values("idea_id")).order_by("pk").values_list("pk", flat=True))
    search_index_add_many(model=Idea, pks=missing, batch_size=batch_size)
    if missing:  # searches in the list find them now
        idea_lists_changed()
    return len(missing)
