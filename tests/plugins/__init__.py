"""Plug-ins defined only for the tests: registered through entry points (tests/test_plugins.py)."""
