"""Request bodies documented inline in the OpenAPI (the routes read their bodies themselves, so
FastAPI cannot document them): a pydantic model's JSON schema with its `$defs` inlined, since a
`#/$defs/…` reference inside an OpenAPI document points at the document's root, where nothing
is (and a client or a fuzzer generated from the document cannot build the body)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DEFS_PREFIX = "#/$defs/"


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema, self-contained: no `$defs`, no `$ref`."""
    return inline_defs(model.model_json_schema())


def inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    stripped = _strip_defs(schema, definitions)
    resolved: dict[str, Any] = _resolve(stripped, definitions, ())
    return resolved


def _strip_defs(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        for name, definition in node.get("$defs", {}).items():
            definitions[name] = _strip_defs(definition, definitions)
        return {
            key: _strip_defs(value, definitions) for key, value in node.items() if key != "$defs"
        }
    if isinstance(node, list):
        return [_strip_defs(item, definitions) for item in node]
    return node


def _resolve(node: Any, definitions: dict[str, Any], within: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, definitions, within) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith(DEFS_PREFIX):
        name = reference.removeprefix(DEFS_PREFIX)
        rest = {key: value for key, value in node.items() if key != "$ref"}
        if name in within:
            # A recursive model: documented as an object one level down.
            return {"type": "object", **rest}
        target = _resolve(definitions[name], definitions, (*within, name))
        return {**target, **_resolve(rest, definitions, within)}
    return {key: _resolve(value, definitions, within) for key, value in node.items()}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of this schema."""
    return {
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}}
    }
