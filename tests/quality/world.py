"""One populated platform for the quality tests: a user per role and one object behind every route.

Built with the apps' own factories and services, so what the matrix and the hostile-input tests exercise is what
production code creates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from wagtail.documents.models import Document
from wagtail.models import Collection

from boards.models import Board, PreRead, Session
from cocreate.models import User
from cocreate.roles import Role
from ideas.models import Idea, IdeaCampaignPage
from rewards import services as rewards_services
from rewards.models import Agreement, Payout, RoyaltyRun, SalesImport
from tests.boards.factories import AgendaItemFactory, BoardFactory, MembershipFactory, SessionFactory
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import CommentFactory, IdeaFactory, campaign_create
from tests.rewards.factories import agreement_make, sell

ROLES = ("anonymous", "customer", "outside_member", "member", "product_manager", "finance", "staff")


@dataclass
class World:
    users: dict[str, User | None]
    campaign: IdeaCampaignPage
    idea: Idea
    board: Board
    session: Session
    pre_read: PreRead
    agreement: Agreement
    sales_import: SalesImport
    run: RoyaltyRun
    payout: Payout
    period: str

    def user(self, role: str) -> User | None:
        return self.users[role]

    def client(self, role: str, **kwargs: bool) -> Client:
        client = Client(**kwargs)
        user = self.users[role]
        if user is not None:
            client.force_login(user)
        return client


def world_build() -> World:
    """Every role, a campaign with a published idea (created by the customer), a board whose member accepted the
    charter and a second board with its own member, a live session with an agenda and a pre-read, and a royalty
    agreement paying the customer with a calculated quarter, an import and a payout."""
    from cocreate.services import site_ensure

    site = site_ensure()
    if not Collection.get_first_root_node():  # a transactional test flushed it
        Collection.add_root(name="Root")
    customer = UserFactory(
        roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="gold"), display_name="Cora Customer"
    )
    member = UserFactory(
        roles=[Role.CUSTOMER, Role.BOARD_MEMBER], organisation=OrganisationFactory(tier="gold"), display_name="Mia"
    )
    outside_member = UserFactory(roles=[Role.CUSTOMER, Role.BOARD_MEMBER], display_name="Otto Outside")
    product_manager = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True, display_name="Pam PM")
    finance = UserFactory(roles=[Role.FINANCE], is_staff=True, display_name="Finn Finance")
    staff = UserFactory(is_staff=True, is_superuser=True, display_name="Sue Super")

    campaign = campaign_create(parent=site, title="Winter campaign")
    idea = IdeaFactory(campaign=campaign, creator=customer, title="A lantern that floats")
    CommentFactory(idea=idea, author=member)

    board = BoardFactory()
    MembershipFactory(board=board, user=member)
    other_board = BoardFactory()
    MembershipFactory(board=other_board, user=outside_member)
    session = SessionFactory(board=board, starts_at=timezone.now() - datetime.timedelta(minutes=5))
    agenda = AgendaItemFactory(session=session, order=1, title="Roadmap")
    session.current_agenda_item = agenda
    session.save()
    document = Document.objects.create(title="Market brief", file=ContentFile(b"%PDF-1.4 brief", name="brief.pdf"))
    pre_read = PreRead.objects.create(session=session, document=document)

    agreement = agreement_make(payees=[customer], actor=finance, minimum_payout="0")
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    run = rewards_services.royalty_run(period="2026-Q3")
    payouts = rewards_services.payouts_create(actor=finance, period="2026-Q3")
    return World(
        users={
            "anonymous": None,
            "customer": customer,
            "outside_member": outside_member,
            "member": member,
            "product_manager": product_manager,
            "finance": finance,
            "staff": staff,
        },
        campaign=campaign,
        idea=idea,
        board=board,
        session=session,
        pre_read=pre_read,
        agreement=agreement,
        sales_import=SalesImport.objects.latest("pk"),
        run=run,
        payout=payouts[0],
        period="2026-Q3",
    )
