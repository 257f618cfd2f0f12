"""Reading a job config: YAML files in ``conf/`` plus ``--set key=value`` overrides.

Every way a config can be wrong ends as ONE :class:`BadInputError` line naming the
dotted key at fault (``adanet.widths[0]``, ``input.pathh``), so that one log line is
enough to fix it. Pure Python: no Spark, no torch, so workers can read it too.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import typing
import uuid
from typing import Any, Optional, Sequence

import yaml
from pydantic import BaseModel, ValidationError

from adanet_spark.config.base import ConfigValueError
from adanet_spark.config.job import JobConfig
from adanet_spark.errors import BadInputError


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so a label value 'yes' or 'no' stays a string.
    YAML 1.2 floats too: PyYAML (YAML 1.1) reads ``1e-5`` as a string, which would
    make ``weight_decay: 1e-5`` an error."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def load_yaml(text: Any) -> Any:
    return yaml.load(text, Loader=Yaml12Loader)


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value parsed as YAML (so ``3``, ``true``, ``[a, b]`` work)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise BadInputError(f"--set expects key=value, got '{text}'")
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise BadInputError(f"--set {key}: value is not valid YAML ({exc})") from exc
    # Keep strings such as dates and IDs as strings: YAML would turn 2024-01-01 into a date.
    if isinstance(value, (dt.date, dt.datetime)):
        value = raw
    return key, value


def read_config_file(path: str) -> dict[str, Any]:
    """The YAML mapping in ``path``, dates as ISO strings and keys as strings."""
    if not os.path.exists(path):
        raise BadInputError(f"config file not found: {path}")
    with open(path) as fh:
        try:
            loaded = load_yaml(fh) or {}
        except yaml.YAMLError as exc:
            raise BadInputError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise BadInputError(f"config file {path} must hold a mapping at top level")
    return _plain(loaded)


def load_config(path: Optional[str] = None, overrides: Sequence[str] = (), **defaults: Any) -> JobConfig:
    """Load a YAML config, apply ``--set`` overrides, validate, fill run defaults.

    ``dataset`` defaults to ``defaults['dataset']``, else the config file's base name.
    """
    tree = read_config_file(path) if path else {}
    for text in overrides:
        key, value = parse_override(text)
        _set_dotted(tree, key, value)
    if tree.get("dataset") is None:
        tree["dataset"] = defaults.get("dataset") or (
            os.path.splitext(os.path.basename(path))[0] if path else "default")
    try:
        cfg = JobConfig.model_validate(tree)
    except ValidationError as exc:
        raise bad_input(exc) from None
    fill_run_defaults(cfg)
    return cfg


def fill_run_defaults(cfg: JobConfig) -> None:
    """A run without an id gets a fresh one (UTC time + random suffix); without a date, today."""
    if cfg.run.id is None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        cfg.run.id = f"{stamp}-{uuid.uuid4().hex[:6]}"
    if cfg.run.date is None:
        cfg.run.date = dt.date.today().isoformat()


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise BadInputError(f"config key '{dotted}': '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, (dt.date, dt.datetime)):
        return node.isoformat()
    return node


# -- pydantic errors -> one line naming the key ---------------------------------------

_MESSAGES = {
    "int_type": "must be an integer", "bool_type": "must be true or false",
    "float_type": "must be a number", "string_type": "must be a string",
    "list_type": "must be a list", "dict_type": "must be a mapping", "model_type": "must be a mapping",
    "literal_error": "must be one of {expected}",
    "greater_than": "must be > {gt}", "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}", "less_than_equal": "must be <= {le}",
    "too_short": "must hold at least {min_length} value",
}


def bad_input(exc: ValidationError, model: type[BaseModel] = JobConfig) -> BadInputError:
    """The first error of ``exc`` (raised validating ``model``) as one BadInputError line."""
    errors = exc.errors(include_url=False)
    err = errors[0]
    loc = tuple(part for part in err["loc"] if part != "[key]")
    more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    if err["type"] == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        return BadInputError(f"unknown config key '{_dotted(loc)}'{known}{more}")
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigValueError):
        key = f"{_dotted(loc)}.{cause.key}" if loc else cause.key
        return BadInputError(f"config key '{key}' {cause.message}{more}")
    return BadInputError(f"config key '{_dotted(loc)}' {_describe(err, cause)}{more}")


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(err: dict, cause: Any) -> str:
    if cause is not None:  # a ValueError of a field validator: its text says what is wrong
        return str(cause)
    if err["input"] is None:
        return "must not be null"
    ctx = {k: f"{v:g}" if isinstance(v, (int, float)) else v for k, v in (err.get("ctx") or {}).items()}
    template = _MESSAGES.get(err["type"])
    text = template.format(**ctx) if template else err["msg"].replace("Input should be", "must be")
    got = repr(err["input"])
    return f"{text}, got {got if len(got) <= 60 else got[:57] + '...'}"


def _known_keys(model: type[BaseModel], loc: Sequence[Any]) -> str:
    """' (known here: a, b, c)': the keys of the section at ``loc`` (list indices skipped)."""
    section: Optional[type[BaseModel]] = model
    for part in loc:
        if section is None:
            return ""
        if not isinstance(part, int):
            fields = {f.alias or name: f for name, f in section.model_fields.items()}
            field = fields.get(part) or section.model_fields.get(part)
            section = _model_in(field.annotation) if field else None
    if section is None:
        return ""
    return f" (known here: {', '.join(sorted(f.alias or n for n, f in section.model_fields.items()))})"


def _model_in(annotation: Any) -> Optional[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
