"""create_app: in-process use, lifespan, seed data and configuration errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from phase2_reference.app import create_app
from phase2_reference.config import ConfigError
from tests.phase2_reference.conftest import CLIENTS, REPO, trusting_config


def test_in_process_without_lifespan_starts_the_orchestrator_on_demand() -> None:
    async def main() -> tuple[str, bool]:
        app = create_app(trusting_config(seed_file=REPO / "fixtures" / "seed.yaml"))
        assert not app.state.orchestrator.alive
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
                client_id, secret = CLIENTS["b"]
                login = await http.post("/v2/auth/login", json={"client_id": client_id, "client_secret": secret})
                bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
                worlds = (await http.get("/v2/worlds", headers=bearer)).json()["items"]
                assert [world["name"] for world in worlds] == ["seed-tenant-b-world"]
                runtime = await http.post(
                    "/v2/runtimes", headers=bearer, json={"world_id": worlds[0]["id"], "plugin": "agent-sim"}
                )
                for _ in range(100):
                    status = (await http.get(f"/v2/runtimes/{runtime.json()['id']}", headers=bearer)).json()["status"]
                    if status == "running":
                        break
                    await asyncio.sleep(0.01)
                return status, app.state.orchestrator.alive
        finally:
            await app.shutdown()
            app.close()

    assert asyncio.run(main()) == ("running", True)


def test_lifespan_starts_and_stops_background_work() -> None:
    async def main() -> None:
        app = create_app(trusting_config())
        messages = asyncio.Queue[dict[str, str]]()
        sent: list[str] = []
        await messages.put({"type": "lifespan.startup"})
        await messages.put({"type": "lifespan.shutdown"})

        async def send(message: dict[str, str]) -> None:
            sent.append(message["type"])
            if message["type"] == "lifespan.startup.complete":
                assert app.state.orchestrator.alive

        await app({"type": "lifespan"}, messages.get, send)  # type: ignore[arg-type]
        assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
        assert not app.state.orchestrator.alive
        assert app.state.bus.closed
        app.close()

    asyncio.run(main())


def test_seeding_is_idempotent(tmp_path: Path) -> None:
    seed = REPO / "fixtures" / "seed.yaml"
    for _ in range(2):
        app = create_app(trusting_config(data_dir=tmp_path, seed_file=seed))
        count = app.state.store.connection.execute("SELECT COUNT(*) FROM worlds").fetchone()[0]
        app.close()
        assert count == 3


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("worlds: [{name: x}]", "needs a tenant"),
        ("worlds: [{tenant: t, name: 'bad name!'}]", "is invalid at /name"),
        ("worlds: 3", "no `worlds:` list"),
        ("worlds: [", "not valid YAML"),
    ],
)
def test_bad_seed_files(tmp_path: Path, seed: str, message: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(seed)
    with pytest.raises(ConfigError, match=message):
        create_app(trusting_config(seed_file=path))


def test_bad_configuration(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown fault"):
        create_app(trusting_config(faults=frozenset({"nope"})))
    with pytest.raises(ConfigError, match="unknown feature flag"):
        create_app(trusting_config(feature_flags=frozenset({"beta"})))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot create data directory"):
        create_app(trusting_config(data_dir=blocker / "sub"))
