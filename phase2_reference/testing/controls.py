"""Test-only controls under /_reference, present only with --test-controls.

`POST /_reference/store {"available": false}` takes the data store away (every access then
answers 503) and `true` brings it back; `GET /_reference/faults` lists the active faults.
`create_app` hands `ROUTES` to the gateway; the gateway itself never imports this module.
"""

from __future__ import annotations

from phase2_reference.gateway.http import Reply, RequestContext
from phase2_reference.gateway.pipeline import Route
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.jsonutil import MalformedJSON, dumps, loads_strict
from phase2_reference.testing.faults import REGISTRY


def _problem(status: int, detail: str) -> Reply:
    body = dumps(
        {
            "type": "https://phase2.example/problems/bad-request",
            "title": "Bad request",
            "status": status,
            "detail": detail,
        }
    )
    return Reply(status, body, content_type="application/problem+json")


async def set_store(state: AppState, context: RequestContext, body: bytes) -> Reply:
    try:
        document = loads_strict(body)
    except MalformedJSON:
        return _problem(400, 'Send {"available": true|false}.')
    if not isinstance(document, dict) or not isinstance(document.get("available"), bool):
        return _problem(400, 'Send {"available": true|false}.')
    state.store.available = document["available"]
    return Reply(200, dumps({"available": state.store.available}))


async def list_faults(state: AppState, context: RequestContext, body: bytes) -> Reply:
    items = [
        {"name": name, "requirement": REGISTRY[name].requirement, "description": REGISTRY[name].description}
        for name in sorted(state.faults.names)
    ]
    return Reply(200, dumps({"items": items}))


ROUTES: dict[str, Route] = {
    "/_reference/store": ("setStore", {"POST": set_store}),
    "/_reference/faults": ("listFaults", {"GET": list_faults}),
}
