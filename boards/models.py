"""Advisory boards, their sessions and everything that happens in a live room.

Every change made in a live room is stored twice on purpose: as the domain row it concerns (a question, a
poll vote, a decision) and as one ``SessionEvent`` in the session's append-only log. The log is what sockets
deliver and replay; the domain rows are what pages, minutes and the API read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class Board(models.Model):
    """A private customer advisory board. Members see nothing of it before accepting the current charter."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    charter_text = models.TextField(
        _("confidentiality charter"), help_text=_("What members agree to before they see anything of the board.")
    )
    charter_version = models.CharField(
        _("charter version"),
        max_length=40,
        default="1",
        help_text=_("Change it when the charter changes: every member must accept the new version."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="BoardMembership",
        through_fields=("board", "user"),
        related_name="advisory_boards",
        verbose_name=_("members"),
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilitated_boards",
        verbose_name=_("facilitators"),
        limit_choices_to={"is_staff": True},
        help_text=_("Staff who run the board's sessions."),
    )
    pre_read_collection = models.ForeignKey(
        "wagtailcore.Collection",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The private Wagtail collection that holds this board's pre-reads."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("advisory board")
        verbose_name_plural = _("advisory boards")

    def __str__(self) -> str:
        return self.name


class BoardMembership(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("board"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_memberships", verbose_name=_("user")
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    charter_version_accepted = models.CharField(_("charter version accepted"), max_length=40, blank=True)
    charter_accepted_at = models.DateTimeField(_("charter accepted at"), null=True, blank=True)

    class Meta:
        ordering = ["board", "user__display_name"]
        verbose_name = _("board membership")
        verbose_name_plural = _("board memberships")
        constraints = [models.UniqueConstraint(fields=["board", "user"], name="board_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.board}"

    @property
    def charter_current(self) -> bool:
        return self.charter_accepted_at is not None and self.charter_version_accepted == self.board.charter_version


class Session(models.Model):
    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("board"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SCHEDULED)
    moderate_questions = models.BooleanField(
        _("moderate questions"), default=False, help_text=_("Questions are shown to members only once approved.")
    )
    current_agenda_item = models.ForeignKey(
        "AgendaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="agenda_items")
    order = models.PositiveIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=200)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), default=15, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    ideas = models.ManyToManyField(
        "ideas.Idea",
        blank=True,
        related_name="agenda_items",
        verbose_name=_("linked ideas"),
        help_text=_("Customer ideas this agenda item discusses; its decisions and action items show on them."),
    )

    class Meta:
        ordering = ["session", "order"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [models.UniqueConstraint(fields=["session", "order"], name="agenda_item_order_unique")]

    def __str__(self) -> str:
        return self.title


class PreRead(models.Model):
    """A Wagtail document members read before a session; served only through the board's own view."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="pre_reads")
    document = models.ForeignKey("wagtaildocs.Document", on_delete=models.CASCADE, related_name="+")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session", "order", "pk"]
        verbose_name = _("pre-read")
        verbose_name_plural = _("pre-reads")
        constraints = [models.UniqueConstraint(fields=["session", "document"], name="pre_read_unique")]

    def __str__(self) -> str:
        return self.document.title


class PreReadAcknowledgement(models.Model):
    pre_read = models.ForeignKey(PreRead, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pre_read", "user"], name="pre_read_ack_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.pre_read_id}"


class SessionEvent(models.Model):
    """One entry of a session's append-only log; ``id`` is the order every client sees.

    ``seq`` numbers a session's events 1, 2, 3… without gaps, so that a socket can tell a late event from a
    lost one. ``payload`` is what every permitted viewer gets; ``private`` is merged in for facilitators and the
    author (who asked an anonymous question). ``visibility=facilitators`` events (the moderation queue)
    reach only facilitators and their author.
    """

    class Visibility(models.TextChoices):
        EVERYONE = "everyone", _("Everyone in the room")
        FACILITATORS = "facilitators", _("Facilitators and the author")

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    private = models.JSONField(default=dict, blank=True)
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.EVERYONE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["session", "id"], name="session_event_replay")]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="session_event_seq_unique"),
            models.UniqueConstraint(
                fields=["session", "author", "client_msg_id"],
                condition=~models.Q(client_msg_id=""),
                name="session_event_client_msg_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.pk} {self.kind}"


class ChatMessage(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="chat_messages")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=4000)
    hidden = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.body[:60]


class Question(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        HIDDEN = "hidden", _("Hidden")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="questions")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    anonymous = models.BooleanField(_("anonymous to other members"), default=False)
    body = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    pinned = models.BooleanField(default=False)
    upvote_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pinned", "-upvote_count", "pk"]

    def __str__(self) -> str:
        return self.body[:60]


class QuestionUpvote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="upvotes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="question_upvote_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ↑ {self.question_id}"


class Poll(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="polls")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    question = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    results_live = models.BooleanField(default=True, help_text=_("Show results while the poll is open."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.question


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveIntegerField()
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["poll", "order"]
        constraints = [models.UniqueConstraint(fields=["poll", "order"], name="poll_option_order_unique")]

    def __str__(self) -> str:
        return self.label


class PollVote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["option", "user"], name="poll_vote_once_per_option")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.option_id}"


class Decision(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="decisions")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:60]


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="action_items")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(_("title"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_action_items", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.title


class NpsResponse(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="nps_responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    # The respondent's organisation and tier when answering, so that figures by tier do not move when an
    # organisation changes tier later (as ``SurveyAnswer`` keeps them).
    organisation = models.ForeignKey(
        "cocreate.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier = models.CharField(_("tier"), max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="nps_once_per_session"),
            models.CheckConstraint(condition=models.Q(score__lte=10), name="nps_score_at_most_10"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.score}"


class BoardPage(Page):
    """The public face of an advisory board: its name (the title), a public description and how to apply.

    Deliberately unrelated to ``Board``: the page cannot show members, sessions or the charter because it
    holds none of them; editors write what the public may read.
    """

    public_description = RichTextField(_("public description"), help_text=_("What the board is for, for anyone."))
    how_to_apply = RichTextField(_("how to apply"), help_text=_("Who may join and how to ask."))

    content_panels = [*Page.content_panels, FieldPanel("public_description"), FieldPanel("how_to_apply")]
    search_fields = [*Page.search_fields, index.SearchField("public_description")]
    parent_page_types = ["cocreate.HomePage", "cocreate.ContentPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("advisory board public page")
        verbose_name_plural = _("advisory board public pages")
