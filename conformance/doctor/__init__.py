"""`phase2-conformance doctor`: what an on-call engineer runs first against a deployment.

    findings.py      one Finding per line (✓/✗, the fix), rendering and the exit code
    settings_view.py each setting and where it came from, secrets masked
    network.py       DNS, TCP, TLS and certificate expiry, the base path, clock skew
    identity.py      provider metadata, tokens and claims, the test issuer, the extra clients
    service.py       readiness per component, metrics, feature flags, rate limits, spans
    coverage.py      which MUST requirements a full run would leave unverified
    command.py       the order of the items and the verdict

Exit codes: 0 a full run can verify every MUST requirement, 1 it cannot, 3 the target is unusable.
"""

from conformance.doctor.command import diagnose

__all__ = ["diagnose"]
