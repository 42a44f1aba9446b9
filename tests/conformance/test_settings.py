from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.contract.catalog import Level
from conformance.errors import ConfigError, ExitCode
from conformance.profiles import DEFAULT_SEED, PROFILES
from conformance.settings import SCHEMA, SETTING_NAMES, Secret, load_settings
from conformance.settings.schema import BY_NAME, Face, Setting

REFERENCE = {"PHASE2_REFERENCE": "1"}
TARGET_ENV = {
    "PHASE2_BASE_URL": "https://api.example/v2",
    "PHASE2_CLIENT_ID": "ci",
    "PHASE2_CLIENT_SECRET": "s3cr3t-value",
}


def test_without_a_target_the_run_refuses_with_the_fix() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({}, env={})
    assert str(raised.value) == (
        "no target: give --base-url URL or PHASE2_BASE_URL, or --reference to test the embedded reference server"
    )


def test_a_mistyped_base_url_variable_is_named_not_replaced_by_the_reference() -> None:
    with pytest.raises(ConfigError, match=r"PHASE2_BASEURL; did you mean PHASE2_BASE_URL\?"):
        load_settings({}, env={"PHASE2_BASEURL": "https://api.example/v2"})
    settings = load_settings({}, env={**TARGET_ENV, "PHASE2_SEDE": "3"})
    assert settings.warnings == ("ignoring unknown environment variable PHASE2_SEDE; did you mean PHASE2_SEED?",)


@pytest.mark.parametrize(
    ("cli", "env"),
    [({"reference": True}, {}), ({}, REFERENCE), ({"config": "REFERENCE_TOML"}, {})],
    ids=["flag", "environment", "config file"],
)
def test_the_reference_runs_only_when_asked_in_any_spelling(
    cli: dict[str, object], env: dict[str, str], tmp_path: Path
) -> None:
    if cli.get("config") == "REFERENCE_TOML":
        config = tmp_path / "run.toml"
        config.write_text("reference = true\n")
        cli = {"config": str(config)}
    settings = load_settings(cli, env=env)
    assert settings.reference
    assert settings.base_url is None
    assert {i.role for i in settings.identities} == {"primary", "other-tenant", "read-only"}
    assert settings.profile is PROFILES["standard"]
    assert settings.seed == DEFAULT_SEED
    assert settings.test_issuer_trusted and settings.reference_controls


def test_environment_names_the_target() -> None:
    settings = load_settings({}, env=TARGET_ENV)
    assert not settings.reference
    assert settings.base_url == "https://api.example/v2"
    assert settings.primary.client_id == "ci"
    assert settings.primary.client_secret.reveal() == "s3cr3t-value"
    assert not settings.test_issuer_trusted
    assert settings.identity("other-tenant") is None


def test_cli_beats_environment_beats_file(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('profile = "nightly"\nseed = 7\nlog-level = "info"\nfeature-flags = ["engine-v2"]\n')
    settings = load_settings({"config": str(config), "seed": 9}, env={**TARGET_ENV, "PHASE2_PROFILE": "quick"})
    assert settings.seed == 9  # CLI
    assert settings.profile.name == "quick"  # environment over file
    assert settings.log_level == "info"  # file
    assert settings.feature_flags == frozenset({"engine-v2"})
    assert settings.sources["seed"] == "the command line"
    assert settings.sources["profile"] == "environment PHASE2_PROFILE"


def test_a_bare_origin_means_the_contract_server_path() -> None:
    settings = load_settings(
        {"base_url": "http://localhost:8080/"},
        env={k: v for k, v in TARGET_ENV.items() if k != "PHASE2_BASE_URL"},
    )
    assert settings.base_url == "http://localhost:8080/v2"


def test_cli_reference_overrides_environment_base_url() -> None:
    assert load_settings({"reference": True}, env=TARGET_ENV).reference


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({"profile": "deep"}, REFERENCE, "unknown profile 'deep'"),
        ({"base_url": "ftp://host"}, TARGET_ENV, "must be an http(s) URL"),
        ({"base_url": "http://host:99999/v2"}, TARGET_ENV, "invalid port"),
        ({}, {"PHASE2_BASE_URL": "https://api.example/v2"}, "missing credentials"),
        ({}, {**TARGET_ENV, "PHASE2_CLIENT_SECRET": ""}, "missing credentials"),
        ({"feature_flags": "world-preview,time-travel"}, REFERENCE, "unknown feature flag 'time-travel'"),
        ({"classes": "contract,magic"}, REFERENCE, "unknown conformance class 'magic'"),
        ({"tls_cert_path": "/nonexistent/cert.pem"}, REFERENCE, "not a readable file"),
        ({"seed": "abc"}, REFERENCE, "must be an integer"),
        ({"fail_on": "never"}, REFERENCE, "must be must or should"),
        ({"log_level": "loud"}, REFERENCE, "--log-level must be one of"),
        ({"reference": True, "base_url": "http://x/v2"}, {}, "either --reference or --base-url"),
        ({"reference_faults": "accept-expired"}, TARGET_ENV, "embedded reference only"),
        ({"time_budget": 0}, REFERENCE, "at least 1"),
        ({"max_rate": "fast"}, REFERENCE, "--max-rate must be a number"),
        ({"max_rate": 0}, REFERENCE, "at least 0.1"),
        ({"outage_start": "docker stop db"}, TARGET_ENV, "give both --outage-start and --outage-end"),
        (
            {},
            {**TARGET_ENV, "PHASE2_OUTAGE_END": "docker start db"},
            "PHASE2_OUTAGE_END needs its pair: give both PHASE2_OUTAGE_START and PHASE2_OUTAGE_END",
        ),
        ({"outage_start": " ", "outage_end": "x"}, TARGET_ENV, "must be a non-empty shell command"),
        ({"reference_options": "--rate-limit=5"}, TARGET_ENV, "embedded reference only"),
    ],
)
def test_bad_settings_raise_one_config_error(cli: dict[str, object], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(cli, env=env)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code is ExitCode.USAGE


def test_an_unusable_client_certificate_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "client.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="not a usable client certificate"):
        load_settings({"tls_cert_path": str(bogus)}, env=REFERENCE)


def test_config_file_rejects_unknown_keys_and_bad_toml(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({"config": str(unknown)}, env=REFERENCE)
    broken = tmp_path / "broken.toml"
    broken.write_text("profile = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"config": str(broken)}, env=REFERENCE)


def test_secrets_never_show_themselves() -> None:
    settings = load_settings({}, env=TARGET_ENV)
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" not in str(Secret("s3cr3t-value"))
    assert settings.secrets() == ("s3cr3t-value",)


def test_settings_are_immutable() -> None:
    settings = load_settings({}, env=REFERENCE)
    with pytest.raises(AttributeError):
        settings.seed = 1  # type: ignore[misc]


def test_fail_on_should() -> None:
    assert load_settings({"fail_on": "should"}, env=REFERENCE).fail_on is Level.SHOULD


def test_nightly_without_seed_draws_a_random_one() -> None:
    seeds = {load_settings({"profile": "nightly"}, env=REFERENCE).seed for _ in range(3)}
    assert len(seeds) > 1


def _config(tmp_path: Path, text: str) -> dict[str, object]:
    """Command-line values naming a config file of `text`, for settings only the file can give."""
    path = tmp_path / f"config-{abs(hash(text))}.toml"
    path.write_text(text)
    return {"config": str(path)}


def _bad_values(tmp_path: Path) -> dict[str, tuple[dict[str, object], dict[str, str], str]]:
    """One wrong value per setting of the schema, and the words its one-line error must hold."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    no_summary = tmp_path / "no-summary"
    no_summary.mkdir()
    only_id = {"PHASE2_BASE_URL": "https://api.example/v2", "PHASE2_CLIENT_ID": "ci"}
    return {
        "base_url": ({"base_url": "ftp://host"}, TARGET_ENV, "--base-url must be an http(s) URL"),
        "reference": ({"reference": "maybe"}, {}, "--reference must be true or false"),
        "auth_provider": ({"auth_provider": "not a url"}, TARGET_ENV, "--auth-provider must be an http(s) URL"),
        "client_id": ({}, only_id, "the primary client's secret is not set (PHASE2_CLIENT_SECRET or config key"),
        "client_secret": (
            {},
            {"PHASE2_BASE_URL": "https://x/v2", "PHASE2_CLIENT_SECRET": "s"},
            "the primary client's id is not set (--client-id or PHASE2_CLIENT_ID or config key 'client-id')",
        ),
        "other_tenant_client_id": (
            {},
            {**TARGET_ENV, "PHASE2_OTHER_TENANT_CLIENT_ID": "b"},
            "PHASE2_OTHER_TENANT_CLIENT_SECRET",
        ),
        "other_tenant_client_secret": (
            _config(tmp_path, 'other-tenant-client-secret = "b"\n'),
            TARGET_ENV,
            "PHASE2_OTHER_TENANT_CLIENT_ID",
        ),
        "read_only_client_id": (
            {},
            {**TARGET_ENV, "PHASE2_READ_ONLY_CLIENT_ID": "r"},
            "PHASE2_READ_ONLY_CLIENT_SECRET",
        ),
        "read_only_client_secret": (
            {},
            {**TARGET_ENV, "PHASE2_READ_ONLY_CLIENT_SECRET": "r"},
            "PHASE2_READ_ONLY_CLIENT_ID",
        ),
        "log_level": ({"log_level": "loud"}, REFERENCE, "--log-level must be one of"),
        "tls_cert_path": ({"tls_cert_path": str(tmp_path / "none.pem")}, REFERENCE, "--tls-cert is not a readable"),
        "tls_key_path": ({"tls_key_path": str(tmp_path / "none.key")}, REFERENCE, "--tls-key is not a readable file"),
        "tls_ca_path": ({"tls_ca_path": str(tmp_path / "none.ca")}, REFERENCE, "--tls-ca is not a readable file"),
        "feature_flags": ({"feature_flags": "world-previw"}, REFERENCE, "from --flags; did you mean world-preview?"),
        "profile": ({"profile": "deep"}, REFERENCE, "unknown profile 'deep' from --profile"),
        "seed": ({"seed": "abc"}, REFERENCE, "--seed must be an integer"),
        "classes": ({"classes": "contrct"}, REFERENCE, "from --classes; did you mean contract?"),
        "requirements": (
            {"requirements": "P2-XXX-999"},
            REFERENCE,
            "unknown requirement 'P2-XXX-999' from --requirement",
        ),
        "operations": ({"operations": "listWorld"}, REFERENCE, "from --operation; did you mean listWorlds?"),
        "time_budget": ({"time_budget": "nan"}, REFERENCE, "--time-budget must be a finite number"),
        "request_timeout": ({"request_timeout": 0}, REFERENCE, "--request-timeout must be at least 0.1"),
        "max_examples": ({"max_examples": 0}, REFERENCE, "--max-examples must be at least 1"),
        "workers": ({"workers": 0}, REFERENCE, "--workers must be at least 1"),
        "shard": ({"shard": "4/3"}, REFERENCE, "from --shard must be I/N with 1 <= I <= N"),
        "report_dir": ({"report_dir": str(a_file)}, REFERENCE, "--report-dir is not a directory"),
        "history_dir": ({"history_dir": str(a_file / "sub")}, REFERENCE, "--history-dir cannot be created"),
        "fail_on": ({"fail_on": "never"}, REFERENCE, "--fail-on must be must or should"),
        "require_all": ({"require_all": "maybe"}, REFERENCE, "--require-all must be true or false"),
        "waivers": ({"waivers": str(tmp_path / "none.yaml")}, REFERENCE, "--waivers is not a readable file"),
        "rerun_failed": ({"rerun_failed": str(no_summary)}, REFERENCE, "--rerun-failed is not a readable file"),
        "test_issuer_trusted": ({"test_issuer_trusted": "maybe"}, REFERENCE, "--test-issuer-trusted must be true"),
        "test_issuer_port": ({"test_issuer_port": 70000}, REFERENCE, "--test-issuer-port must be at most 65535"),
        "otlp_receiver_port": ({"otlp_receiver_port": -1}, REFERENCE, "--otlp-receiver-port must be at least 0"),
        "callback_host": ({"callback_host": "http://me:1"}, REFERENCE, "--callback-host must be a host name"),
        "check_modules": ({"check_modules": "my checks"}, REFERENCE, "--checks-module: 'my checks' is not a module"),
        "liveness_budget_ms": ({"liveness_budget_ms": 0}, REFERENCE, "--liveness-budget-ms must be at least 1"),
        "reference_faults": (
            {"reference_faults": "accept-expired"},
            TARGET_ENV,
            "--reference-fault applies to the embedded reference only; drop PHASE2_BASE_URL",
        ),
        "reference_controls": (
            _config(tmp_path, 'reference-controls = "maybe"\n'),
            REFERENCE,
            "config key 'reference-controls' in",
        ),
        "config": ({"config": str(tmp_path / "none.toml")}, REFERENCE, "--config is not a readable file"),
        "max_rate": ({"max_rate": "fast"}, REFERENCE, "--max-rate must be a number"),
        "outage_start": ({"outage_start": "docker stop db"}, TARGET_ENV, "give both --outage-start and --outage-end"),
        "outage_end": ({"outage_start": "x", "outage_end": " "}, TARGET_ENV, "--outage-end must be a non-empty shell"),
        "reference_options": ({"reference_options": "--rate-limit=5"}, TARGET_ENV, "embedded reference only"),
        "trust_token_origins": (
            {"trust_token_origins": "https://idp.example/tok"},
            TARGET_ENV,
            "--trust-token-origin must be an origin",
        ),
    }


def test_every_setting_is_validated_before_the_run(tmp_path: Path) -> None:
    """Walks every setting of the schema: each wrong value is one ConfigError line, raised while settings are built."""
    cases = _bad_values(tmp_path)
    assert set(cases) == set(SETTING_NAMES) == {setting.name for setting in SCHEMA}, "a new setting needs its case"
    for name, (cli, env, message) in cases.items():
        with pytest.raises(ConfigError) as raised:
            load_settings(cli, env=env)
        assert message in str(raised.value), (name, str(raised.value))
        assert "\n" not in str(raised.value)


def _spelled(
    setting: Setting, spelling: str, value: object, tmp_path: Path
) -> tuple[dict[str, object], dict[str, str]]:
    """CLI values and environment giving `setting` = `value` in `spelling`; TOML takes it as a string or number."""
    if spelling == "flag":
        return {setting.name: value}, {}
    if spelling == "variable":
        return {}, {str(setting.env): str(value)}
    literal = json.dumps(value)
    return _config(tmp_path, f"{setting.key} = {literal}\n"), {}


def test_every_error_names_the_spelling_the_user_typed_never_the_field(tmp_path: Path) -> None:
    """Each wrong value of the walk above, given as a flag, a variable and a config key: the error names that."""
    checked = 0
    for name, (cli, env, _) in _bad_values(tmp_path).items():
        setting = BY_NAME[name]
        if set(cli) != {name} or name == "config":
            continue  # a rule between settings, or a value only a file can give: walked above
        base = {k: v for k, v in env.items() if k != setting.env}
        ways = {"flag": setting.option(Face.CLI), "variable": setting.env, "config key": setting.key}
        for spelling, word in ways.items():
            if word is None:
                continue
            given, more_env = _spelled(setting, spelling, cli[name], tmp_path)
            with pytest.raises(ConfigError) as raised:
                load_settings(given, env={**base, **more_env})
            message = str(raised.value)
            expected = f"config key {word!r}" if spelling == "config key" else word
            assert expected in message, (name, spelling, message)
            if "_" in name:
                assert name not in message, (name, spelling, message)
            checked += 1
    assert checked > 80  # most settings, each in two or three spellings


def test_unknown_config_keys_are_refused_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('base-ur = "https://api.example/v2"\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'base-ur'; did you mean base-url\?"):
        load_settings({"config": str(config)}, env=TARGET_ENV)


def test_directories_are_checked_up_front_not_after_the_run(tmp_path: Path) -> None:
    settings = load_settings(
        {"report_dir": str(tmp_path / "new" / "report"), "history_dir": str(tmp_path / "history")}, env=REFERENCE
    )
    assert settings.report_dir == tmp_path / "new" / "report"
    assert not settings.report_dir.exists()  # checked, not created: building settings writes nothing
    summary = tmp_path / "earlier"
    summary.mkdir()
    (summary / "summary.json").write_text("{}")
    assert load_settings({"rerun_failed": str(summary)}, env=REFERENCE).rerun_failed == summary


def test_require_all_in_every_spelling(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text("require-all = true\n")
    assert not load_settings({}, env=REFERENCE).require_all
    assert load_settings({"require_all": True}, env=REFERENCE).require_all
    assert load_settings({}, env={**REFERENCE, "PHASE2_REQUIRE_ALL": "1"}).require_all
    assert load_settings({"config": str(config)}, env=REFERENCE).require_all


def test_the_command_line_target_beats_the_environments_reference() -> None:
    settings = load_settings({"base_url": "https://cli.example/v2"}, env={**TARGET_ENV, **REFERENCE})
    assert not settings.reference
    assert settings.base_url == "https://cli.example/v2"


def test_workers_default_to_one_on_loopback_and_eight_for_a_remote_target(tmp_path: Path) -> None:
    """A loopback target answers in microseconds (threads only add contention); a remote one waits on round trips."""
    from conformance.settings import LOOPBACK_WORKERS, REMOTE_WORKERS

    credentials = {"PHASE2_CLIENT_ID": "suite", "PHASE2_CLIENT_SECRET": "s3cret-value"}

    def workers(**values: object) -> int:
        return load_settings({"report_dir": str(tmp_path), **values}, env=credentials).workers

    assert workers(reference=True) == LOOPBACK_WORKERS == 1
    assert workers(base_url="http://127.0.0.1:8000/v2") == 1
    assert workers(base_url="http://localhost:8000/v2") == 1
    assert workers(base_url="http://[::1]:8000/v2") == 1
    assert workers(base_url="https://staging.example.com/v2") == REMOTE_WORKERS == 8
    assert workers(base_url="https://staging.example.com/v2", workers="3") == 3
    assert load_settings({"report_dir": str(tmp_path), "reference": True}, env={"PHASE2_WORKERS": "5"}).workers == 5
    with pytest.raises(ConfigError, match="--workers must be at most 64"):
        load_settings({"report_dir": str(tmp_path), "reference": True, "workers": 65}, env={})


def test_rate_and_outage_settings_come_from_every_source(tmp_path: Path) -> None:
    config = tmp_path / "phase2.toml"
    config.write_text('outage_start = "docker stop db"\noutage_end = "docker start db"\n')
    settings = load_settings({"config": str(config)}, env={**TARGET_ENV, "PHASE2_MAX_RATE": "12.5"})
    assert settings.max_rate == 12.5
    assert (settings.outage_start, settings.outage_end) == ("docker stop db", "docker start db")
    assert load_settings({}, env=TARGET_ENV).max_rate is None


def test_a_secret_never_comes_from_a_command_line() -> None:
    """A command line is seen by `ps` and kept in shell histories: the schema gives secrets no flag."""
    with pytest.raises(ConfigError, match="unknown setting 'client_secret' for the"):
        load_settings({"client_secret": "s3cr3t-value"}, env=TARGET_ENV)


def test_the_pytest_face_names_its_own_options() -> None:
    with pytest.raises(ConfigError, match=r"^--phase2-time-budget must be at least 1, got 0$"):
        load_settings({"time_budget": 0}, env=REFERENCE, face=Face.PYTEST)
    with pytest.raises(ConfigError, match="from --phase2-requirements; did you mean P2-HLT-001"):
        load_settings({"requirements": ["P2-HLT001"]}, env=REFERENCE, face=Face.PYTEST)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workers = true\n", "config key 'workers' in {config} must be an integer, got True"),
        ("workers = 2.5\n", "config key 'workers' in {config} must be an integer, got 2.5"),
        ("seed = [1]\n", "config key 'seed' in {config} must be an integer, got [1]"),
        ('callback-host = ["10.0.0.1"]\n', "config key 'callback-host' in {config} must be a string"),
        ("classes = 5.0\n", "config key 'classes' in {config} must be a list, got 5.0"),
        ("time-budget = 60\ntime_budget = 90\n", "config file {config} sets 'time-budget' twice"),
    ],
)
def test_config_values_of_the_wrong_type_are_refused_not_coerced(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "run.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings({"config": str(config)}, env=REFERENCE)
    assert message.format(config=config) in str(raised.value)


def test_a_whole_number_is_an_integer_in_any_spelling(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text("seed = 3.0\nworkers = 2\n")
    settings = load_settings({"config": str(config)}, env=REFERENCE)
    assert (settings.seed, settings.workers) == (3, 2)


def test_a_hostile_config_file_is_bounded(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# padding\n" * 110_000)  # over 1 MiB
    with pytest.raises(ConfigError, match="over the limit of 1048576"):
        load_settings({"config": str(huge)}, env=REFERENCE)
    long_value = tmp_path / "long.toml"
    long_value.write_text(f'profile = "{"x" * 100_000}"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings({"config": str(long_value)}, env=REFERENCE)
    assert "unknown profile" in str(raised.value) and len(str(raised.value)) < 500


def test_a_fifo_named_as_the_config_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the run would hang before it starts.
    fifo = tmp_path / "run.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="--config is not a readable file"):
        load_settings({"config": str(fifo)}, env=REFERENCE)
