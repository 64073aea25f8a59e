"""Demo data for ideas: one campaign with ideas in every interesting state, supports, comments and a review
round. Made through the services, so the demo obeys the same rules as real use. Idempotent: a second run
finds the campaign and changes nothing."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from cocreate.demo import DemoPeople
from cocreate.models import HomePage, User
from ideas import services
from ideas.models import Idea, IdeaCampaignPage, IdeaCoCreator

CAMPAIGN_SLUG = "warehouse-ideas"


def _submit(
    campaign: IdeaCampaignPage, creator: User, title: str, summary: str, description: str, tags: list[str]
) -> Idea:
    return services.idea_submit(
        campaign=campaign,
        creator=creator,
        title=title,
        summary=summary,
        description=description,
        terms_accepted=True,
        tags=tags,
    )


def _published(
    campaign: IdeaCampaignPage,
    pm: User,
    creator: User,
    title: str,
    summary: str,
    description: str,
    tags: list[str],
    days_ago: int,
) -> Idea:
    idea = _submit(campaign, creator, title, summary, description, tags)
    services.idea_moderate(idea=idea, moderator=pm, decision="publish")
    published = timezone.now() - timedelta(days=days_ago)
    Idea.objects.filter(pk=idea.pk).update(published_at=published, deadline=published + timedelta(days=60))
    idea.refresh_from_db()
    return idea


@transaction.atomic
def seed_demo(*, people: DemoPeople) -> list[str]:
    if IdeaCampaignPage.objects.filter(slug=CAMPAIGN_SLUG).exists():
        return ["demo campaign already present"]
    home = HomePage.objects.get()
    campaign = IdeaCampaignPage(
        title="Warehouse and logistics ideas",
        slug=CAMPAIGN_SLUG,
        intro="<p>What would make your warehouse, yard and delivery work easier? Propose it here.</p>",
        guidelines=(
            "<p>Describe the problem your team has, then your idea. One idea per submission.</p>"
            "<p>Search first: supporting an existing idea helps more than a duplicate.</p>"
        ),
        terms_version="2026-11",
        terms_text=(
            "<p>You confirm the idea is yours and your co-creators'. If it is commercialised, its creators share "
            "1% of net sales.</p>"
        ),
        milestones=[
            ("milestone", {"supporters": 3, "days": 60}),
            ("milestone", {"supporters": 5, "days": 365}),
            ("milestone", {"supporters": 8, "days": 182}),
            ("milestone", {"supporters": 10, "days": 182}),
        ],
    )
    home.add_child(instance=campaign)
    campaign.save_revision().publish()
    pm = people.product_manager
    customers = [people.customer, people.customer2, people.board_member, people.board_member2]

    tracking = _published(
        campaign,
        pm,
        people.customer,
        "Pallet tracking with any phone camera",
        "Scan pallet labels with the phones drivers already carry, no dedicated scanners.",
        "<p>We lose track of <strong>pallets</strong> between the dock and the yard. Dedicated scanners are "
        "expensive and often flat.</p><ul><li>Scan with the phone camera</li><li>Works offline</li></ul>",
        ["scanning", "mobile", "yard"],
        days_ago=12,
    )
    cold = _published(
        campaign,
        pm,
        people.customer2,
        "Cold-chain alerts in the driver app",
        "Tell drivers when a refrigerated load warms up, before the customer rejects it.",
        "<p>Temperature loggers exist, but nobody sees them until delivery.</p>",
        ["cold-chain", "mobile"],
        days_ago=30,
    )
    services.support_add(idea=tracking, user=people.customer2, importance="must", would_buy=True, quantity=40)
    services.support_add(idea=tracking, user=people.board_member, importance="important", would_buy=True, quantity=12)
    services.support_add(idea=cold, user=people.customer, importance="nice")
    services.support_add(idea=cold, user=people.board_member2)
    services.support_add(
        idea=cold, user=people.board_member, recorded_by=pm, importance="must", would_buy=True, quantity=25
    )
    first = services.comment_add(
        idea=tracking, author=people.board_member, body="<p>We would roll this out to 30 sites.</p>"
    )
    services.comment_add(idea=tracking, author=people.customer, body="<p>Great, thank you!</p>", parent=first)
    services.comment_add(
        idea=tracking,
        author=pm,
        kind="official",
        body="<p>Thanks for the detail. Our scanning team is looking at camera quality on older phones.</p>",
    )
    services.comment_add(
        idea=cold, author=people.customer2, kind="update", body="<p>I added photos of our current loggers.</p>"
    )

    pending = _submit(
        campaign,
        people.board_member,
        "Bulk invoice export to CSV",
        "Export a month of invoices at once for our accounting system.",
        "<p>Today we download invoices one by one.</p>",
        ["finance"],
    )
    rework = _submit(
        campaign,
        people.customer,
        "Dark mode",
        "Dark mode.",
        "<p>Please add dark mode.</p>",
        ["ui"],
    )
    services.idea_moderate(
        idea=rework, moderator=pm, decision="needs_work", reason="Which screens, and who uses them in the dark?"
    )

    review = _published(
        campaign,
        pm,
        people.board_member2,
        "Print return labels at the dock",
        "Let the dock team print a return label when a delivery is refused.",
        "<p>Refused deliveries wait days for a label from customer service.</p>",
        ["returns", "printing"],
        days_ago=90,
    )
    for user in customers[:3]:
        services.support_add(idea=review, user=user, importance="important")
    services.idea_set_status(idea=review, actor=pm, status="in_review", reason="Staff pick")
    services.review_round_open(actor=pm, name="Winter review", deadline=dt.date.today() + timedelta(days=30))

    battery = _published(
        campaign,
        pm,
        people.customer,
        "Forklift battery health dashboard",
        "See which forklift batteries degrade before they fail mid-shift.",
        "<p>Battery failures stop a shift. The chargers already record the data.</p>",
        ["forklift", "energy"],
        days_ago=200,
    )
    invitation = IdeaCoCreator.objects.create(idea=battery, user=people.customer2)
    services.cocreator_respond(cocreator=invitation, user=people.customer2, accept=True)
    for user in customers[2:]:
        services.support_add(idea=battery, user=user, importance="must", would_buy=True, quantity=8)
    for status in ["in_review", "approved", "in_development"]:
        services.idea_set_status(idea=battery, actor=pm, status=status)
    services.idea_set_status(
        idea=battery,
        actor=pm,
        status="commercialised",
        product_codes=["FBH-100", "FBH-200"],
        launch_date=timezone.localdate() - timedelta(days=20),
        reason="Launched as the Battery Health add-on.",
    )

    expired = _published(
        campaign,
        pm,
        people.customer2,
        "Voice picking headsets",
        "Pick orders hands-free with spoken instructions.",
        "<p>Our pickers juggle paper lists and scanners.</p>",
        ["picking"],
        days_ago=61,
    )
    Idea.objects.filter(pk=expired.pk).update(deadline=timezone.now() - timedelta(days=1))
    services.ideas_expire()

    duplicate = _published(
        campaign,
        pm,
        people.board_member2,
        "Scan pallets with phones",
        "Use phones instead of scanners for pallets.",
        "<p>Same problem as many others: scanners are expensive.</p>",
        ["scanning"],
        days_ago=5,
    )
    services.support_add(idea=duplicate, user=people.board_member)
    services.idea_merge(source=duplicate, target=tracking, actor=pm, reason="Same idea as the pallet tracking one.")
    services.trending_refresh()

    return [
        f"campaign “{campaign.title}” at {campaign.url}",
        f"{Idea.objects.filter(campaign=campaign).count()} ideas: published, pending ({pending.pk}), needs work, "
        "in review, commercialised, expired and merged",
    ]
