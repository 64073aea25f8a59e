"""Campaigns (Wagtail pages), ideas and everything around them: co-creators, supports, comments, follows,
notifications, review rounds, merges, internal notes and webhooks.

The rules that change these rows live in ``ideas/services.py``; reads in ``ideas/selectors.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

# LEGO Ideas' windows: 100 supporters within 60 days of publication, then +365 days to reach 1,000,
# +182 days to reach 5,000 and +182 days to reach 10,000.
DEFAULT_MILESTONES: list[tuple[int, int]] = [(100, 60), (1000, 365), (5000, 182), (10000, 182)]


class MilestoneBlock(blocks.StructBlock):
    supporters = blocks.IntegerBlock(min_value=1, label=_("supporters"))
    days = blocks.IntegerBlock(
        min_value=1, label=_("days granted"), help_text=_("Time the idea gets to reach this number of supporters.")
    )

    class Meta:
        icon = "pick"
        label = _("milestone")


def _default_milestones() -> list[tuple[str, dict[str, int]]]:
    return [("milestone", {"supporters": s, "days": d}) for s, d in DEFAULT_MILESTONES]


class IdeaCampaignPage(Page):
    """A call for ideas with its own guidelines, contribution terms and lifecycle numbers."""

    class Participation(models.TextChoices):
        ALL_CUSTOMERS = "all", _("All customers")
        ORGANISATIONS = "organisations", _("Chosen organisations")

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    guidelines = RichTextField(_("guidelines"), blank=True)
    terms_version = models.CharField(
        _("contribution terms version"),
        max_length=20,
        default="1",
        help_text=_("The version of the contribution terms that submitters accept, e.g. 2026-11."),
    )
    terms_text = RichTextField(_("contribution terms"), blank=True)
    milestones = StreamField(
        [("milestone", MilestoneBlock())],
        verbose_name=_("milestones"),
        default=_default_milestones,
        help_text=_("In increasing order. Reaching the last one puts the idea in review."),
    )
    moderation_required = models.BooleanField(_("moderation required"), default=True)
    resubmit_delay_hours = models.PositiveIntegerField(_("resubmit delay (hours)"), default=24)
    accepting_ideas = models.BooleanField(_("accepting new ideas"), default=True)
    participation = models.CharField(
        _("who may take part"), max_length=20, choices=Participation.choices, default=Participation.ALL_CUSTOMERS
    )
    organisations = ParentalManyToManyField(
        "cocreate.Organisation", blank=True, verbose_name=_("organisations"), related_name="idea_campaigns"
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("guidelines"),
        MultiFieldPanel([FieldPanel("terms_version"), FieldPanel("terms_text")], heading=_("Contribution terms")),
        MultiFieldPanel(
            [
                FieldPanel("milestones"),
                FieldPanel("moderation_required"),
                FieldPanel("resubmit_delay_hours"),
                FieldPanel("accepting_ideas"),
            ],
            heading=_("Lifecycle"),
        ),
        MultiFieldPanel([FieldPanel("participation"), FieldPanel("organisations")], heading=_("Participation")),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("guidelines")]
    parent_page_types = ["cocreate.HomePage"]
    subpage_types: list[str] = []
    template = "ideas/idea_campaign_page.html"

    class Meta:
        verbose_name = _("idea campaign")
        verbose_name_plural = _("idea campaigns")

    def milestone_list(self) -> list[tuple[int, int]]:
        """The milestones as ``(supporters, days)`` pairs, sorted by supporters (parsed once per instance)."""
        cached: list[tuple[int, int]] | None = self.__dict__.get("_milestone_pairs")
        if cached is None:
            pairs = [(int(block.value["supporters"]), int(block.value["days"])) for block in self.milestones]
            cached = sorted(pairs) or list(DEFAULT_MILESTONES)
            self.__dict__["_milestone_pairs"] = cached
        return cached

    def resubmit_delay(self) -> timedelta:
        return timedelta(hours=self.resubmit_delay_hours)

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from ideas.views import campaign_context

        context = super().get_context(request, *args, **kwargs)
        context.update(campaign_context(request=request, campaign=self))
        return context


class IdeaTag(TaggedItemBase):
    content_object = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="tagged_items")

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.content_object_id}"


class Idea(index.Indexed, models.Model):  # type: ignore[django-manager-missing]
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending moderation")
        NEEDS_WORK = "needs_work", _("Needs work")
        REJECTED = "rejected", _("Rejected")
        PUBLISHED = "published", _("Gathering support")
        EXPIRED = "expired", _("Expired")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        NOT_APPROVED = "not_approved", _("Not approved")
        IN_DEVELOPMENT = "in_development", _("In development")
        COMMERCIALISED = "commercialised", _("Commercialised")
        ARCHIVED = "archived", _("Archived")
        MERGED = "merged", _("Merged")

    class Department(models.TextChoices):
        NONE = "", _("Not routed")
        PRODUCT = "product", _("Product")
        ENGINEERING = "engineering", _("Engineering")
        MARKETING = "marketing", _("Marketing")
        SUPPLY_CHAIN = "supply_chain", _("Supply chain")
        CHANNELS = "channels", _("Channels")
        SERVICE = "service", _("Customer service")

    campaign = models.ForeignKey(
        IdeaCampaignPage, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="ideas"
    )
    title = models.CharField(_("title"), max_length=120)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"), help_text=_("Sanitized HTML."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason for the status"), blank=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("creator"), on_delete=models.PROTECT, related_name="ideas_created"
    )
    supporters_count = models.PositiveIntegerField(_("supporters"), default=0)
    comments_count = models.PositiveIntegerField(_("comments"), default=0)
    milestones_reached = models.PositiveSmallIntegerField(_("milestones reached"), default=0)
    first_milestone_at = models.DateTimeField(_("first milestone reached at"), null=True, blank=True)
    trending_score = models.FloatField(_("trending score"), default=0.0)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    resubmit_after = models.DateTimeField(_("may be resubmitted after"), null=True, blank=True)
    terms_version = models.CharField(_("accepted terms version"), max_length=20)
    terms_accepted_at = models.DateTimeField(_("terms accepted at"))
    resubmitted_from = models.ForeignKey(
        "self",
        verbose_name=_("submitted again from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resubmissions",
    )
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    product_codes = models.JSONField(_("product codes"), default=list, blank=True)
    launch_date = models.DateField(_("launch date"), null=True, blank=True)
    not_approved_code = models.CharField(_("not approved reason code"), max_length=40, blank=True)
    not_approved_public = models.BooleanField(_("reason is public"), default=False)
    owner_department = models.CharField(
        _("owner department"), max_length=20, choices=Department.choices, blank=True, default=Department.NONE
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    effort = models.PositiveSmallIntegerField(
        _("effort"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    first_official_response_at = models.DateTimeField(_("first official response at"), null=True, blank=True)

    tags = TaggableManager(through=IdeaTag, blank=True, verbose_name=_("tags"))

    search_fields = [
        index.SearchField("title", boost=3),
        index.SearchField("summary", boost=2),
        index.SearchField("description"),
        index.AutocompleteField("title"),
        index.FilterField("campaign_id"),
        index.FilterField("status"),
        # Search results keep the list's ordering, so every sort key must be indexed too.
        index.FilterField("supporters_count"),
        index.FilterField("published_at"),
        index.FilterField("created_at"),
        index.FilterField("deadline"),
        index.FilterField("trending_score"),
        index.FilterField("id"),
    ]

    class Meta:
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        ordering = ["-created_at"]
        # Each list ordering has an index that yields rows in that order, so a page reads only its rows
        # (the status filter is applied while scanning; almost every row listed is public).
        indexes = [
            models.Index(fields=["campaign", "-supporters_count", "-id"], name="idea_campaign_supporters"),
            models.Index(fields=["campaign", "-published_at", "-id"], name="idea_campaign_newest"),
            models.Index(fields=["campaign", "-trending_score", "-id"], name="idea_campaign_trending"),
            models.Index(fields=["campaign", "status", "deadline", "id"], name="idea_campaign_deadline"),
            models.Index(fields=["-supporters_count", "-id"], name="idea_supporters"),
            models.Index(fields=["-published_at", "-id"], name="idea_newest"),
            models.Index(fields=["status", "deadline"], name="idea_status_deadline"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="merged") | models.Q(merged_into__isnull=False),
                name="idea_merged_has_target",
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | ~models.Q(merged_into=models.F("id")),
                name="idea_not_merged_into_itself",
            ),
        ]
        permissions = [("moderate_idea", "Can moderate and triage ideas"), ("view_b2b", "Can see the B2B view")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("ideas:detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.status not in PRIVATE_STATUSES

    @property
    def accepts_support(self) -> bool:
        return self.status == Idea.Status.PUBLISHED

    @property
    def priority_score(self) -> float | None:
        """Impact over effort (both 1 to 10), as product managers rate them; None until both are set."""
        if not self.impact or not self.effort:
            return None
        return round(self.impact / self.effort, 2)


PRIVATE_STATUSES = frozenset({Idea.Status.PENDING, Idea.Status.NEEDS_WORK, Idea.Status.REJECTED})
PUBLIC_STATUSES = frozenset(set(Idea.Status) - PRIVATE_STATUSES)
# Statuses in which the idea has been published at some point (for public figures and boards).
PUBLISHED_OR_LATER = frozenset(PUBLIC_STATUSES - {Idea.Status.MERGED})


class IdeaImage(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="ideas/%Y/%m/")
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("idea image")

    def __str__(self) -> str:
        return f"image {self.pk} of idea {self.idea_id}"


class IdeaCoCreator(models.Model):
    """A person the creator invited to co-create; they count as a creator only once they accept."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="cocreators")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cocreations")
    invited_at = models.DateTimeField(_("invited at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    terms_version = models.CharField(_("accepted terms version"), max_length=20, blank=True)

    class Meta:
        ordering = ["accepted_at", "invited_at", "pk"]
        verbose_name = _("co-creator")
        constraints = [models.UniqueConstraint(fields=["idea", "user"], name="cocreator_once_per_idea")]

    def __str__(self) -> str:
        return f"{self.user} on {self.idea_id}"


class Support(models.Model):
    class Importance(models.TextChoices):
        UNSPECIFIED = "", _("Not said")
        NICE_TO_HAVE = "nice", _("Nice to have")
        IMPORTANT = "important", _("Important")
        MUST_HAVE = "must", _("Must have")

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supports")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    importance = models.CharField(
        _("importance"), max_length=10, choices=Importance.choices, blank=True, default=Importance.UNSPECIFIED
    )
    would_buy = models.BooleanField(_("would buy"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    is_proxy = models.BooleanField(_("recorded on behalf of the customer"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # False for the creator's and accepted co-creators' own support: it is kept but not counted.
    counts = models.BooleanField(default=True)
    # Set when the support was carried over from an idea merged into this one (undoing the merge removes it).
    merged_from = models.ForeignKey(Idea, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("support")
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="support_once_per_user"),
            models.CheckConstraint(
                condition=models.Q(quantity__isnull=True) | models.Q(quantity__gte=1), name="support_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["idea", "counts"], name="support_idea_counts")]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.idea_id}"


# How long the author of a comment may still correct it.
COMMENT_EDIT_WINDOW = timedelta(minutes=15)


class Comment(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        UPDATE = "update", _("Creator update")
        OFFICIAL = "official", _("Official response")

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="idea_comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies", verbose_name=_("reply to")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    body = models.TextField(_("comment"), help_text=_("Sanitized HTML."))
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(_("hidden by a moderator at"), null=True, blank=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    # A deleted comment keeps its place in the thread (its replies stay) but loses its body and its author's name.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("comment")
        indexes = [models.Index(fields=["idea", "created_at"], name="comment_idea_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.idea_id}"

    @property
    def edit_deadline(self) -> datetime:
        """The author may edit the comment until this moment."""
        return self.created_at + COMMENT_EDIT_WINDOW


class Report(models.Model):
    """Abusive content reported to moderators: a comment or an idea."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="reports")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")

    def __str__(self) -> str:
        return f"report on idea {self.idea_id}"


class Follow(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "user"], name="follow_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.idea_id}"


class StatusChange(models.Model):
    """The history of an idea's status, shown on its page and used for response times."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Idea.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Idea.Status.choices)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        # The insights read an idea's history by target status (furthest stage, latest submission).
        indexes = [models.Index(fields=["idea", "to_status", "created_at"], name="status_change_idea_to")]

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.from_status} -> {self.to_status}"


class IdeaMerge(models.Model):
    """The reversible record of a merge: which supports were carried over, and whether it was undone."""

    source = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="merges_out")
    target = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="merges_in")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    source_status = models.CharField(max_length=20, choices=Idea.Status.choices)
    supports_moved = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source_id} merged into {self.target_id}"


class InternalNote(models.Model):
    """Product managers' notes on an idea; never shown to customers."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note on idea {self.idea_id}"


REVIEW_CRITERIA: list[tuple[str, Any]] = [
    ("brand_fit", _("Brand fit")),
    ("feasibility", _("Feasibility")),
    ("demand", _("Expected demand")),
    ("licensing", _("Licensing")),
    ("portfolio", _("Fit with current and future products")),
]


class ReviewRound(models.Model):
    name = models.CharField(_("name"), max_length=120)
    deadline = models.DateField(_("deadline"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("review round")

    def __str__(self) -> str:
        return self.name


class IdeaReview(models.Model):
    class Decision(models.TextChoices):
        UNDECIDED = "", _("Not decided")
        APPROVED = "approved", _("Approved")
        NOT_APPROVED = "not_approved", _("Not approved")
        STILL_EVALUATING = "still_evaluating", _("Still evaluating")

    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="reviews")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="reviews")
    scores = models.JSONField(default=dict, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, blank=True, default=Decision.UNDECIDED)
    reason_code = models.CharField(max_length=40, blank=True)
    reason_public = models.BooleanField(default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "idea"], name="review_once_per_round")]

    def __str__(self) -> str:
        return f"review of {self.idea_id} in round {self.round_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        MILESTONE = "milestone", _("Milestone")
        REPLY = "reply", _("Reply")
        COMMENT = "comment", _("Comment")
        UPDATE = "update", _("Creator update")
        OFFICIAL = "official", _("Official response")
        MENTION = "mention", _("Mention")
        INVITATION = "invitation", _("Co-creator invitation")
        MERGE = "merge", _("Merge")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    idea = models.ForeignKey(Idea, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.text


class NotificationPreference(models.Model):
    class Email(models.TextChoices):
        IMMEDIATE = "immediate", _("Each time")
        DAILY = "daily", _("Daily digest")
        WEEKLY = "weekly", _("Weekly digest")
        OFF = "off", _("Never")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_notification_preference"
    )
    email = models.CharField(_("e-mail"), max_length=10, choices=Email.choices, default=Email.IMMEDIATE)
    last_digest_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email}"


class WebhookEndpoint(models.Model):
    class Event(models.TextChoices):
        IDEA_CREATED = "idea.created", _("New idea")
        IDEA_STATUS = "idea.status_changed", _("Status change")
        COMMENT_CREATED = "comment.created", _("New comment")

    url = models.URLField(_("URL"))
    secret = models.CharField(_("signing secret"), max_length=100)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint, kept so that staff can see what receivers answered.
    Written by ``ideas.webhooks.webhook_deliver`` and never changed afterwards."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    # The URL as it was at the time: endpoints can be edited or deleted later.
    url = models.URLField(_("URL"))
    event = models.CharField(_("event"), max_length=40, choices=WebhookEndpoint.Event.choices)
    attempt = models.PositiveSmallIntegerField(_("attempt"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} to {self.url} (attempt {self.attempt})"
