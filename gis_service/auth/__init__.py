"""Accounts, roles, area scopes, bearer tokens and browser sessions."""
