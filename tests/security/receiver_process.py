"""The suite's receivers in a process of their own, so a test can measure what a hostile client costs them.

`python -m tests.security.receiver_process` starts the OTLP receiver and the test issuer on free
loopback ports with short deadlines, prints `{"otlp": PORT, "issuer": PORT}`, and on a line on
stdin (or its end) closes both and prints `{"peak_rss_mb": ..., "refusals": {...}, "closed": true}`.
"""

from __future__ import annotations

import json
import resource
import sys

from conformance.peers import loopback_server
from conformance.peers.otlp_receiver import OtlpReceiver
from conformance.peers.token_issuer import TestIssuer

# Short deadlines, so a test of slow clients needs seconds, not the production minute.
loopback_server.HEAD_SECONDS = 1.0
loopback_server.BODY_SECONDS = 2.0


def main() -> None:
    with OtlpReceiver(port=0) as receiver, TestIssuer(port=0) as issuer:
        print(json.dumps({"otlp": receiver.port, "issuer": issuer.port}), flush=True)
        sys.stdin.readline()
        refusals = receiver.refusals
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": peak, "refusals": refusals, "closed": True}), flush=True)


if __name__ == "__main__":
    main()
