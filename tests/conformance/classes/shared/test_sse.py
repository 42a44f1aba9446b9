"""The server-sent events parser (WHATWG) and the judgements of a stream."""

from __future__ import annotations

import json

import pytest

from conformance.classes.shared.sse import (
    SseMessage,
    SseParser,
    about,
    message_problems,
    parse_event_stream,
    resume_problems,
)


def event(event_id: int, kind: str = "world.created", subject: str = "worlds/a") -> dict[str, object]:
    return {"id": str(event_id), "type": kind, "subject": subject, "time": "2026-11-26T10:00:00Z", "data": {}}


def frame(document: dict[str, object]) -> bytes:
    return f"id: {document['id']}\nevent: {document['type']}\ndata: {json.dumps(document)}\n\n".encode()


def test_messages_carry_id_event_and_data() -> None:
    messages, incomplete = parse_event_stream(frame(event(1)) + frame(event(2, "world.updated")))
    assert not incomplete
    assert [(m.id, m.event, m.json()["id"]) for m in messages] == [
        ("1", "world.created", "1"),
        ("2", "world.updated", "2"),
    ]
    assert message_problems(messages) == []


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_is_understood(newline: bytes) -> None:
    body = frame(event(3)).replace(b"\n", newline)
    messages, incomplete = parse_event_stream(body)
    assert [m.id for m in messages] == ["3"]
    assert not incomplete


def test_chunks_may_split_lines_crlf_and_utf8() -> None:
    document = event(4)
    document["data"] = {"name": "Zürich"}
    body = frame(document).replace(b"\n", b"\r\n")
    parser = SseParser()
    messages: list[SseMessage] = []
    for index in range(len(body)):  # one byte at a time splits everything that can be split
        messages += parser.feed(body[index : index + 1])
    rest, incomplete = parser.close()
    messages += rest
    assert len(messages) == 1
    assert not incomplete
    assert messages[0].json()["data"] == {"name": "Zürich"}


def test_comments_multiline_data_and_field_syntax() -> None:
    body = b"\xef\xbb\xbf: keep-alive\nid:7\nevent:x\ndata: first\ndata:second\nretry: 10\nunknown: y\n\n"
    (message,), _ = parse_event_stream(body)
    assert message.id == "7"
    assert message.event == "x"
    assert message.data == "first\nsecond"


def test_a_message_without_id_inherits_the_last_event_id_but_is_flagged() -> None:
    body = frame(event(5)) + b"event: world.created\ndata: " + json.dumps(event(6)).encode() + b"\n\n"
    messages, _ = parse_event_stream(body)
    assert messages[1].id is None
    assert messages[1].last_event_id == "5"
    assert any("has no id field" in problem for problem in message_problems(messages))


def test_a_message_without_event_field_is_flagged() -> None:
    messages, _ = parse_event_stream(b"id: 1\ndata: " + json.dumps(event(1)).encode() + b"\n\n")
    assert messages[0].event == "message"
    assert not messages[0].has_event_field
    assert any("has no event field" in problem for problem in message_problems(messages))


def test_a_stream_ending_mid_message_is_incomplete() -> None:
    messages, incomplete = parse_event_stream(frame(event(1)) + b"id: 2\ndata: {}")
    assert len(messages) == 1
    assert incomplete
    assert any("middle of a message" in problem for problem in message_problems(messages, incomplete))


def test_empty_data_dispatches_nothing() -> None:
    messages, incomplete = parse_event_stream(b"id: 9\nevent: x\n\n: comment only\n\n")
    assert messages == []
    assert not incomplete


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"id: 1\nevent: world.created\ndata: not json\n\n", "data is not JSON"),
        (b"id: 1\nevent: world.created\ndata: [1]\n\n", "not a JSON object"),
        (frame(event(1)).replace(b"id: 1", b"id: 2"), "differs from the event's id"),
        (frame(event(1)).replace(b"event: world.created", b"event: world.updated"), "differs from the type"),
        (frame(event(2)) + frame(event(1)), "out of order"),
        (frame({**event(1), "id": "x1"}).replace(b"id: 1", b"id: x1"), "not a decimal sequence number"),
    ],
)
def test_message_problems_name_what_is_wrong(body: bytes, problem: str) -> None:
    messages, incomplete = parse_event_stream(body)
    assert any(problem in found for found in message_problems(messages, incomplete))


def test_about_keeps_the_subject_in_stream_order() -> None:
    messages, _ = parse_event_stream(frame(event(1, subject="worlds/b")) + frame(event(2)) + frame(event(3)))
    assert [document["id"] for document in about(messages, {"worlds/a"})] == ["2", "3"]


def test_resume_problems() -> None:
    later = [event(3), event(4)]
    messages, _ = parse_event_stream(b"".join(frame(document) for document in later))
    assert resume_problems(messages, "worlds/a", "2", later) == []
    replayed, _ = parse_event_stream(frame(event(1)) + frame(event(2)) + frame(event(3)) + frame(event(4)))
    problems = resume_problems(replayed, "worlds/a", "2", later)
    assert any("after Last-Event-ID 2 it sent events ['1', '2']" in problem for problem in problems)
    assert any("expected ['3', '4']" in problem for problem in resume_problems(messages[:1], "worlds/a", "2", later))
