"""The config file: where the data is, which sources to read and how.

Paths in a config are relative to the config file, so a config and its data can move
together; ``data_root`` (the folder file sources read from) can be replaced by an
argument (the CLI's ``--data-root``) or ``FORESIGHT_DATA_ROOT``, so the same config
runs on another folder of the same layout. Every source is checked strictly against
its kind's settings, and all problems are reported at once with their place in the
file and what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from context.clock import Clock, ClockError
from integrations.errors import ConfigError
from integrations.registry import known_kinds, source_kind
from integrations.source import SourceConfig

DATA_ROOT_ENV = "FORESIGHT_DATA_ROOT"
# Top-level sections that other parts read (``Config.extra``).
OTHER_SECTIONS = frozenset({"sync"})


@dataclass(frozen=True)
class Config:
    """A checked config. ``extra`` keeps the top-level sections other parts own."""

    path: Path
    data_root: Path
    now: datetime | None
    access: dict[str, Any]
    sources: list[SourceConfig]
    extra: dict[str, Any] = field(default_factory=dict)

    def source(self, name: str) -> SourceConfig:
        """The source called ``name``; an unknown name lists the known ones."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path}: no source named {name!r}; sources: {known}")


class _Top(BaseModel):
    model_config = ConfigDict(extra="allow")

    now: str | datetime | date | None = None
    data_root: str | None = None
    access: dict[str, Any] = Field(default_factory=dict)
    sources: list[dict[str, Any]] = Field(default_factory=list)


def load_config(path: str | Path, data_root: str | Path | None = None) -> Config:
    """Read and check ``path``. ``data_root`` (or ``FORESIGHT_DATA_ROOT``) replaces
    the config's own ``data_root``; a relative one is taken from the working folder."""
    path = Path(path).expanduser().resolve()
    try:
        top = _Top.model_validate(_read_yaml(path))
    except ValidationError as error:
        raise ConfigError(_explain(path, "", error)) from None
    problems = []
    unknown = sorted(set(top.model_extra or {}) - OTHER_SECTIONS)
    if unknown:
        known = ", ".join([*_Top.model_fields, *sorted(OTHER_SECTIONS)])
        problems.append(
            f"  - unknown top-level key {', '.join(map(repr, unknown))}; the config "
            f"takes {known} (check the spelling and indentation)"
        )
    sources, found = _sources(path, top.sources)
    problems += found
    if problems:
        raise ConfigError(f"{path}: the config has problems:\n" + "\n".join(problems))
    return Config(
        path=path,
        data_root=_data_root(path, top.data_root, data_root),
        now=_now(path, top.now),
        access=top.access,
        sources=sources,
        extra=dict(top.model_extra or {}),
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read the config {path}: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected keys such as `sources:` at the top level")
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what, without PyYAML's "<unicode string>" excerpt."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _sources(
    path: Path, entries: list[dict[str, Any]]
) -> tuple[list[SourceConfig], list[str]]:
    """The sources that could be read, and the problems of those that could not."""
    sources, problems, names = [], [], set()
    for index, entry in enumerate(entries):
        where = f"sources[{index}]" + (
            f" ({entry['name']})" if entry.get("name") else ""
        )
        kind = entry.get("kind")
        if not isinstance(kind, str):
            kinds = ", ".join(known_kinds())
            problems.append(f"  - {where}: missing `kind:` (one of: {kinds})")
            continue
        try:
            settings = source_kind(kind).settings
            source = settings.model_validate(entry)
        except ConfigError as error:
            problems.append(f"  - {where}: {error}")
            continue
        except ValidationError as error:
            problems.append(_explain(path, where, error, nested=True))
            continue
        if source.name in names:
            problems.append(f"  - {where}: the name {source.name!r} is used twice")
        names.add(source.name)
        sources.append(source)
    for index, source in enumerate(sources):
        for name in sorted(source.sources_named() - names):
            known = ", ".join(sorted(names))
            problems.append(
                f"  - sources[{index}] ({source.name}): names the source {name!r}, "
                f"which the config does not have; sources: {known}"
            )
    return sources, problems


def _data_root(path: Path, configured: str | None, override: str | Path | None) -> Path:
    if override is not None:
        root, given = Path(override).expanduser(), "the data_root argument"
    elif os.environ.get(DATA_ROOT_ENV):
        root, given = Path(os.environ[DATA_ROOT_ENV]).expanduser(), DATA_ROOT_ENV
    elif configured:
        root, given = path.parent / Path(configured).expanduser(), "data_root"
    else:
        root, given = path.parent, "the config's folder"
    root = root.resolve()
    if not root.is_dir():
        raise ConfigError(
            f"{path}: the data root {root} (from {given}) is not a folder; set "
            f"data_root in the config, {DATA_ROOT_ENV} or --data-root"
        )
    return root


def _now(path: Path, value: str | datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    try:
        return Clock.parse(value).fixed
    except ClockError as error:
        raise ConfigError(f"{path}: now: {error}") from None


def _explain(
    path: Path, where: str, error: ValidationError, nested: bool = False
) -> str:
    """Pydantic's errors as lines an admin can act on: place, problem, fix."""
    lines = []
    for problem in error.errors():
        place = _place(problem["loc"][:-1] if _names_key(problem) else problem["loc"])
        lines.append(
            f"{where}{' › ' if where and place else ''}{place}: {_message(problem)}"
        )
    text = "\n".join(f"  - {line}" for line in lines)
    return text if nested else f"{path}: the config has problems:\n{text}"


def _names_key(problem: Any) -> bool:
    return problem["type"] in ("extra_forbidden", "missing") and bool(problem["loc"])


def _message(problem: Any) -> str:
    kind, loc = problem["type"], problem["loc"]
    if kind == "extra_forbidden":
        return f"unknown key {loc[-1]!r}; check its spelling and indentation"
    if kind == "missing":
        return f"missing key {loc[-1]!r}"
    message = str(problem["msg"]).removeprefix("Value error, ")
    given = problem.get("input")
    if kind != "value_error" and isinstance(given, str | int | float | bool):
        message += f" (got {given!r})"
    return message


def _place(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")
