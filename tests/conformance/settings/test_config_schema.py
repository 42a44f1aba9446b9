"""The config file's published schema: made from the settings table, and every key typed by it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.local_files import CONFIG
from conformance.settings.config_schema import config_schema
from conformance.settings.sources import config_file


def test_the_config_schema_file_is_the_settings_table() -> None:
    """Regenerate with `python -m conformance.settings.docs_tables` after changing conformance/settings/schema.py."""
    assert CONFIG.schema_path is not None
    assert json.loads(CONFIG.schema_path.read_text()) == config_schema()


def test_every_config_key_of_the_wrong_type_is_refused_naming_it(tmp_path: Path) -> None:
    keys = [key for key in config_schema()["properties"] if "_" not in key]
    for key in keys:
        path = tmp_path / f"{key}.toml"
        path.write_text(f'[{key}]\nnested = "a table where a value is"\n')
        with pytest.raises(ConfigError) as raised:
            config_file(path)
        assert f"'{key}'" in str(raised.value) or f"/{key}: " in str(raised.value), str(raised.value)
    assert len(keys) > 20


def test_a_toml_date_is_read_as_its_text_and_judged_by_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("seed = 2026-01-01\n")
    given = config_file(path)
    assert given["seed"].value == "2026-01-01"  # the integer parser then refuses it, naming the key
