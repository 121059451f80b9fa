"""The docs stay true: docs/configuration.md lists exactly the configuration schema's keys, README's
tables list every docs page and every command, and every relative link in README.md and docs/*.md
points to a file (and heading) that exists."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import msgspec

import hedge.config
from hedge.signals.strategies import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DOC = ROOT / "docs" / "configuration.md"
STRATEGY_PARAMS = "Strategy params"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_KEY_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_CODE_SPAN = re.compile(r"`[^`]*`")


# --------------------------------------------------------------------------- the schema's keys


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def schema_keys(struct: type[msgspec.Struct], prefix: str = "") -> Iterator[str]:
    """Dotted key paths of ``struct`` as written in YAML: ``a.b``, ``map.*.key``, ``list[].key``."""
    for f in msgspec.structs.fields(struct):
        key = prefix + f.encode_name
        tp = _unwrap(f.type)
        if _is_struct(tp):
            yield from schema_keys(tp, key + ".")
            continue
        yield key
        origin = get_origin(tp)
        if origin is dict and _is_struct(item := _unwrap(get_args(tp)[1])):
            yield from schema_keys(item, key + ".*.")
        elif origin is list and _is_struct(item := _unwrap(get_args(tp)[0])):
            yield from schema_keys(item, key + "[].")


def config_files() -> dict[str, set[str]]:
    """``{"runtime.yaml": {keys}, ...}`` from the root Struct that ``load_config`` returns."""
    root = _unwrap(typing.get_type_hints(hedge.config.load_config)["return"])
    assert _is_struct(root), root
    files: dict[str, set[str]] = {}
    for f in msgspec.structs.fields(root):
        tp = _unwrap(f.type)
        if _is_struct(tp):  # one section per file; plain fields (``source``) are not configuration
            files[f"{f.encode_name}.yaml"] = set(schema_keys(tp))
    return files


def strategy_param_keys() -> set[str]:
    return {
        f"{name}.{f.encode_name}" for name, (params, _) in REGISTRY.items() for f in msgspec.structs.fields(params)
    }


# --------------------------------------------------------------------------- the docs' keys


def _lines_outside_code(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def documented_keys(text: str) -> dict[str, list[str]]:
    """Per ``## <heading>``: the backticked keys in the first column of its table rows."""
    out: dict[str, list[str]] = {}
    section: list[str] | None = None
    for _, line in _lines_outside_code(text):
        h = _HEADING.match(line)
        if h:
            section = out.setdefault(h.group(2), []) if len(h.group(1)) == 2 else None
            continue
        row = _KEY_ROW.match(line)
        if row and section is not None:
            section.append(row.group(1))
    return out


def _compare(what: str, schema: set[str], documented: list[str]) -> list[str]:
    problems = []
    doc = set(documented)
    dupes = sorted({k for k in documented if documented.count(k) > 1})
    if missing := sorted(schema - doc):
        problems.append(f"{what}: in the schema, not documented: {missing}")
    if extra := sorted(doc - schema):
        problems.append(f"{what}: documented, not in the schema: {extra}")
    if dupes:
        problems.append(f"{what}: documented twice: {dupes}")
    return problems


def test_configuration_doc_lists_every_key_of_every_file() -> None:
    docs = documented_keys(CONFIG_DOC.read_text())
    files = config_files()
    assert set(files) == {"runtime.yaml", "risk.yaml", "strategy.yaml", "symbols.yaml"}
    problems: list[str] = []
    for name, keys in files.items():
        if name not in docs:
            problems.append(f"docs/configuration.md has no '## {name}' section")
            continue
        problems += _compare(f"docs/configuration.md ## {name}", keys, docs[name])
    assert not problems, "\n".join(problems)


def test_configuration_doc_lists_every_strategy_param() -> None:
    docs = documented_keys(CONFIG_DOC.read_text())
    assert STRATEGY_PARAMS in docs, f"docs/configuration.md has no '## {STRATEGY_PARAMS}' section"
    problems = _compare(f"docs/configuration.md ## {STRATEGY_PARAMS}", strategy_param_keys(), docs[STRATEGY_PARAMS])
    assert not problems, "\n".join(problems)


def test_schema_walk_sees_nested_maps_and_lists() -> None:
    keys = config_files()
    assert "tier_caps.ALT-EXT" in keys["risk.yaml"]  # encode names (renamed fields)
    assert "router.twap.slices" in keys["runtime.yaml"]  # nested sections
    assert "strategies[].params" in keys["strategy.yaml"]  # list of Structs
    assert "symbols.*.tier" in keys["symbols.yaml"]  # map of Structs


# --------------------------------------------------------------------------- links


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in _lines_outside_code(path.read_text()):
        h = _HEADING.match(line)
        if h:
            base = _slug(h.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_points_to_something_that_exists() -> None:
    broken = []
    for doc in doc_files():
        for n, line in _lines_outside_code(doc.read_text()):
            for target in _LINK.findall(_CODE_SPAN.sub("", line)):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (doc.parent / file_part).resolve() if file_part else doc
                where = f"{doc.relative_to(ROOT)}:{n}: {target}"
                if not dest.exists():
                    broken.append(f"{where}: no such file")
                elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                    broken.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


def test_docs_exist() -> None:
    names = {p.name for p in doc_files()}
    for page in ("architecture.md", "configuration.md", "local-exchange.md", "market-data.md", "signals.md",
                 "risk.md", "execution.md", "positions.md", "state.md", "replay.md", "operations.md"):
        assert page in names, page


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_the_readme_documentation_table_links_every_docs_page() -> None:
    linked = set(re.findall(r"\]\(docs/([a-z0-9-]+\.md)\)", _readme_section("Documentation")))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set(), "docs pages missing from README's Documentation table"


def test_the_readme_commands_table_lists_every_command() -> None:
    from hedge.cli import COMMANDS

    listed = set(re.findall(r"^\| `([a-z-]+)", _readme_section("Commands"), re.M))
    assert set(COMMANDS) - listed == set(), "commands missing from README's Commands table"
