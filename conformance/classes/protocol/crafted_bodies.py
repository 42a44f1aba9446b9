"""Crafted request bodies for every operation that takes one, and proof that nothing was written.

A `BodyTarget` knows, for one operation of the contract, a document the operation would accept
(a fresh world name, the current ETag, a token nobody else uses) and how to tell afterwards what
a request that should have been refused wrote anyway. The request-side protocol checks break that
valid document in one way each, so a deployment that ignores the rule under test would succeed
and be caught twice: by the status, and by the write.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.classes.shared import eventlog
from conformance.classes.shared.eventlog import world_subject
from conformance.classes.shared.paging import MAX_LIMIT, list_fetcher, walk
from conformance.classes.shared.resources import create_world, delete_later, plugin_list, retire_later
from conformance.client.observed import ObservedResponse
from conformance.contract.spec import Operation

TEXT = "p2c-probe-text"  # the value of each document's free-text field, replaced by some probes
MAX_PAGES = 10_000


@dataclass
class Workspace:
    """What the probes of one check share: a world to update and run, and what they already saw."""

    ctx: ScenarioContext
    world: dict[str, Any]
    plugin: str
    since: eventlog.Anchor
    names: dict[str, str] = field(default_factory=dict)  # world name a probe sent → its requirement
    seen_events: set[str] = field(default_factory=set)
    seen_runtimes: set[str] = field(default_factory=set)  # runtimes a probe was already blamed for
    # The probes of several operations run side by side: each new event goes to one of them.
    seen_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def prepare(cls, ctx: ScenarioContext) -> Workspace:
        plugins = plugin_list(ctx)
        world = create_world(ctx, settings={"max_entities": 10})
        capable = [plugin for plugin in plugins if plugin["max_entities"] >= 10] or plugins
        return cls(ctx, world, capable[0]["name"], eventlog.anchor(ctx))

    def new_events(self) -> list[Mapping[str, Any]]:
        """Events about the workspace written since the last call (its world, its runtimes, its names)."""
        events, problem = eventlog.events_since(self.ctx, self.since)
        if problem is not None:
            self.ctx.blocked(f"cannot read the events: {problem}")
        with self.seen_lock:
            fresh = [event for event in events if str(event.get("id")) not in self.seen_events and self._ours(event)]
            self.seen_events.update(str(event.get("id")) for event in fresh)
        return fresh

    def _ours(self, event: Mapping[str, Any]) -> bool:
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        return (
            event.get("subject") == world_subject(self.world["id"])
            or data.get("world_id") == self.world["id"]
            or data.get("name") in self.names
        )

    def stray_worlds(self) -> dict[str, str]:
        """Worlds listed under a name a probe sent: world id → the requirement of that probe."""
        result = walk(
            list_fetcher(self.ctx.api, "listWorlds"),
            MAX_LIMIT,
            max_pages=MAX_PAGES,
            deadline=self.ctx.deadline,
        )
        if result.problem is not None:
            self.ctx.blocked(f"cannot walk the world list: {result.problem}")
        return {
            str(item["id"]): self.names[str(item.get("name"))]
            for page in result.pages
            for item in page.items
            if item.get("name") in self.names
        }


class BodyTarget:
    """One operation with a body; subclasses know how to make it succeed and what it writes."""

    text_field: tuple[str, ...] = ()  # where the free-text field sits in the document

    def __init__(self, workspace: Workspace, operation: Operation) -> None:
        self.workspace = workspace
        self.ctx = workspace.ctx
        self.operation = operation

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        """A document the operation would accept."""
        return {}

    def send(self, content: bytes, content_type: str) -> ObservedResponse:
        return self.ctx.api.call(
            self.operation.operation_id,
            path=self.path(),
            content=content,
            content_type=content_type,
            headers=self.headers(),
            token=self.token(),
            negative=True,
        )

    def path(self) -> dict[str, str]:
        return {}

    def headers(self) -> dict[str, str]:
        return {}

    def token(self) -> str | None:
        return None  # the run's token for protected operations; public ones send none

    def written(self, response: ObservedResponse) -> list[str] | None:
        """What the last request wrote, described; None when this operation's writes are invisible."""
        return None

    def finish(self) -> None:
        """Undo what the target itself holds for the probes (tokens), once a check is done."""


def put_text(document: dict[str, Any], path: tuple[str, ...], text: str) -> dict[str, Any]:
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = text
    return document


def _events_written(workspace: Workspace) -> list[str]:
    return [f"it recorded {line}" for line in eventlog.describe(workspace.new_events())]


class LoginTarget(BodyTarget):
    text_field = ("client_id",)

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        identity = self.ctx.settings.primary
        document = {
            "grant_type": "client_credentials",
            "client_id": identity.client_id,
            "client_secret": identity.client_secret.reveal(),
        }
        return document if text == TEXT else put_text(document, self.text_field, text)


class RefreshTarget(BodyTarget):
    """Each probe presents a live refresh token; a proper refresh afterwards proves it was not used."""

    text_field = ("refresh_token",)

    def __init__(self, workspace: Workspace, operation: Operation) -> None:
        super().__init__(workspace, operation)
        self.access_token, self.refresh_token = self._login()

    def _login(self) -> tuple[str, str]:
        identity = self.ctx.settings.primary
        body = {
            "grant_type": "client_credentials",
            "client_id": identity.client_id,
            "client_secret": identity.client_secret.reveal(),
        }
        response = self.ctx.require(self.ctx.api.call("login", json=body), {200}, "log in for a refresh token")
        return _tokens(self.ctx, response)

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        return {"grant_type": "refresh_token", "refresh_token": self.refresh_token if text == TEXT else text}

    def written(self, response: ObservedResponse) -> list[str] | None:
        body = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        proper = self.ctx.api.call("refreshToken", json=body)
        if proper.status == 200:
            self.access_token, self.refresh_token = _tokens(self.ctx, proper)
            return []
        self.access_token, self.refresh_token = self._login()
        return [f"it used up the refresh token: a proper refresh with it then answered {proper.status}"]

    def finish(self) -> None:
        self.ctx.api.call("logout", json={"refresh_token": self.refresh_token}, token=self.access_token)


def _tokens(ctx: ScenarioContext, response: ObservedResponse) -> tuple[str, str]:
    document = response.json_or_none()
    if not isinstance(document, dict) or not all(
        isinstance(document.get(name), str) for name in ("access_token", "refresh_token")
    ):
        ctx.blocked(f"{response.operation.operation_id if response.operation else 'login'} answered no tokens")
    return document["access_token"], document["refresh_token"]


class LogoutTarget(BodyTarget):
    """Each probe presents a token nobody else uses; if it still works afterwards, nothing was revoked."""

    text_field = ("refresh_token",)

    def __init__(self, workspace: Workspace, operation: Operation) -> None:
        super().__init__(workspace, operation)
        self._token = ""

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        return {"refresh_token": "p2c-unknown-refresh-token" if text == TEXT else text}

    def token(self) -> str | None:
        self._token = self.ctx.api.tokens.disposable_token()
        return self._token

    def written(self, response: ObservedResponse) -> list[str] | None:
        probe = self.ctx.api.call("getEngineInfo", token=self._token)
        self.ctx.api.call("logout", token=self._token)  # the probe's token is of no further use
        if probe.status == 401:
            return ["it revoked the access token it was sent with"]
        return []


class CreateWorldTarget(BodyTarget):
    text_field = ("description",)

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        name = self.ctx.unique_name()
        self.workspace.names[name] = requirement_id
        return {"name": name, "description": text, "labels": {"probe": "body"}}

    def written(self, response: ObservedResponse) -> list[str] | None:
        created = response.json_or_none()
        found = []
        if isinstance(created, dict) and isinstance(created.get("id"), str):
            delete_later(self.ctx, created["id"])
            found.append(f"it created world {created['id']}")
        return found + _events_written(self.workspace)


class UpdateWorldTarget(BodyTarget):
    text_field = ("description",)

    def __init__(self, workspace: Workspace, operation: Operation) -> None:
        super().__init__(workspace, operation)
        self.before: Any = None
        self.etag = ""

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        read = self.ctx.require(
            self.ctx.api.call("getWorld", path=self.path()), {200}, "read the world before the probe"
        )
        self.before, self.etag = read.json_or_none(), read.headers.get("etag", "")
        return {"description": text, "labels": {"probe": "changed"}}

    def path(self) -> dict[str, str]:
        return {"world_id": self.workspace.world["id"]}

    def headers(self) -> dict[str, str]:
        return {"If-Match": self.etag}

    def written(self, response: ObservedResponse) -> list[str] | None:
        after = self.ctx.api.call("getWorld", path=self.path())
        found = [] if after.json_or_none() == self.before else ["it changed the world"]
        return found + _events_written(self.workspace)


class StartRuntimeTarget(BodyTarget):
    text_field = ("parameters", "note")

    def document(self, requirement_id: str, text: str = TEXT) -> dict[str, Any]:
        return {
            "world_id": self.workspace.world["id"],
            "plugin": self.workspace.plugin,
            "parameters": {"note": text},
        }

    def written(self, response: ObservedResponse) -> list[str] | None:
        started = response.json_or_none()
        found = []
        if isinstance(started, dict) and isinstance(started.get("id"), str):
            retire_later(self.ctx, [started["id"]])
            found.append(f"it started runtime {started['id']}")
        if isinstance(started, dict):
            self.workspace.seen_runtimes.add(str(started.get("id")))
        runtimes = self.ctx.api.call("listRuntimes", query={"world_id": self.workspace.world["id"], "limit": MAX_LIMIT})
        listed = runtimes.json_or_none()
        with self.workspace.seen_lock:
            strays = [
                str(item.get("id"))
                for item in (listed.get("items", []) if isinstance(listed, dict) else [])
                if isinstance(item, dict)
                and item.get("world_id") == self.workspace.world["id"]
                and str(item.get("id")) not in self.workspace.seen_runtimes
            ]
            self.workspace.seen_runtimes.update(strays)
        retire_later(self.ctx, strays)
        found += [f"the world lists runtime {runtime_id}" for runtime_id in strays]
        return found + _events_written(self.workspace)


TARGETS: Mapping[str, Callable[[Workspace, Operation], BodyTarget]] = {
    "login": LoginTarget,
    "refreshToken": RefreshTarget,
    "logout": LogoutTarget,
    "createWorld": CreateWorldTarget,
    "updateWorld": UpdateWorldTarget,
    "startRuntime": StartRuntimeTarget,
}


def body_targets(workspace: Workspace) -> list[BodyTarget]:
    """A target for every operation of the contract that takes a request body."""
    operations = [operation for operation in workspace.ctx.contract.operations if operation.request_media_types]
    # An operation this module does not know yet still gets its status judged, with an empty document.
    return [TARGETS.get(operation.operation_id, BodyTarget)(workspace, operation) for operation in operations]


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document).encode("utf-8")
