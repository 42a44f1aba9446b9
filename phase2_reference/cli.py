"""`python -m phase2_reference serve`: runs the reference under uvicorn in the foreground.

The socket is bound here, before uvicorn starts, so `--port 0` can report the port it got: the
first stdout line is one JSON object (`{"event": "listening", "url": ..., "base_url": ...}`).
Bad arguments print one line on stderr and exit 2; SIGINT/SIGTERM shut down gracefully.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

import uvicorn

from phase2_reference.app import create_app
from phase2_reference.config import (
    DEFAULT_DATA_DIR,
    LOG_LEVELS,
    OTLP_ENCODINGS,
    Config,
    ConfigError,
    TrustedIssuer,
    default_clients_file,
    parse_flags,
)
from phase2_reference.gateway.contract import load_contract
from phase2_reference.gateway.protocol import ProblemHttpToolsProtocol
from phase2_reference.oauth.clients import ClientRegistry
from phase2_reference.oauth.keyset import TrustedIssuerKeys
from phase2_reference.telemetry.jsonlog import configure_logging, flush_access_log
from phase2_reference.testing.faults import REGISTRY

EXIT_USAGE = 2
EXIT_RUNTIME = 1
GRACEFUL_SHUTDOWN_SECONDS = 3


class _Server(uvicorn.Server):
    """uvicorn's server, exiting 0 after a graceful shutdown instead of re-raising the signal."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C stops waiting for open connections
        else:
            self.should_exit = True


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line instead of argparse's usage block.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="phase2_reference", description="The Phase 2 reference server.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve the Phase 2 API in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument("--data-dir", type=Path, help=f"SQLite and signing key (default {DEFAULT_DATA_DIR})")
    storage.add_argument("--in-memory", action="store_true", help="keep everything in memory")
    serve.add_argument("--flags", help="feature flags, comma separated (env PHASE2_FEATURE_FLAGS)")
    serve.add_argument("--clients", type=Path, help="clients.yaml (default fixtures/clients.yaml)")
    serve.add_argument("--seed", type=Path, help="seed.yaml with worlds to create at start")
    serve.add_argument("--issuer", help="token issuer (default: the server's own origin)")
    serve.add_argument(
        "--trust-issuer",
        action="append",
        default=[],
        metavar="ISSUER=JWKS_URL_OR_FILE",
        help="also accept tokens of this issuer (repeatable)",
    )
    serve.add_argument("--token-ttl", type=int, default=900, help="access token lifetime in seconds")
    serve.add_argument("--runtime-step-ms", type=int, default=100, help="time between runtime transitions")
    serve.add_argument("--rate-limit", type=float, help="requests per second per client")
    serve.add_argument("--log-level", choices=LOG_LEVELS, help="(env PHASE2_LOG_LEVEL, default info)")
    serve.add_argument("--test-controls", action="store_true", help="expose /_reference test controls")
    serve.add_argument(
        "--otlp-encoding",
        choices=OTLP_ENCODINGS,
        default="protobuf",
        help="OTLP/HTTP body of exported spans (default protobuf)",
    )
    serve.add_argument(
        "--fail-from-pending",
        action="store_true",
        help="a runtime that cannot start fails straight from pending (a path the contract allows)",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="break one rule on purpose (repeatable; test-only)",
    )
    return parser


def config_from_args(args: argparse.Namespace, port: int) -> Config:
    contract = load_contract()
    flags_text = args.flags if args.flags is not None else os.environ.get("PHASE2_FEATURE_FLAGS")
    unknown_faults = sorted(set(args.fault) - REGISTRY.keys())
    if unknown_faults:
        name = unknown_faults[0]
        close = difflib.get_close_matches(name, sorted(REGISTRY), n=1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(REGISTRY))}"
        raise ConfigError(f"unknown fault {name!r}; {hint}")
    log_level = args.log_level or os.environ.get("PHASE2_LOG_LEVEL", "info").lower()
    data_dir = None if args.in_memory else args.data_dir if args.data_dir is not None else DEFAULT_DATA_DIR
    return Config(
        host=args.host,
        port=port,
        data_dir=data_dir,
        feature_flags=parse_flags(flags_text, contract.feature_flags),
        seed_file=args.seed,
        issuer=args.issuer,
        trusted_issuers=tuple(TrustedIssuer.parse(spec) for spec in args.trust_issuer),
        token_ttl=args.token_ttl,
        runtime_step_ms=args.runtime_step_ms,
        rate_limit=args.rate_limit,
        log_level=log_level,
        test_controls=args.test_controls,
        faults=frozenset(args.fault),
        otlp_endpoint=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None,
        otlp_encoding=args.otlp_encoding,
        fail_from_pending=args.fail_from_pending,
        clients_file=args.clients if args.clients is not None else default_clients_file(),
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio enables TCP_NODELAY on accepted sockets only when the proto says
    # TCP, and without it a response written in two parts waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listen now: connections made before uvicorn starts wait in the backlog instead of failing.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace) -> int:
    # Validate everything that needs no socket first, so bad arguments never bind a port.
    checked = config_from_args(args, port=args.port)
    ClientRegistry.load(checked.clients_file, frozenset(load_contract().scopes))
    if checked.seed_file is not None and not checked.seed_file.is_file():
        raise ConfigError(f"cannot read seed file {checked.seed_file}")
    for trusted in checked.trusted_issuers:
        TrustedIssuerKeys(trusted)  # reads and checks a JWKS file now
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(
            f"phase2_reference: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    config = config_from_args(args, port=sock.getsockname()[1])
    configure_logging(config.log_level)
    app = create_app(config)
    # Everything built so far (contract, validators, keys) lives as long as the process; moving it
    # out of the collector's sight keeps each garbage collection short.
    gc.collect()
    gc.freeze()
    print(
        json.dumps({"event": "listening", "url": config.origin, "base_url": f"{config.origin}/v2"}),
        flush=True,
    )
    server = _Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            log_level=config.log_level,
            access_log=False,
            loop="uvloop",
            http=ProblemHttpToolsProtocol,
            server_header=False,
            proxy_headers=False,  # nothing sits in front of the reference; skip the extra middleware
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        flush_access_log()
        app.close()
        sock.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return serve(args)
    except ConfigError as exc:
        print(f"phase2_reference: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
