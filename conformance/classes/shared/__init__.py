"""What the scenario checks of several classes share: pagination walks, SSE, lifecycle, events,
resources, verdicts, outage windows. It registers no check."""
