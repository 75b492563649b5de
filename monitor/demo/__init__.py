"""The embedded demo: a deterministic simulator of the portals, its export files and a local portal API."""

from monitor.demo.simulator import PortalSimulator

__all__ = ["PortalSimulator"]
