"""Views: being written."""
