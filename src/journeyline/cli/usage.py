"""How every journeyline command's help reads: sentences, not source lines, and a usage line
that names its arguments the way a shell user reads them (issue 17)."""

from __future__ import annotations

import inspect
from typing import Any

from typer.core import TyperCommand


def as_sentences(text: str | None) -> str | None:
    """The help with each paragraph on one line: a docstring's line breaks are where its source
    wrapped, which Typer's command lists and later paragraphs would otherwise print as is."""
    if text is None:
        return None
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


class Command(TyperCommand):
    """A Typer command whose help is whole sentences and whose usage line reads `FILE`, not
    Typer's `{path}` for a required argument."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = as_sentences(self.help)
        self.short_help = as_sentences(self.short_help)

    # `ctx` is Typer's vendored click Context, which it does not export.
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces
