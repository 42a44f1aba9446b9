"""The pytest modules a conformance run collects; the plugin provides their fixtures.

Run them with `phase2-conformance run`, or inside pytest with
`pytest --pyargs conformance.suite --phase2-base-url URL` (or `--phase2-reference`).
"""
