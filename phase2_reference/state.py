"""Everything one app instance owns, built once by `create_app` and shared by its handlers."""

from __future__ import annotations

from dataclasses import dataclass

from phase2_reference.bus import EventBus
from phase2_reference.clients import ClientRegistry
from phase2_reference.config import Config
from phase2_reference.contract import Contract
from phase2_reference.cursors import CursorCodec
from phase2_reference.faults import ActiveFaults
from phase2_reference.keys import SigningKey
from phase2_reference.keyset import KeySet
from phase2_reference.metrics import Metrics
from phase2_reference.orchestrator import Orchestrator
from phase2_reference.ratelimit import RateLimiter
from phase2_reference.runtimes import RuntimeService
from phase2_reference.store import Store
from phase2_reference.tokens import TokenService
from phase2_reference.tracing import Tracing
from phase2_reference.verifier import TokenVerifier
from phase2_reference.worlds import WorldService


@dataclass(slots=True)
class AppState:
    config: Config
    contract: Contract
    faults: ActiveFaults
    store: Store
    bus: EventBus
    codec: CursorCodec
    clients: ClientRegistry
    signing_key: SigningKey
    issuer: str
    keyset: KeySet
    tokens: TokenService
    verifier: TokenVerifier
    worlds: WorldService
    runtimes: RuntimeService
    orchestrator: Orchestrator
    metrics: Metrics
    tracing: Tracing
    rate_limiter: RateLimiter | None
    started_at: float
    version: str
