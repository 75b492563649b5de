"""Fault-injection suite: each fault against a running `tthc-monitor run` subprocess (README.md here)."""
