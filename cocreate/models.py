from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class Organisation(models.Model):
    """A customer company. Its tier and revenue weigh the demand behind ideas."""

    class Tier(models.TextChoices):
        GOLD = "gold", _("Gold")
        SILVER = "silver", _("Silver")
        BRONZE = "bronze", _("Bronze")

    name = models.CharField(_("name"), max_length=200, unique=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.BRONZE)
    annual_revenue = models.DecimalField(
        _("annual revenue"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("What this customer spends with us in a year, in the reporting currency."),
    )
    domain = models.CharField(
        _("e-mail domain"),
        max_length=253,
        blank=True,
        help_text=_("People who sign up with an address at this domain join the organisation."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["domain"], condition=~models.Q(domain=""), name="organisation_domain_unique"
            ),
            models.CheckConstraint(condition=models.Q(annual_revenue__gte=0), name="organisation_revenue_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class CocreateUserManager(UserManager["User"]):
    """Users are known by e-mail; the username is kept equal to it for Django's and Wagtail's sake."""

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        email = self.normalize_email(email).lower()
        extra.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        email = self.normalize_email(email).lower()
        extra.setdefault("username", email)
        return super().create_superuser(email=email, password=password, **extra)


class User(AbstractUser):
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        blank=True,
        choices=[("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文")],
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = CocreateUserManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.public_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The username is only a technical key here (people log in by e-mail); keep it filled so that
        # the unique index never sees two blanks when an admin form leaves it empty.
        if not self.username:
            self.username = self.email.lower()
        super().save(*args, **kwargs)

    @property
    def public_name(self) -> str:
        """The name other people see: the display name, else the part of the e-mail before the @."""
        if self.display_name:
            return self.display_name
        full = self.get_full_name()
        return full or self.email.split("@", 1)[0]


class HomePage(Page):
    """The front page: what cocreate is, with live figures from the apps."""

    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from cocreate.selectors import platform_figures

        context = super().get_context(request, *args, **kwargs)
        context["figures"] = platform_figures()
        return context


class ContentPage(Page):
    """Guidelines, contribution terms, privacy and other plain pages."""

    body = RichTextField(_("body"))
    version = models.CharField(
        _("version"), max_length=20, blank=True, help_text=_("For terms: the version people accept, e.g. 2026-11.")
    )

    content_panels = [*Page.content_panels, FieldPanel("version"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = ["cocreate.HomePage", "cocreate.ContentPage"]

    class Meta:
        verbose_name = _("content page")


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    support_email = models.EmailField(_("support e-mail"), blank=True)
    footer_text = models.CharField(_("footer text"), max_length=300, blank=True)

    panels = [FieldPanel("tagline"), FieldPanel("support_email"), FieldPanel("footer_text")]

    class Meta:
        verbose_name = _("site settings")


# --- Surveys (insights) -----------------------------------------------------------------------------------------
# Satisfaction (CSAT, 1-5) after an idea is closed or a session ends, and the relationship NPS (0-10) for community
# members whom the boards' session survey does not reach. Sent and answered through cocreate/insights/surveys.py.

CSAT_SCORES = (1, 5)
NPS_SCORES = (0, 10)


class Survey(models.Model):
    """One question asked of a group of people about one occasion: a closed idea, an ended session or a quarter."""

    class Kind(models.TextChoices):
        CSAT = "csat", _("Satisfaction (1 to 5)")
        NPS = "nps", _("Likelihood to recommend (0 to 10)")

    class Occasion(models.TextChoices):
        IDEA_CLOSED = "idea_closed", _("An idea was closed")
        SESSION_ENDED = "session_ended", _("A session ended")
        QUARTER = "quarter", _("Quarterly relationship survey")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occasion = models.CharField(_("occasion"), max_length=20, choices=Occasion.choices)
    idea = models.ForeignKey(
        "ideas.Idea", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("idea")
    )
    session = models.ForeignKey(
        "boards.Session", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("session")
    )
    period = models.CharField(_("period"), max_length=20, blank=True, help_text=_("For quarterly surveys: 2026-Q4."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idea"], condition=models.Q(idea__isnull=False), name="survey_once_per_idea"
            ),
            models.UniqueConstraint(
                fields=["kind", "session"], condition=models.Q(session__isnull=False), name="survey_once_per_session"
            ),
            models.UniqueConstraint(
                fields=["kind", "period"], condition=models.Q(occasion="quarter"), name="survey_once_per_period"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(occasion="idea_closed", idea__isnull=False, session__isnull=True)
                    | models.Q(occasion="session_ended", session__isnull=False, idea__isnull=True)
                    | (models.Q(occasion="quarter", idea__isnull=True, session__isnull=True) & ~models.Q(period=""))
                ),
                name="survey_occasion_matches_subject",
            ),
        ]

    def __str__(self) -> str:
        subject = self.idea_id or self.session_id or self.period
        return f"{self.kind} {self.occasion} {subject}"

    @property
    def scores(self) -> tuple[int, int]:
        return CSAT_SCORES if self.kind == Survey.Kind.CSAT else NPS_SCORES


class SurveyInvitation(models.Model):
    """Who was asked, when, and whether the one reminder went out. Links carry its signed id."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey("cocreate.User", on_delete=models.CASCADE, related_name="survey_invitations")
    sent_at = models.DateTimeField(auto_now_add=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["survey", "user"], name="survey_invitation_once")]

    def __str__(self) -> str:
        return f"{self.user_id} asked in survey {self.survey_id}"


class SurveyAnswer(models.Model):
    """An answer, with the respondent's organisation and tier as they were when answering. Shown to staff only,
    and only in aggregate."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers")
    respondent = models.ForeignKey(
        "cocreate.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    kind = models.CharField(max_length=10, choices=Survey.Kind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_answers"
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Organisation.Tier.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(fields=["survey", "respondent"], name="survey_answer_once_per_respondent"),
            models.CheckConstraint(
                condition=models.Q(kind="csat", score__gte=CSAT_SCORES[0], score__lte=CSAT_SCORES[1])
                | models.Q(kind="nps", score__gte=NPS_SCORES[0], score__lte=NPS_SCORES[1]),
                name="survey_answer_score_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} in survey {self.survey_id}"


class SessionPresence(models.Model):
    """Who joined a live session's room: one row per session and person, written when their socket is admitted
    (``cocreate.insights.presence.presence_record``). ``last_seen_at`` is their latest connection. Session
    attendance is counted from these rows, not from who spoke."""

    session = models.ForeignKey("boards.Session", on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey("cocreate.User", on_delete=models.CASCADE, related_name="session_presences")
    first_joined_at = models.DateTimeField(_("first joined at"))
    last_seen_at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("session presence")
        verbose_name_plural = _("session presences")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="session_presence_once"),
            models.CheckConstraint(
                condition=models.Q(last_seen_at__gte=models.F("first_joined_at")), name="session_presence_ordered"
            ),
        ]
        indexes = [models.Index(fields=["first_joined_at"], name="session_presence_joined")]

    def __str__(self) -> str:
        return f"{self.user_id} in session {self.session_id}"


# --- Insights roll-ups ------------------------------------------------------------------------------------------
# Derived tables that the scheduled ``refresh_figures`` task keeps current (``cocreate/insights/rollups.py``), so
# that the heaviest figures read thousands of rows instead of a million. Never edited by hand; rebuilt freely.


class ActivityMonth(models.Model):
    """One person's acts in one calendar month, per campaign (``campaign_id`` is 0 for joining live sessions,
    which belong to no campaign), with their organisation's tier when the month was rolled up."""

    month = models.DateField()  # the first day
    # No database constraint: the roll-up is rewritten a month at a time, and checking a key per row would cost
    # more than the rewrite (deleting a person still deletes their rows, through the ORM).
    user = models.ForeignKey("cocreate.User", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    tier = models.CharField(max_length=10, blank=True)
    campaign_id = models.IntegerField(default=0)
    ideas = models.PositiveIntegerField(default=0)
    supports = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["month", "tier", "campaign_id"], name="activity_month_lookup")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.month:%Y-%m}"


class BoardActivityMonth(models.Model):
    """``ActivityMonth`` as the board filter narrows it: for one board, one person's acts in one calendar month
    on the ideas the board speaks for (``BoardIdea``), per campaign, and their joining of that board's sessions
    (``campaign_id`` 0)."""

    month = models.DateField()  # the first day
    board_id = models.IntegerField()
    # No database constraint, as in ActivityMonth.
    user = models.ForeignKey("cocreate.User", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    tier = models.CharField(max_length=10, blank=True)
    campaign_id = models.IntegerField(default=0)
    ideas = models.PositiveIntegerField(default=0)
    supports = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    sessions = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["board_id", "month", "tier", "campaign_id"], name="board_activity_lookup")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.month:%Y-%m} for board {self.board_id}"


class BoardIdea(models.Model):
    """An idea a board speaks for, as the board filter narrows the idea figures: created or supported by people
    of an organisation that has a member on the board (``insights.selectors.board_ideas``)."""

    board_id = models.IntegerField()
    idea = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="+", db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board_id", "idea"], name="board_idea_once")]

    def __str__(self) -> str:
        return f"board {self.board_id}: idea {self.idea_id}"


class IdeaDemand(models.Model):
    """For one idea and tier (or ``"all"`` tiers together): the customer organisations of that tier whose people
    support it (supports that count) and their annual revenue in cents, each organisation once."""

    idea = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    tier = models.CharField(max_length=10)
    accounts = models.PositiveIntegerField()
    revenue_cents = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["tier", "-accounts", "idea"], name="idea_demand_by_accounts"),
            models.Index(fields=["tier", "-revenue_cents", "idea"], name="idea_demand_by_revenue"),
        ]

    def __str__(self) -> str:
        return f"{self.idea_id} ({self.tier}): {self.accounts}"


class IdeaDigest(models.Model):
    """What ``BoardIdea`` and ``IdeaDemand`` last read of one idea: its status, and the number and the sum of the
    ids of its supports, all and those that count. Support ids are never reused, so a support added, withdrawn
    or no longer counted changes the digest; the scheduled refresh rewrites the two roll-ups for the ideas whose
    digest changed (``rollups.idea_rollups_refresh``)."""

    idea = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    status = models.CharField(max_length=20)
    supports = models.PositiveIntegerField()
    support_ids = models.BigIntegerField()
    counted = models.PositiveIntegerField()
    counted_ids = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea"], name="idea_digest_once")]

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.supports} supports"


class ResponseWait(models.Model):
    """One wait behind the response-time figures, kept by ``rollups.response_waits_refresh``: for ``RESPONSE``,
    an idea's publication (``at``) and the seconds to its first official response (null while it waits); for
    ``MODERATION``, one moderation decision (``at``, ``ref`` its status change) and the seconds it waited since
    the latest (re)submission. The campaign, board and tier filters are applied through the idea when read."""

    class Kind(models.TextChoices):
        RESPONSE = "response"
        MODERATION = "moderation"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    idea = models.ForeignKey("ideas.Idea", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    ref = models.BigIntegerField()  # the idea's id (response) or the decision's status change id (moderation)
    at = models.DateTimeField()
    seconds = models.FloatField(null=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "at", "seconds"], name="response_wait_lookup")]
        constraints = [models.UniqueConstraint(fields=["kind", "ref"], name="response_wait_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}: {self.seconds}"


class RollupRefresh(models.Model):
    """When a roll-up was last rebuilt: ``name`` is the table's, ``month`` the month rebuilt (the first day), or
    null for a roll-up that is not monthly."""

    name = models.CharField(max_length=40)
    month = models.DateField(null=True)
    refreshed_at = models.DateTimeField()
    # What the rebuild read (``rollups``: a month's source rows, and what every row reads beside them), so that
    # the next run can tell whether anything changed.
    digest = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["name", "month"], name="rollup_refresh_lookup")]

    def __str__(self) -> str:
        return f"{self.name} {self.month or ''} at {self.refreshed_at:%Y-%m-%d %H:%M}"


class OutboxTask(models.Model):
    """A task written in the transaction that asked for it, and handed to the broker after commit.

    The row outlives the broker: the task deletes it when done, and ``outbox_flush`` publishes again the rows
    that never reached the broker (Redis was down) or were never done (the broker lost them in a restart).
    The tasks are idempotent, so a second delivery is harmless. See ``cocreate/outbox.py``.
    """

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("outbox task")
        verbose_name_plural = _("outbox tasks")
        indexes = [models.Index(fields=["published_at"], name="cocreate_outbox_published")]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
