"""The event bus layer: the event log written with each change, and the publish/subscribe wake-ups for streams."""
