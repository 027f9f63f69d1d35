"""Structural rules: SQL only in the store, settings documented, no grab-bag module names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from journeyline.config import Settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "journeyline"


def python_files(under: Path) -> list[Path]:
    return sorted(under.rglob("*.py"))


def test_sql_is_built_only_in_the_store() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(PACKAGE)
        if "store" not in path.relative_to(PACKAGE).parts
        and re.search(r"(?<![.\w])(select|insert|update|delete)\(", path.read_text())
    ]
    assert offenders == []


def test_sqlalchemy_is_imported_only_in_the_store() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files(PACKAGE)
        if "store" not in path.relative_to(PACKAGE).parts
        and re.search(r"^\s*(from|import) sqlalchemy", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


# STYLE: a module is a noun for what it owns; a grab-bag word in its name says it owns nothing
# in particular (`utils.py`, `api/ingest_common.py`, `shared_state/`, `stringutils.py`).
GRAB_BAG_WORDS = frozenset(
    {
        "util",
        "utils",
        "utility",
        "utilities",
        "helper",
        "helpers",
        "common",
        "commons",
        "misc",
        "miscellaneous",
        "shared",
        "generic",
        "general",
        "stuff",
    }
)


def is_grab_bag(name: str) -> bool:
    """Whether a module's or package's name is, or has as one of its words (snake_case parts,
    or the tail of a run-together word), a grab-bag word."""
    return any(word.endswith(tuple(GRAB_BAG_WORDS)) for word in name.lower().split("_") if word)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("utils", True),
        ("helpers", True),
        ("common", True),
        ("misc", True),
        ("ingest_common", True),
        ("shared_state", True),
        ("string_utils", True),
        ("dbutils", True),
        ("general_purpose", True),
        ("payloads", False),
        ("identity_merges", False),
        ("communication", False),
        ("commonmark", False),
        ("__init__", False),
    ],
)
def test_a_grab_bag_name_is_recognised_by_its_words(name: str, expected: bool) -> None:
    assert is_grab_bag(name) is expected


def test_no_grab_bag_modules() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for under in (PACKAGE, ROOT / "tests", ROOT / "bench")
        for path in python_files(under)
        if any(is_grab_bag(part) for part in path.relative_to(ROOT).with_suffix("").parts)
    ]
    assert offenders == []


def _setting_names(model: type[BaseModel], prefix: str) -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _setting_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def test_env_example_lists_every_setting() -> None:
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert listed == _setting_names(Settings, "JOURNEYLINE_")


def test_the_api_error_and_warning_shapes_are_built_only_in_the_renderer() -> None:
    """ingest/wire.py renders them; everything else hands it the domain error or the warning
    record (the routes, the batch runner and the webhook service, whose stored errors are
    that same JSON)."""
    renderer = PACKAGE / "ingest" / "wire.py"
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("api", "ingest", "webhooks", "worker")
        for path in python_files(PACKAGE / package)
        if path != renderer
        # Every error and warning shape has a `code` key.
        and re.search(r"""["']code["']\s*:|\.to_dict\(""", path.read_text())
    ]
    assert offenders == []
