"""Steward: a model registry that governs ML models through Git, DVC and pull requests."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
