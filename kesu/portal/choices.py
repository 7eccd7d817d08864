"""Codes the portal stores (labels are what residents see)."""

from kesu.complaints.choices import PreferredContact

__all__ = ["PreferredContact"]  # one list, shared with staff intake
