"""Fixtures shared by the integration modules (each defined next to its rig)."""

from tests.integration.zns_rig import start

__all__ = ["start"]
