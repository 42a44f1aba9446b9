"""`create_app(config)`: builds one reference server as an ASGI application.

The app works with or without ASGI lifespan events: the orchestrator starts on the first
request if no startup event came (httpx.ASGITransport sends none).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from phase2_reference import __version__
from phase2_reference.bus.pubsub import EventBus
from phase2_reference.config import Config, ConfigError, parse_flags
from phase2_reference.gateway.contract import load_contract
from phase2_reference.gateway.middleware import ErrorMiddleware, FaultMiddleware, TelemetryMiddleware
from phase2_reference.gateway.pipeline import Gateway
from phase2_reference.gateway.ratelimit import RateLimiter
from phase2_reference.gateway.state import AppState
from phase2_reference.gateway.validation import OperationValidator
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
from phase2_reference.testing import controls
from phase2_reference.testing.faults import ActiveFaults


class Phase2App:
    """The ASGI application: lifespan handling around the middleware stack and the gateway."""

    def __init__(self, state: AppState, stack: ASGIApp) -> None:
        self.state = state
        self._stack = stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._stack(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.state.orchestrator.ensure_started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def shutdown(self) -> None:
        """Stop background work and flush telemetry; the store stays open until `close`."""
        self.state.bus.close()
        await self.state.orchestrator.stop()
        self.state.tracing.shutdown()

    def close(self) -> None:
        self.state.store.close()


def _load_seed(path: Path, state: AppState) -> None:
    try:
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read seed file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"seed file {path} is not valid YAML") from exc
    worlds = raw.get("worlds", []) if isinstance(raw, dict) else None
    if not isinstance(worlds, list):
        raise ConfigError(f"seed file {path} has no `worlds:` list")
    validator = OperationValidator.build(state.contract.operations["createWorld"]).body
    assert validator is not None
    for index, entry in enumerate(worlds):
        if not isinstance(entry, dict) or not isinstance(entry.get("tenant"), str):
            raise ConfigError(f"seed file {path}: world {index} needs a tenant")
        body: dict[str, Any] = {key: value for key, value in entry.items() if key != "tenant"}
        issues = validator.issues("application/json", body)
        if issues:
            raise ConfigError(f"seed file {path}: world {index} is invalid at {issues[0].pointer}: {issues[0].detail}")
        state.worlds.seed(entry["tenant"], body)


def build_state(config: Config) -> AppState:
    contract = load_contract()
    try:
        faults = ActiveFaults.of(config.faults)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    parse_flags(",".join(config.feature_flags), contract.feature_flags)
    if config.data_dir is not None:
        try:
            config.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create data directory {config.data_dir}: {exc.strerror or exc}") from exc
    clients = ClientRegistry.load(config.clients_file, frozenset(contract.scopes))
    store = Store(config.data_dir)
    signing_key = SigningKey.load_or_create(config.data_dir)
    bus = EventBus()
    store.on_commit(bus.publish)
    codec = CursorCodec(signing_key.private_der)
    issuer = config.effective_issuer
    keyset = KeySet(issuer, signing_key, config.trusted_issuers)
    tokens = TokenService(store, signing_key, issuer, config.token_ttl, faults)
    worlds = WorldService(store, codec, faults)
    runtimes = RuntimeService(
        store,
        worlds,
        codec,
        faults,
        config.runtime_step_ms / 1000.0,
        transitions=contract.runtime_transitions,
        fail_from_pending=config.fail_from_pending,
    )
    orchestrator = Orchestrator(runtimes)
    return AppState(
        config=config,
        contract=contract,
        faults=faults,
        store=store,
        bus=bus,
        codec=codec,
        clients=clients,
        signing_key=signing_key,
        issuer=issuer,
        keyset=keyset,
        tokens=tokens,
        verifier=TokenVerifier(keyset, tokens, faults),
        worlds=worlds,
        runtimes=runtimes,
        orchestrator=orchestrator,
        metrics=Metrics(faults, __version__),
        tracing=Tracing(config.otlp_endpoint, faults, __version__, encoding=config.otlp_encoding),
        rate_limiter=RateLimiter(config.rate_limit) if config.rate_limit is not None else None,
        started_at=time.monotonic(),
        version=__version__,
    )


def create_app(config: Config) -> Phase2App:
    """One reference server; raises ConfigError for an invalid configuration."""
    state = build_state(config)
    if config.seed_file is not None:
        _load_seed(config.seed_file, state)
    stack: ASGIApp = ErrorMiddleware(Gateway(state, controls.ROUTES if config.test_controls else None))
    if state.faults.mutators:
        stack = FaultMiddleware(stack, state.faults)
    stack = TelemetryMiddleware(stack, state.metrics, state.tracing)
    return Phase2App(state, stack)
