"""Signed webhooks: organisations register endpoints and receive the case events they may see."""
