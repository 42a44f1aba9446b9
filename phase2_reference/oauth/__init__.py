"""The OAuth2 provider: registered clients, the signing key, trusted key sets, token issue and verification.

Its HTTP routes live in the gateway (`gateway/oauth_routes.py`, `gateway/handlers/auth.py`).
"""
