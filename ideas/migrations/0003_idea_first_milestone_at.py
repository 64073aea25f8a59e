"""When each idea reached its first milestone (the insights funnel's "milestone" stage).

Ideas that passed a milestone before the field existed are backfilled as well as the data allows: the time of
the support that brought the idea to its campaign's first milestone (the n-th support that counts, in order),
else the publication time, else the submission time."""

from typing import Any

from django.db import migrations, models
from django.db.models import F, Window
from django.db.models.functions import RowNumber

FIRST_MILESTONE_FALLBACK = 100  # ideas.models.DEFAULT_MILESTONES[0]


def _first_threshold(raw: Any) -> int:
    """The smallest milestone of a campaign's ``milestones`` stream (its stored JSON, or a StreamValue)."""
    try:
        blocks = raw.raw_data if hasattr(raw, "raw_data") else raw
        thresholds = [int(block["value"]["supporters"]) for block in blocks]
    except (TypeError, KeyError, ValueError):
        return FIRST_MILESTONE_FALLBACK
    return min(thresholds, default=FIRST_MILESTONE_FALLBACK)


def backfill(apps: Any, schema_editor: Any) -> None:
    Idea = apps.get_model("ideas", "Idea")
    Support = apps.get_model("ideas", "Support")
    Campaign = apps.get_model("ideas", "IdeaCampaignPage")
    reached = Idea.objects.filter(milestones_reached__gte=1, first_milestone_at__isnull=True)
    for campaign_id, raw in Campaign.objects.filter(pk__in=reached.values("campaign_id")).values_list(
        "pk", "milestones"
    ):
        threshold = _first_threshold(raw)
        ranked = (
            Support.objects.filter(counts=True, idea__in=reached.filter(campaign_id=campaign_id))
            .annotate(rank=Window(RowNumber(), partition_by=[F("idea_id")], order_by=[F("created_at"), F("pk")]))
            .filter(rank=threshold)
            .values_list("idea_id", "created_at")
        )
        batch = [Idea(pk=idea_id, first_milestone_at=when) for idea_id, when in ranked]
        Idea.objects.bulk_update(batch, ["first_milestone_at"], batch_size=2000)
    reached.filter(first_milestone_at__isnull=True, published_at__isnull=False).update(
        first_milestone_at=F("published_at")
    )
    reached.filter(first_milestone_at__isnull=True).update(first_milestone_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("ideas", "0002_list_orderings_indexes")]

    operations = [
        migrations.AddField(
            model_name="idea",
            name="first_milestone_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first milestone reached at"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
