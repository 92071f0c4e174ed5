"""The REST API under /api/v1/: thin views over the claims services and selectors."""
