"""The taxonomy: kinds, categories and priorities with their Chinese labels, from a YAML file."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")


class TaxonomyError(ValueError):
    """A taxonomy file is missing, unreadable or malformed; the message names the file."""


@dataclass(frozen=True)
class Entry:
    """One kind, category or priority: its id, Chinese label and description."""

    id: str
    label: str
    description: str
    kind: str | None = None  # categories only: the kind they belong to
    actionable: bool = True  # kinds only


@dataclass(frozen=True)
class Taxonomy:
    """Kinds, categories and priorities, with lookups both ways between ids and Chinese labels."""

    name: str
    kinds: tuple[Entry, ...]
    categories: tuple[Entry, ...]
    priorities: tuple[Entry, ...]
    source: str

    @functools.cached_property
    def _by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in (*self.kinds, *self.categories, *self.priorities)}

    @functools.cached_property
    def _by_label(self) -> dict[str, str]:
        return {e.label: e.id for e in self.categories}

    def label(self, id_: str) -> str:
        """Chinese label of a kind, category or priority id (the id itself if unknown)."""
        entry = self._by_id.get(id_)
        return entry.label if entry else id_

    def category_id(self, label_or_id: str) -> str | None:
        """Category id for a Chinese label such as 物业服务 (or an id); None if there is none."""
        text = label_or_id.strip().strip("【】[]")
        if text in self._by_label:
            return self._by_label[text]
        entry = self._by_id.get(text)
        return entry.id if entry is not None and entry.kind is not None else None

    def kind_of(self, category: str) -> str:
        """The kind a category belongs to."""
        entry = self._by_id.get(category)
        if entry is None or entry.kind is None:
            raise KeyError(f"unknown category {category!r}")
        return entry.kind

    def categories_of(self, kind: str) -> list[str]:
        """Category ids of one kind, in file order."""
        return [c.id for c in self.categories if c.kind == kind]

    @property
    def kind_ids(self) -> list[str]:
        """All kind ids, in file order."""
        return [k.id for k in self.kinds]

    @property
    def category_ids(self) -> list[str]:
        """All category ids, in file order."""
        return [c.id for c in self.categories]

    @property
    def actionable_kinds(self) -> list[str]:
        """Kinds that someone must act on (not chatter)."""
        return [k.id for k in self.kinds if k.actionable]

    @property
    def non_actionable_kind(self) -> str:
        """The kind for messages nobody must act on (e.g. chatter)."""
        return next(k.id for k in self.kinds if not k.actionable)

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the file's shape, for a model manifest."""

        def entries(items: tuple[Entry, ...], extra: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for e in items:
                d: dict[str, Any] = {"label": e.label, "description": e.description}
                if extra == "kind":
                    d["kind"] = e.kind
                elif extra == "actionable":
                    d["actionable"] = e.actionable
                out[e.id] = d
            return out

        return {
            "name": self.name,
            "kinds": entries(self.kinds, "actionable"),
            "categories": entries(self.categories, "kind"),
            "priorities": entries(self.priorities, ""),
        }


def _entries(src: str, data: dict[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    value = data.get(section)
    if not isinstance(value, dict) or not value:
        raise TaxonomyError(f"{src}: '{section}' must be a non-empty mapping of id -> {{label, description}}")
    out = []
    for id_, body in value.items():
        if not isinstance(id_, str) or not id_.isidentifier():
            raise TaxonomyError(f"{src}: {section} id {id_!r} must be a plain identifier like 'property'")
        if not isinstance(body, dict) or not isinstance(body.get("label"), str) or not body["label"].strip():
            raise TaxonomyError(f"{src}: {section}.{id_} needs a non-empty 'label' (its Chinese name)")
        out.append((id_, body))
    return out


def taxonomy_from_dict(data: Any, source: str = "<dict>") -> Taxonomy:
    """Validate parsed YAML/JSON and build a Taxonomy; raises TaxonomyError naming the problem."""
    if not isinstance(data, dict):
        raise TaxonomyError(f"{source}: the top level must be a mapping with kinds, categories, priorities")
    kinds = tuple(
        Entry(i, b["label"], str(b.get("description", "")), actionable=bool(b.get("actionable", True)))
        for i, b in _entries(source, data, "kinds")
    )
    kind_ids = {k.id for k in kinds}
    if sum(not k.actionable for k in kinds) != 1:
        raise TaxonomyError(f"{source}: exactly one kind must have 'actionable: false' (e.g. chatter)")
    categories = []
    for i, b in _entries(source, data, "categories"):
        if b.get("kind") not in kind_ids:
            raise TaxonomyError(
                f"{source}: categories.{i}.kind {b.get('kind')!r} is not one of {sorted(kind_ids)}"
            )
        categories.append(Entry(i, b["label"], str(b.get("description", "")), kind=b["kind"]))
    priorities = tuple(
        Entry(i, b["label"], str(b.get("description", ""))) for i, b in _entries(source, data, "priorities")
    )
    if {p.id for p in priorities} != {"urgent", "normal"}:
        raise TaxonomyError(f"{source}: priorities must be exactly 'urgent' and 'normal'")
    ids = [e.id for e in (*kinds, *categories)]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    labels = [c.label for c in categories]
    dupe_labels = sorted({x for x in labels if labels.count(x) > 1})
    if dupes or dupe_labels:
        raise TaxonomyError(f"{source}: duplicate ids or labels: {dupes + dupe_labels}")
    return Taxonomy(str(data.get("name", "custom")), kinds, tuple(categories), priorities, source)


def load_yaml(text: str) -> Any:
    """yaml.safe_load, through libyaml when PyYAML has it (5-20x faster at start-up).

    The same resolvers and constructors make the same data; a document libyaml refuses is read again by
    the pure-Python parser, so a mistake is reported (or accepted) exactly as before.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 (CSafeLoader is safe)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


@functools.lru_cache(maxsize=8)
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load the default taxonomy or a user file; cached per path."""
    path = path or DEFAULT_TAXONOMY_PATH
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy file: {exc}") from exc
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{path}: not valid YAML: {exc}") from exc
    return taxonomy_from_dict(data, str(path))
