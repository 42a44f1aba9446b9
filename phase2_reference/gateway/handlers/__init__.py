"""Operation handlers, one module per tag of the contract; importing this package registers them."""

from __future__ import annotations

from phase2_reference.gateway.handlers import auth, engine, events, health, runtimes, worlds
from phase2_reference.gateway.handlers.registry import HANDLERS, Handler

__all__ = ["HANDLERS", "Handler", "auth", "engine", "events", "health", "runtimes", "worlds"]
