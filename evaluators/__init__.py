"""Evaluators that produce fresh results (lighteval, inspect-ai). Built in a later issue."""

from __future__ import annotations

from bot.scores import Score

__all__ = ["Score"]
