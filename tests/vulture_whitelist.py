"""What vulture cannot see being used in conformance/ and phase2_reference/ (tests/test_dead_code.py).

vulture reads this file as source: each `used.NAME` counts NAME as used everywhere, so every entry
says who uses it. Checks (`@check`), handlers (`@operation`), fixtures and pytest hooks
(`pytest_*`), and http.server's `do_GET`/`do_POST`/`log_message`/`server_version` are ignored
by the settings in pyproject.toml instead.
"""

# ruff: noqa: B018

from __future__ import annotations


class _Used:
    """Reading any attribute names it as used; vulture reads this file, nothing runs it."""

    def __getattr__(self, name: str) -> _Used:
        return self


used = _Used()

# Read by a library or the interpreter, never by our code.
used.__getattr__  # conformance/__init__.py: the module's lazy exports (PEP 562)
used.exitstatus  # conformance/plugin.py: pytest's session.exitstatus; the pytest_sessionfinish hook spec
used.excluded  # conformance/reporting/allure.py: allure-pytest's parameter.excluded
used.uid, used.gid, used.uname, used.gname  # conformance/reporting/bundle.py: tarfile.TarInfo
used.msg  # conformance/client/secrets.py: logging.LogRecord.msg; gateway/protocol.py: uvicorn's signature
used._content, used._content_consumed, used.is_stream_consumed, used.is_closed  # transport.py: httpx.Response
used.max_redirects  # conformance/client/transport.py: httpx.Client
used.handle_exit, used.force_exit  # phase2_reference/cli.py: uvicorn.Server, on SIGINT/SIGTERM
used.send_400_response  # phase2_reference/gateway/protocol.py: uvicorn's HttpToolsProtocol

# Parameters a caller passes (some by keyword), so they keep their names though unread.
used.frame  # signal handlers: conformance/runner/signals.py, phase2_reference/cli.py
used.trace  # phase2_reference/store/sqlite.py: Transaction.__exit__
used.timeout_millis  # phase2_reference/telemetry/otlp_json.py: SpanExporter.force_flush
used.additional_checks  # conformance/runner/st_tests.py: Schemathesis' validate_response

# Read only by the tests, on purpose.
used.running_server  # phase2_reference/testing/launcher.py: the launcher's API for tests
used.subscribers  # phase2_reference/bus/pubsub.py: tests prove stream waiters do not leak
used.exports  # conformance/peers/otlp_receiver.py: tests count the exports the receiver accepted
used.admitted  # conformance/client/rate_governor.py: tests see at the transport that every request was let out

# Read by nothing but the tests or by nothing at all: left for the owners of conformance/ to decide
# (other work edits these modules); each is named in the report of the branch that added this file.
used.methods_of  # conformance/contract/spec.py: read only by tests/conformance/contract/test_spec.py
used.tags  # conformance/contract/spec.py: Operation.tags, read only by tests/conformance/contract/test_spec.py
used.open_routes  # conformance/client/stall_breaker.py: read only by tests/conformance/client/test_stalls.py
used.settings_sources  # conformance/results.py: RunResult.settings_sources, set by outcome.py, read by nothing
used.exclusive_waiting  # conformance/runner/executor.py: read by tests/conformance/runner/test_executor.py
used.render_summary  # conformance/reporting/console.py: the final block as plain text, read by tests
used.__class__  # conformance/runner/check_transport.py: the schema takes the subclass whose transport is the run's
used.COMPOSED  # conformance/settings/loader.py: fields no schema row fills (tests/conformance/settings/)
used.rerun_failed  # conformance/settings/model.py: the report dir a rerun came from (read by tests)
