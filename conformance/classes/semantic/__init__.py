"""The semantic class: scenarios over data the run creates (worlds, pagination, runtimes, events, flags)."""
