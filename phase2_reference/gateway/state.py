"""Everything one app instance owns, built once by `create_app` and shared by its handlers."""

from __future__ import annotations

from dataclasses import dataclass

from phase2_reference.bus.pubsub import EventBus
from phase2_reference.config import Config
from phase2_reference.gateway.contract import Contract
from phase2_reference.gateway.ratelimit import RateLimiter
from phase2_reference.oauth.clients import ClientRegistry
from phase2_reference.oauth.keys import SigningKey
from phase2_reference.oauth.keyset import KeySet
from phase2_reference.oauth.tokens import TokenService
from phase2_reference.oauth.verifier import TokenVerifier
from phase2_reference.orchestrator.runtimes import RuntimeService
from phase2_reference.orchestrator.scheduler import Orchestrator
from phase2_reference.orchestrator.worlds import WorldService
from phase2_reference.store.cursors import CursorCodec
from phase2_reference.store.sqlite import Store
from phase2_reference.telemetry.metrics import Metrics
from phase2_reference.telemetry.tracing import Tracing
from phase2_reference.testing.faults import ActiveFaults


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
