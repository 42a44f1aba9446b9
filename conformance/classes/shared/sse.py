"""Server-sent events: a parser that follows the WHATWG algorithm, and a judge of what it parsed.

The parser is incremental (bytes arrive in chunks that may split a line, a CRLF or a UTF-8
sequence) and keeps apart what a message carried itself (`id`) from the stream's last event id
(which a message without an id field inherits), because the contract wants every message to
carry its event's id.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.client import bounded
from conformance.client.transport import ResponseTooLarge

EVENT_STREAM = "text/event-stream"
# Messages one stream may hand the suite: every scenario needs a handful, and a stream of a
# million tiny events must end in a clear failure, not in a million objects.
MAX_MESSAGES = 10_000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SseMessage:
    data: str
    event: str  # the event field, or "message" when the message had none
    id: str | None  # the id field of this message, None when it had none
    last_event_id: str  # the stream's last event id when the message was dispatched
    has_event_field: bool = True

    def json(self) -> Any:
        """The data as JSON; ValueError when it is not (or nests deeper than the suite reads)."""
        return bounded.loads(self.data)


class SseParser:
    """Feed bytes, get the messages completed so far (WHATWG HTML §9.2.6)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._first = True
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._last_event_id = ""
        self.dispatched = 0

    def feed(self, chunk: bytes) -> list[SseMessage]:
        text = self._decoder.decode(chunk)
        if self._first and text:
            text = text.removeprefix("\ufeff")
            self._first = False
        self._buffer += text
        return self._drain(final=False)

    def close(self) -> tuple[list[SseMessage], bool]:
        """The messages left, and whether the stream ended in the middle of a message."""
        self._buffer += self._decoder.decode(b"", final=True)
        messages = self._drain(final=True)
        if self._buffer:
            # A last line without its line break still counts as a line, but nothing dispatches it.
            self._line(self._buffer)
            self._buffer = ""
        # Data without the blank line that dispatches it is lost to every client.
        return messages, bool(self._data)

    def _drain(self, *, final: bool) -> list[SseMessage]:
        # One pass over the buffer, cut once at the end: slicing it per line would be quadratic.
        messages: list[SseMessage] = []
        position = 0
        for found in _LINE_BREAK.finditer(self._buffer):
            if found.group() == "\r" and found.end() == len(self._buffer) and not final:
                break  # a trailing CR may be half a CRLF
            message = self._line(self._buffer[position : found.start()])
            position = found.end()
            if message is not None:
                messages.append(message)
        self._buffer = self._buffer[position:]
        return messages

    def _line(self, line: str) -> SseMessage | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\x00" not in value:
            self._id = value
            self._last_event_id = value
        return None

    def _dispatch(self) -> SseMessage | None:
        data, event, own_id = self._data, self._event, self._id
        self._data, self._event, self._id = [], None, None
        if not data:
            return None
        self.dispatched += 1
        if self.dispatched > MAX_MESSAGES:
            raise ResponseTooLarge(f"event stream sent more than {MAX_MESSAGES} messages")
        return SseMessage(
            data="\n".join(data),
            event=event or "message",
            id=own_id,
            last_event_id=self._last_event_id,
            has_event_field=event is not None,
        )


def parse_event_stream(body: bytes) -> tuple[list[SseMessage], bool]:
    """Every message of a complete stream body, and whether it ended mid-message."""
    parser = SseParser()
    messages = parser.feed(body)
    rest, incomplete = parser.close()
    return messages + rest, incomplete


def message_problems(messages: Sequence[SseMessage], incomplete: bool = False) -> list[str]:
    """How messages break 'each carries the event's id, type and JSON data, in order'."""
    problems = []
    previous: int | None = None
    for number, message in enumerate(messages, 1):
        where = f"message {number}"
        try:
            document = message.json()
        except ValueError:
            problems.append(f"{where}: data is not JSON: {message.data[:120]!r}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{where}: data is not a JSON object")
            continue
        event_id, event_type = document.get("id"), document.get("type")
        if message.id is None:
            problems.append(f"{where} (event {event_id!r}) has no id field")
        elif message.id != event_id:
            problems.append(f"{where}: id field {message.id!r} differs from the event's id {event_id!r}")
        if not message.has_event_field:
            problems.append(f"{where} (event {event_id!r}) has no event field")
        elif message.event != event_type:
            problems.append(f"{where}: event field {message.event!r} differs from the type {event_type!r}")
        sequence = _sequence(event_id)
        if sequence is None:
            problems.append(f"{where}: the event id {event_id!r} is not a decimal sequence number")
        elif previous is not None and sequence <= previous:
            problems.append(f"{where}: event {sequence} comes after event {previous}; out of order")
        else:
            previous = sequence
    if incomplete:
        problems.append("the stream ended in the middle of a message (no blank line after its last field)")
    return problems


def about(messages: Sequence[SseMessage], subjects: set[str]) -> list[Mapping[str, Any]]:
    """The event documents of the messages about the given subjects, in stream order."""
    found: list[Mapping[str, Any]] = []
    for message in messages:
        try:
            document = message.json()
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("subject") in subjects:
            found.append(document)
    return found


def _sequence(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return None


def resume_problems(
    messages: Sequence[SseMessage], subject: str, last_id: str, expected: Sequence[Mapping[str, Any]]
) -> list[str]:
    """How a stream resumed after `last_id` differs from exactly the later events about `subject`.

    Any message at or before `last_id` is wrong whatever it is about; of the messages about the
    subject, exactly `expected` must arrive, in order.
    """
    problems = []
    resumed_after = _sequence(last_id)
    earlier = [
        str(message.id)
        for message in messages
        if resumed_after is not None and (sequence := _sequence(message.id)) is not None and sequence <= resumed_after
    ]
    if earlier:
        problems.append(f"after Last-Event-ID {last_id} it sent events {earlier[:5]}")
    streamed = [str(document.get("id")) for document in about(messages, {subject})]
    wanted = [str(document.get("id")) for document in expected]
    if streamed != wanted:
        problems.append(f"about the subject it sent events {streamed}, expected {wanted}")
    return problems
