"""The gateway layer: HTTP in and out. Middleware, routing, the request pipeline, auth, validation, handlers.

It reads the contract at start-up and hands validated calls to the orchestrator and the OAuth2
provider below it; nothing below imports it.
"""
