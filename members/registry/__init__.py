"""The registry of works and of the grants members make to providers (issue #6)."""
