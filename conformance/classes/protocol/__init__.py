"""The protocol class: cross-cutting rules on every response, and crafted requests and bodies."""
