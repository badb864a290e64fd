"""The published JSON Schemas of the two document kinds, for editors and other tools."""

from __future__ import annotations

import json
from typing import Any, Literal

from journeylens.model.journey_map import JourneyMap
from journeylens.model.workspace import WorkspaceFile

SchemaKind = Literal["map", "workspace"]
_BASE = "https://journeylens.dev/schema/v1"


def json_schema(kind: SchemaKind = "map") -> dict[str, Any]:
    model = JourneyMap if kind == "map" else WorkspaceFile
    schema = model.model_json_schema(mode="validation")
    name = "journey-map" if kind == "map" else "workspace"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_BASE}/{name}.schema.json",
        **schema,
    }


def json_schema_text(kind: SchemaKind = "map") -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
