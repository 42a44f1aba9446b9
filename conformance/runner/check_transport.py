"""The requests a built-in check sends itself go out on the run's limited session.

Schemathesis' `ignored_auth` sends probes (the case again without credentials, then with invalid
ones) through `schema.transport` with the session stripped, so they would leave on a plain
`requests` session: no total deadline, no cap on the body, no pace, and a route that stopped
answering would be waited on again for every probe. The contract schema's transport hands them the
session of the case being judged instead (`CHECK_SESSION`, set while its checks run), so a probe
meets the same limits and the same stall breaker as the case it came from.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import requests
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

# The session of the case whose checks run in this thread; None outside `ContractExerciser.validate`.
CHECK_SESSION: ContextVar[requests.Session | None] = ContextVar("conformance_check_session", default=None)


class CheckRequestsTransport(RequestsTransport):
    """Schemathesis' requests transport, sending on `CHECK_SESSION` when a caller gives no session."""

    def __init__(self) -> None:
        super().__init__()
        # Schemathesis' own registry of body serializers, shared (not copied): generation asks the
        # schema's transport what it can serialize, so the cases stay the ones it would generate.
        self._serializers = REQUESTS_TRANSPORT._serializers

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> Any:
        return super().send(case, session=session if session is not None else CHECK_SESSION.get(), **kwargs)


CHECK_TRANSPORT = CheckRequestsTransport()


def route_check_requests(schema: Any) -> Any:
    """`schema`, its network requests sent by `CHECK_TRANSPORT` (its clones keep its class)."""
    base: type[Any] = type(schema)

    class ContractSchema(base):  # type: ignore[misc]
        @property
        def transport(self) -> Any:
            return CHECK_TRANSPORT if self.app is None else super().transport

    schema.__class__ = ContractSchema
    return schema
