"""evalbot: trustworthy, structured evaluation results for Hugging Face model repos."""

from __future__ import annotations

from bot.errors import BotError
from bot.scores import Dataset, Metric, Score, Source, Task, Unit

__all__ = ["BotError", "Dataset", "Metric", "Score", "Source", "Task", "Unit"]
__version__ = "0.1.0"
