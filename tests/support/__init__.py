"""Helpers shared by every test suite (tree and project builders)."""
