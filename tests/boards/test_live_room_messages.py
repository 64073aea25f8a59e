"""What members and facilitators send in the live room, and what everyone receives."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import override_settings

from boards.models import ChatMessage, PollVote, Question, SessionEvent
from tests.boards.conftest import joined, no_event, receive_event, receive_until, token_header

pytestmark = pytest.mark.django_db(transaction=True)


async def people(room):
    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    peer = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    host = await joined(room.session.pk, await sync_to_async(token_header)(room.facilitator))
    return member, peer, host


async def close_all(*comms):
    for comm in comms:
        await comm.disconnect()


async def test_a_chat_message_is_stored_once_and_reaches_everyone_in_the_room(room):
    member, peer, host = await people(room)
    await member.send_json_to(
        {"type": "chat.send", "body": "<b>Hello</b> board", "agenda_item": room.agenda[1].pk, "client_msg_id": "m-1"}
    )
    ack = await receive_until(member, "ack")
    received = await receive_event(peer, "chat.message")
    assert received["id"] == ack["id"]
    assert received["payload"]["body"] == "Hello board"
    assert received["payload"]["agenda_item"] == room.agenda[1].pk
    assert received["payload"]["author"] == {"id": room.member.pk, "name": "Mia Member"}
    assert set(received) == {"type", "id", "kind", "payload", "created_at"}
    own = await receive_event(member, "chat.message")
    assert own["client_msg_id"] == "m-1"
    assert (await receive_event(host, "chat.message"))["id"] == ack["id"]
    assert await ChatMessage.objects.acount() == 1
    await close_all(member, peer, host)


async def test_the_same_client_msg_id_twice_stores_one_event_and_acks_the_same_id(room):
    member, peer, host = await people(room)
    for _ in range(2):
        await member.send_json_to({"type": "chat.send", "body": "only once", "client_msg_id": "retry-7"})
    first = await receive_until(member, "ack")
    second = await receive_until(member, "ack")
    assert first["id"] == second["id"]
    assert await SessionEvent.objects.filter(kind="chat.message").acount() == 1
    await receive_event(peer, "chat.message")
    assert await no_event(peer)
    await close_all(member, peer, host)


async def test_malformed_json_and_unknown_types_get_an_error_and_the_socket_stays_open(room):
    member, peer, host = await people(room)
    await member.send_to(text_data="{not json")
    assert (await receive_until(member, "error"))["code"] == "malformed"
    await member.send_json_to(["a", "list"])
    assert (await receive_until(member, "error"))["code"] == "malformed"
    await member.send_json_to({"type": "database.drop"})
    assert (await receive_until(member, "error"))["code"] == "unknown_type"
    await member.send_json_to({"type": "chat.send", "body": 42})
    assert (await receive_until(member, "error"))["code"] == "invalid"
    await member.send_json_to({"type": "chat.send", "body": "x" * 20000})
    assert (await receive_until(member, "error"))["code"] == "too_big"
    await close_all(peer, host)


async def test_members_cannot_use_facilitator_commands(room):
    member, peer, host = await people(room)
    for command in (
        {"type": "agenda.advance"},
        {"type": "decision.record", "text": "We ship it"},
        {"type": "poll.open", "question": "Q?", "options": ["a", "b"]},
        {"type": "session.end"},
    ):
        await member.send_json_to(command)
        assert (await receive_until(member, "error"))["code"] == "permission_denied"
    assert await SessionEvent.objects.acount() == 0
    await close_all(member, peer, host)


async def test_an_anonymous_question_hides_its_author_from_peers_but_not_from_facilitators(room):
    member, peer, host = await people(room)
    await member.send_json_to({"type": "question.ask", "body": "Pricing?", "anonymous": True, "client_msg_id": "q"})
    seen_by_peer = await receive_event(peer, "question.asked")
    seen_by_host = await receive_event(host, "question.asked")
    assert seen_by_peer["payload"]["author"] is None
    assert seen_by_host["payload"]["author"]["id"] == room.member.pk
    await close_all(member, peer, host)


async def test_with_moderation_a_question_reaches_peers_only_once_approved(room):
    room.session.moderate_questions = True
    await room.session.asave(update_fields=["moderate_questions"])
    member, peer, host = await people(room)
    await member.send_json_to({"type": "question.ask", "body": "Roadmap for EMEA?"})
    pending = await receive_event(host, "question.asked")
    assert pending["payload"]["status"] == "pending"
    assert (await receive_event(member, "question.asked"))["id"] == pending["id"]
    assert await no_event(peer)
    await host.send_json_to({"type": "question.approve", "question": pending["payload"]["question"]})
    published = await receive_event(peer, "question.published")
    assert published["payload"]["body"] == "Roadmap for EMEA?"
    await close_all(member, peer, host)


async def test_each_member_upvotes_a_question_once(room):
    member, peer, host = await people(room)
    await member.send_json_to({"type": "question.ask", "body": "Why?"})
    question = (await receive_event(peer, "question.asked"))["payload"]["question"]
    await peer.send_json_to({"type": "question.upvote", "question": question})
    assert (await receive_event(member, "question.upvoted"))["payload"]["upvotes"] == 1
    await peer.send_json_to({"type": "question.upvote", "question": question})
    assert (await receive_until(peer, "error"))["code"] == "already_upvoted"
    assert (await Question.objects.aget(pk=question)).upvote_count == 1
    await close_all(member, peer, host)


async def test_poll_results_stay_with_facilitators_until_the_poll_closes_when_not_live(room):
    member, peer, host = await people(room)
    await host.send_json_to(
        {"type": "poll.open", "question": "Ship in Q3?", "options": ["Yes", "No"], "results_live": False}
    )
    opened = await receive_event(member, "poll.opened")
    yes = opened["payload"]["options"][0]["id"]
    await member.send_json_to({"type": "poll.vote", "poll": opened["payload"]["poll"], "options": [yes]})
    to_peer = await receive_event(peer, "poll.results")
    to_voter = await receive_event(member, "poll.results")
    to_host = await receive_event(host, "poll.results")
    assert "counts" not in to_peer["payload"]
    assert "counts" not in to_voter["payload"]
    assert to_peer["payload"]["voters"] == 1
    assert to_host["payload"]["counts"][str(yes)] == 1
    await host.send_json_to({"type": "poll.close", "poll": opened["payload"]["poll"]})
    closed = await receive_event(peer, "poll.closed")
    assert closed["payload"]["counts"][str(yes)] == 1
    await member.send_json_to({"type": "poll.vote", "poll": opened["payload"]["poll"], "options": [yes]})
    assert (await receive_until(member, "error"))["code"] == "poll_closed"
    assert await PollVote.objects.acount() == 1
    await close_all(member, peer, host)


async def test_facilitators_advance_the_agenda_record_decisions_and_create_action_items(room):
    member, peer, host = await people(room)
    await host.send_json_to({"type": "agenda.advance"})
    assert (await receive_event(member, "agenda.advanced"))["payload"]["agenda_item"] == room.agenda[1].pk
    await host.send_json_to({"type": "decision.record", "text": "Pilot in two regions"})
    assert (await receive_event(member, "decision.recorded"))["payload"]["text"] == "Pilot in two regions"
    await host.send_json_to(
        {"type": "action_item.create", "title": "Send pilot plan", "owner": room.member.pk, "due_date": "2026-12-01"}
    )
    created = await receive_event(peer, "action_item.created")
    assert created["payload"]["owner"]["id"] == room.member.pk
    await host.send_json_to(
        {"type": "action_item.create", "title": "x", "owner": room.outsider.pk, "due_date": "2026-12-01"}
    )
    assert (await receive_until(host, "error"))["code"] == "invalid"
    await close_all(member, peer, host)


async def test_hiding_a_chat_message_tells_everyone(room):
    member, peer, host = await people(room)
    await member.send_json_to({"type": "chat.send", "body": "oops"})
    message = (await receive_event(host, "chat.message"))["payload"]["message"]
    await host.send_json_to({"type": "chat.hide", "message": message})
    assert (await receive_event(peer, "chat.hidden"))["payload"]["message"] == message
    assert (await ChatMessage.objects.aget(pk=message)).hidden
    await close_all(member, peer, host)


async def test_resume_sends_every_missed_event_in_order(room):
    member, peer, host = await people(room)
    await member.send_json_to({"type": "chat.send", "body": "before"})
    first = await receive_event(peer, "chat.message")
    await peer.disconnect()
    for i in range(4):
        await member.send_json_to({"type": "chat.send", "body": f"missed {i}"})
        await receive_until(member, "ack")
    back = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    await back.send_json_to({"type": "resume", "after": first["id"]})
    bodies = [(await receive_event(back, "chat.message"))["payload"]["body"] for _ in range(4)]
    assert bodies == [f"missed {i}" for i in range(4)]
    resumed = await receive_until(back, "resumed")
    assert resumed["last_id"] > first["id"]
    await close_all(member, back, host)


async def test_resume_leaves_out_what_the_viewer_may_not_see(room):
    room.session.moderate_questions = True
    await room.session.asave(update_fields=["moderate_questions"])
    member, peer, host = await people(room)
    await member.send_json_to({"type": "question.ask", "body": "pending one"})
    await receive_until(member, "ack")
    await member.send_json_to({"type": "chat.send", "body": "public one"})
    await receive_until(member, "ack")
    late = await joined(room.session.pk, await sync_to_async(token_header)(room.member2))
    await late.send_json_to({"type": "resume", "after": 0})
    assert (await receive_until(late, "event"))["kind"] == "chat.message"
    await receive_until(late, "resumed")
    await close_all(member, peer, host, late)


@override_settings(BOARDS_RESUME_MAX_EVENTS=3)
async def test_resume_asks_for_a_resync_when_too_much_was_missed(room):
    member, peer, host = await people(room)
    for i in range(5):
        await member.send_json_to({"type": "chat.send", "body": f"m{i}"})
        await receive_until(member, "ack")
    await peer.send_json_to({"type": "resume", "after": 0})
    assert (await receive_until(peer, "resync"))["after"] == 0
    await close_all(member, peer, host)


@override_settings(BOARDS_WS_RATE_LIMIT=(3, 60))
async def test_a_flooding_member_is_rate_limited(room):
    member, peer, host = await people(room)
    for i in range(3):
        await member.send_json_to({"type": "reaction.add", "emoji": "👍", "client_msg_id": f"r{i}"})
        await receive_until(member, "ack")
    await member.send_json_to({"type": "reaction.add", "emoji": "👍", "client_msg_id": "r3"})
    refused = await receive_until(member, "error")
    # The refused message is named, so the client keeps it and sends it again later (not only at a reconnect).
    assert (refused["code"], refused["client_msg_id"]) == ("rate_limited", "r3")
    await member.send_json_to({"type": "reaction.add", "emoji": "👍"})
    assert "client_msg_id" not in await receive_until(member, "error")
    assert await SessionEvent.objects.acount() == 3
    await close_all(member, peer, host)


@override_settings(BOARDS_WS_RATE_LIMIT=(3, 60))
async def test_a_reconnecting_members_first_resume_is_answered_even_when_their_rate_limit_is_spent(room):
    member, peer, host = await people(room)
    for i in range(3):
        await member.send_json_to({"type": "reaction.add", "emoji": "👍", "client_msg_id": f"r{i}"})
        await receive_until(member, "ack")
    await member.disconnect()
    back = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    await back.send_json_to({"type": "resume", "after": 0})
    assert len([(await receive_event(back, "reaction.added")) for _ in range(3)]) == 3
    await receive_until(back, "resumed")
    await back.send_json_to({"type": "resume", "after": 0})
    assert (await receive_until(back, "error"))["code"] == "rate_limited"
    await close_all(back, peer, host)


async def test_members_cannot_post_before_the_session_is_live(room):
    room.session.state = "scheduled"
    await room.session.asave(update_fields=["state"])
    member, peer, host = await people(room)
    await member.send_json_to({"type": "chat.send", "body": "early"})
    assert (await receive_until(member, "error"))["code"] == "not_live"
    await host.send_json_to({"type": "session.start"})
    assert (await receive_event(member, "session.state"))["payload"]["state"] == "live"
    await close_all(member, peer, host)


async def test_presence_lists_who_is_in_the_room_and_heartbeats_keep_it(room):
    member, peer, host = await people(room)
    presence = await receive_until(member, "presence")
    while len(presence["users"]) < 3:
        presence = await receive_until(member, "presence")
    assert {p["id"] for p in presence["users"]} == {room.member.pk, room.member2.pk, room.facilitator.pk}
    await peer.send_json_to({"type": "heartbeat"})
    await receive_until(peer, "heartbeat")
    await peer.disconnect()
    presence = await receive_until(member, "presence")
    assert room.member2.pk not in {p["id"] for p in presence["users"]}
    await close_all(member, host)


async def test_live_events_are_delivered_in_order_and_a_dropped_one_is_read_from_the_database(room):
    from unittest import mock

    from boards import services
    from boards.selectors import session_access

    member, peer, host = await people(room)
    await peer.send_json_to({"type": "resume", "after": 0})
    await receive_until(peer, "resumed")
    captured = []

    def write_three():
        access = session_access(user=room.member, session_id=room.session.pk)
        with mock.patch("boards.events.group_send", side_effect=lambda group, message: captured.append(message)):
            for body in ("first", "second", "third"):
                services.chat_send(access=access, user=room.member, body=body)

    await sync_to_async(write_three)()
    assert [m["event"]["seq"] for m in captured] == [1, 2, 3]
    layer = get_channel_layer()
    # The third arrives before the first, and the second never arrives (dropped by the layer).
    await layer.group_send(f"session-{room.session.pk}", captured[2])
    await layer.group_send(f"session-{room.session.pk}", captured[0])
    bodies = [(await receive_event(peer, "chat.message"))["payload"]["body"] for _ in range(3)]
    assert bodies == ["first", "second", "third"]
    assert await no_event(peer)
    await close_all(member, peer, host)


async def test_a_heartbeat_is_answered_later_and_the_socket_goes_on_meanwhile(room, settings, monkeypatch):
    """Sockets that beat together must not queue every message behind their heartbeats' database reads."""
    import random

    settings.BOARDS_HEARTBEAT_SPREAD = 0.5
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    member, peer, host = await people(room)
    await member.send_json_to({"type": "heartbeat"})
    await member.send_json_to({"type": "chat.send", "body": "while the heartbeat waits", "client_msg_id": "hb-1"})
    answers = []
    while len(answers) < 2:
        message = await member.receive_json_from(timeout=2)
        if message["type"] in ("ack", "heartbeat"):
            answers.append(message)
    assert [m["type"] for m in answers] == ["ack", "heartbeat"]
    assert answers[1]["last_id"] == answers[0]["id"]
    await close_all(member, peer, host)


async def test_a_heartbeat_that_fails_closes_the_socket_so_that_the_client_reconnects_and_resumes(room, monkeypatch):
    from boards import consumers

    def database_away(**kwargs):
        raise ConnectionError("database away")

    monkeypatch.setattr(consumers, "last_event_id", database_away)
    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    await member.send_json_to({"type": "heartbeat"})
    while (message := await member.receive_output(timeout=2))["type"] != "websocket.close":
        pass
    assert message["code"] == 1011


async def test_an_account_deactivated_while_its_socket_is_open_is_cut_off_at_its_next_heartbeat(room):
    """The socket's user was loaded when it connected; the heartbeat reads the account again. Checked with the
    loaded user only, the deactivated account kept its socket (and the room) until it reconnected."""
    member = await joined(room.session.pk, await sync_to_async(token_header)(room.member))
    await member.send_json_to({"type": "heartbeat"})
    await receive_until(member, "heartbeat")
    room.member.is_active = False
    await room.member.asave(update_fields=["is_active"])
    await member.send_json_to({"type": "heartbeat"})
    while (message := await member.receive_output(timeout=2))["type"] != "websocket.close":
        pass
    assert message["code"] == 4401
