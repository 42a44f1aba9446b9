"""The auth class: bearer tokens, scopes, the token endpoints and tenant isolation."""
