"""The simulated engine plugins a runtime can run a world on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Plugin:
    name: str
    version: str
    description: str
    capabilities: tuple[str, ...]
    max_entities: int

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "capabilities": list(self.capabilities),
            "max_entities": self.max_entities,
        }

    def refusal(self, world_settings: dict[str, Any]) -> str | None:
        """Why this plugin cannot run a world with these settings, or None when it can."""
        entities = int(world_settings.get("max_entities", 0))
        if entities > self.max_entities:
            return f"The world needs {entities} entities but plugin {self.name} supports at most {self.max_entities}."
        return None


PLUGINS: dict[str, Plugin] = {
    plugin.name: plugin
    for plugin in (
        Plugin(
            name="physics-sim",
            version="1.4.2",
            description="Rigid-body physics with deterministic replay.",
            capabilities=("physics", "collisions", "deterministic-replay"),
            max_entities=100_000,
        ),
        Plugin(
            name="agent-sim",
            version="0.9.0",
            description="Scripted agents on a grid.",
            capabilities=("agents", "scripting"),
            max_entities=10_000,
        ),
    )
}
