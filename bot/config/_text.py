"""Reading a small settings file (evalbot.yaml, .env) as text, with one-line errors (config layer)."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError

MAX_BYTES = 1_000_000  # a settings file is a few hundred lines; anything bigger is a mistake (or hostile)


def read_settings_text(path: Path, *, kind: str, size_hint: str, fix: str = "", encoding: str = "utf-8") -> str:
    """`path` decoded, reading at most `MAX_BYTES` + 1 bytes; a ConfigError in one line otherwise.

    `kind` names the file in messages ("config file"), `size_hint` says what a normal one is,
    `fix` is appended to an unreadable file's message ("; fix it or unset X").
    """
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"cannot read the {kind} {path}: {e.strerror or e}{fix}") from e
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB; {size_hint}")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from e
