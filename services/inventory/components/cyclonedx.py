"""A CycloneDX (1.4 – 1.7) JSON BOM parser for the inventory: pure, bounded, and strict.

:func:`parse_bom` takes the raw bytes of a request and either returns a :class:`ParsedBom` or
raises :class:`BomError` (or a subclass) — nothing else, whatever the input. It does no I/O.
Limits keep hostile input cheap to refuse: size, nesting depth, component count, string lengths.

What the versions change for the fields read here: 1.4 components have no ``modelCard``/``data``
and no ``machine-learning-model``/``data`` types (1.5 added them); 1.6 added ``manufacturer``,
``authors`` and ``tags`` on components; 1.7 added ``versionRange`` and ``isExternal`` (an
external component may carry a range instead of a ``version``) and ``patentAssertions``. Every
field is read whatever ``specVersion`` says, and fields this parser does not know are ignored,
so a BOM valid against its own schema imports.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from services.inventory.components.errors import (
    BomError,
    BomNotJson,
    BomTooLarge,
    UnsupportedSpecVersion,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_COMPONENTS = 10_000
MAX_DEPENDENCIES = 100_000
MAX_NAME = 200
MAX_TEXT = 10_000
MAX_REF = 1_000
SPEC_VERSIONS = ("1.4", "1.5", "1.6", "1.7")
MODEL_CARD_KEYS = ("modelParameters", "quantitativeAnalysis", "considerations", "properties")
# Fields kept verbatim in ``properties`` so nothing an auditor may ask for is lost.
KEPT_FIELDS = (
    "type",
    "group",
    "purl",
    "cpe",
    "licenses",
    "hashes",
    "externalReferences",
    "tags",
    "versionRange",
    "isExternal",
)
# PostgreSQL stores neither NUL nor lone surrogates in text or jsonb: refuse them up front.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class BomComponent:
    bom_ref: str
    kind: str  # model | dataset | software
    name: str
    version: str | None
    description: str
    vendor: str | None
    model_card: dict[str, Any] | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class ParsedBom:
    spec_version: str
    components: list[BomComponent]
    # (dependent bom-ref, dependency bom-ref); both name components of ``components``.
    dependencies: list[tuple[str, str]] = field(default_factory=list)


def _check_values(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, and strings (keys included) or numbers the
    database cannot store, iteratively (no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _UNSTORABLE.search(node):
                raise BomError(
                    "The BOM contains a NUL character (\\u0000) or an unpaired surrogate."
                )
            continue
        if isinstance(node, float):
            if not math.isfinite(node):
                raise BomError("The BOM contains a number that is not finite.")
            continue
        if isinstance(node, dict):
            children: list[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise BomError(f"The BOM nests deeper than {MAX_DEPTH} levels.")
        stack.extend((child, depth + 1) for child in children)


def _text(obj: dict[str, Any], key: str, where: str, *, limit: int, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise BomError(f"{where}: `{key}` is required.")
        return ""
    if not isinstance(value, str):
        raise BomError(f"{where}: `{key}` must be a string.")
    value = value.strip()
    if required and not value:
        raise BomError(f"{where}: `{key}` must not be empty.")
    if len(value) > limit:
        raise BomError(f"{where}: `{key}` is longer than {limit} characters.")
    return value


def _party_name(component: dict[str, Any], where: str) -> str | None:
    for key in ("supplier", "manufacturer", "manufacture"):
        party = component.get(key)
        if party is None:
            continue
        if not isinstance(party, dict):
            raise BomError(f"{where}: `{key}` must be an object.")
        name = _text(party, "name", f"{where}.{key}", limit=MAX_NAME)
        if name:
            return name
    return None


def _kind(component_type: str) -> str:
    if component_type == "machine-learning-model":
        return "model"
    if component_type == "data":
        return "dataset"
    return "software"


def _component(raw: Any, where: str) -> BomComponent:
    if not isinstance(raw, dict):
        raise BomError(f"{where} must be an object.")
    component_type = _text(raw, "type", where, limit=100, required=True)
    name = _text(raw, "name", where, limit=MAX_NAME, required=True)
    version = _text(raw, "version", where, limit=MAX_NAME) or None
    group = _text(raw, "group", where, limit=MAX_NAME)
    bom_ref = _text(raw, "bom-ref", where, limit=MAX_REF)
    if not bom_ref:
        # bom-ref is optional in CycloneDX; without one, the identity is what the BOM says
        # the component is, so a re-import still finds it.
        purl = raw.get("purl")
        bom_ref = (
            purl
            if isinstance(purl, str) and 0 < len(purl) <= MAX_REF
            else (f"{component_type}:{group}/{name}@{version or ''}")[:MAX_REF]
        )
    model_card: dict[str, Any] | None = None
    card = raw.get("modelCard")
    if card is not None:
        if not isinstance(card, dict):
            raise BomError(f"{where}: `modelCard` must be an object.")
        model_card = {k: card[k] for k in MODEL_CARD_KEYS if k in card}
    properties: dict[str, Any] = {k: raw[k] for k in KEPT_FIELDS if k in raw}
    props = raw.get("properties")
    if props is not None:
        if not isinstance(props, list):
            raise BomError(f"{where}: `properties` must be an array.")
        properties["properties"] = props
    return BomComponent(
        bom_ref=bom_ref,
        kind=_kind(component_type),
        name=name,
        version=version,
        description=_text(raw, "description", where, limit=MAX_TEXT),
        vendor=_party_name(raw, where),
        model_card=model_card,
        properties=properties,
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _load(data: bytes) -> Any:
    if len(data) > MAX_BYTES:
        raise BomTooLarge(f"The BOM is larger than {MAX_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BomNotJson("The BOM is not UTF-8 text.") from exc
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise BomError(f"The BOM nests deeper than {MAX_DEPTH} levels.") from exc
    except ValueError as exc:
        raise BomNotJson(f"The BOM is not valid JSON: {str(exc)[:200]}") from exc


def parse_bom(data: bytes) -> ParsedBom:
    """The components and dependencies of a CycloneDX JSON BOM; raises :class:`BomError`."""
    document = _load(data)
    _check_values(document)
    if not isinstance(document, dict):
        raise BomError("The BOM must be a JSON object.")
    if document.get("bomFormat") != "CycloneDX":
        raise BomError("`bomFormat` must be `CycloneDX`.")
    spec_version = document.get("specVersion")
    if not isinstance(spec_version, str) or spec_version not in SPEC_VERSIONS:
        raise UnsupportedSpecVersion(
            f"CycloneDX `specVersion` {str(spec_version)[:20]!r} is not supported; "
            f"supported: {', '.join(SPEC_VERSIONS)} (as a string).",
            supported=list(SPEC_VERSIONS),
        )

    root_ref: str | None = None
    metadata = document.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise BomError("`metadata` must be an object.")
        subject = metadata.get("component")
        if isinstance(subject, dict):
            ref = subject.get("bom-ref")
            root_ref = ref if isinstance(ref, str) else None

    raw_components = document.get("components", [])
    if not isinstance(raw_components, list):
        raise BomError("`components` must be an array.")
    components: list[BomComponent] = []
    edges: list[tuple[str, str]] = []
    seen: set[str] = set()
    # Nested ``components`` are parts of their parent: flattened, with parent → part edges.
    pending: list[tuple[Any, str, str | None]] = [
        (c, f"components[{i}]", None) for i, c in enumerate(raw_components)
    ]
    pending.reverse()
    while pending:
        raw, where, parent = pending.pop()
        if len(components) >= MAX_COMPONENTS:
            raise BomError(f"The BOM has more than {MAX_COMPONENTS} components.")
        component = _component(raw, where)
        if component.bom_ref in seen:
            raise BomError(f"{where}: bom-ref {component.bom_ref[:100]!r} appears twice.")
        seen.add(component.bom_ref)
        components.append(component)
        if parent is not None:
            edges.append((parent, component.bom_ref))
        nested = raw.get("components")
        if nested is not None:
            if not isinstance(nested, list):
                raise BomError(f"{where}: `components` must be an array.")
            children = [
                (c, f"{where}.components[{i}]", component.bom_ref) for i, c in enumerate(nested)
            ]
            pending.extend(reversed(children))

    raw_dependencies = document.get("dependencies", [])
    if not isinstance(raw_dependencies, list):
        raise BomError("`dependencies` must be an array.")
    for i, entry in enumerate(raw_dependencies):
        where = f"dependencies[{i}]"
        if not isinstance(entry, dict):
            raise BomError(f"{where} must be an object.")
        ref = _text(entry, "ref", where, limit=MAX_REF, required=True)
        depends_on = entry.get("dependsOn", [])
        if not isinstance(depends_on, list):
            raise BomError(f"{where}: `dependsOn` must be an array.")
        for target in depends_on:
            if not isinstance(target, str) or len(target) > MAX_REF:
                raise BomError(f"{where}: `dependsOn` must list bom-refs.")
            for end in (ref, target):
                if end not in seen and end != root_ref:
                    raise BomError(f"{where}: {end[:100]!r} is not a bom-ref of this BOM.")
            # The BOM's subject is the system itself, which has every component already.
            if ref != root_ref and target != root_ref and ref != target:
                edges.append((ref, target))
            if len(edges) > MAX_DEPENDENCIES:
                raise BomError(f"The BOM has more than {MAX_DEPENDENCIES} dependencies.")
    return ParsedBom(
        spec_version=spec_version, components=components, dependencies=list(dict.fromkeys(edges))
    )
