"""A small evaluator for the pycep trees of infra/: the request body each resource sends for given parameters.

No Bicep compiler can run here, so the tests rebuild what ARM would receive: parameters given a value are
concrete, the rest (and everything only Azure knows, such as a resource's id) stand as an ``Opaque`` value of the
right kind. pycep writes identifiers and string literals alike as plain strings, so a string naming a symbol in
scope (parameter, variable, resource, module, lambda variable) is read as a reference, as Bicep itself does.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycep import BicepParser

INFRA = Path(__file__).resolve().parents[2] / "infra"

# Keys of a Bicep resource declaration that never reach ARM's request body.
BICEP_ONLY_KEYS = {"name", "parent", "scope", "dependsOn"}


@dataclass(frozen=True)
class Opaque:
    """A value known only at deployment time, of a known kind: string, int, bool, object, array or any."""

    kind: str


@dataclass
class ResourceBody:
    """One resource as deployed: where it is declared, its type and API version, and the body ARM receives."""

    file: str
    symbol: str
    name: Any
    type: str
    api_version: str
    body: dict[str, Any]


@dataclass
class Scope:
    tree: dict[str, Any]
    params: dict[str, Any]
    lambdas: dict[str, Any] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.lambdas:
            return True, self.lambdas[name]
        if name in self.params:
            return True, self.params[name]
        if name in self.tree.get("variables", {}):
            return True, evaluate(self.tree["variables"][name]["value"], self)
        if name in self.tree.get("resources", {}) or name in self.tree.get("modules", {}):
            return True, Opaque("object")
        return False, None


BICEP_TYPES = {"string": "string", "int": "int", "bool": "bool", "object": "object", "array": "array"}
INTERPOLATION = re.compile(r"\$\{[^}]*\}")


@functools.cache
def parse(file: str) -> dict[str, Any]:
    """One file's tree, parsed once: the evaluator only reads it."""
    return BicepParser().parse(file_path=INFRA / file)


def parameter_values(tree: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Each declared parameter: the given value, else its default, else an opaque value of its type."""
    values = {}
    for name, spec in tree.get("parameters", {}).items():
        if name in given:
            values[name] = given[name]
        elif spec.get("default") is not None:
            values[name] = evaluate(spec["default"], Scope(tree, values))
        else:
            values[name] = Opaque(BICEP_TYPES.get(spec["type"], "any"))
    return values


def evaluate(node: Any, scope: Scope) -> Any:
    if isinstance(node, str):
        return _string(node, scope)
    if isinstance(node, list):
        return [evaluate(item, scope) for item in node]
    if isinstance(node, dict):
        if set(node) == {"loop_type", "condition", "config"}:
            return _loop(node, scope)
        if set(node) == {"operator"}:
            return _operator(node["operator"], scope)
        if set(node) == {"function"}:
            return _function(node["function"], scope)
        return {_key(key): evaluate(value, scope) for key, value in node.items()}
    return node


def _loop(node: dict[str, Any], scope: Scope) -> Any:
    """A ``[for item in array: ...]`` expression, evaluated item by item when the array is known."""
    detail = node["loop_type"]["detail"]
    items = evaluate(detail["array_name"], scope)
    if not isinstance(items, list) or node["condition"] is not None:
        return Opaque("array")
    return [
        evaluate(node["config"], Scope(scope.tree, scope.params, {**scope.lambdas, detail["item_name"]: item}))
        for item in items
    ]


def _key(key: str) -> str:
    """An object key as ARM sees it: pycep keeps the quotes of a quoted key such as 'azd-env-name'."""
    return key[1:-1] if len(key) > 1 and key[0] == key[-1] == "'" else key


def _string(text: str, scope: Scope) -> Any:
    found, value = scope.lookup(text)
    if found:
        return value
    if INTERPOLATION.search(text):
        return _interpolate(text, scope)
    return text


def _interpolate(text: str, scope: Scope) -> Any:
    """``'Python|${pythonVersion}'``: known when every part is a plain name with a known string or number value."""
    parts: list[str] = []
    for match in INTERPOLATION.finditer(text):
        found, value = scope.lookup(match[0][2:-1].strip())
        if not found or isinstance(value, bool) or not isinstance(value, str | int):
            return Opaque("string")
        parts.append(str(value))
    return INTERPOLATION.sub(lambda _: parts.pop(0), text)


def _known(*values: Any) -> bool:
    return not any(isinstance(value, Opaque) for value in values)


def _operator(operator: dict[str, Any], scope: Scope) -> Any:
    kind, operands = operator["type"], operator.get("operands", {})
    if kind == "conditional":
        condition = evaluate(operands["condition"], scope)
        if isinstance(condition, bool):
            return evaluate(operands["true_value" if condition else "false_value"], scope)
        return Opaque("any")
    if kind in ("equals", "not_equals"):
        left, right = evaluate(operands["operand_1"], scope), evaluate(operands["operand_2"], scope)
        if not _known(left, right):
            return Opaque("bool")
        return (left == right) == (kind == "equals")
    if kind in ("and", "or"):
        left, right = evaluate(operands["operand_1"], scope), evaluate(operands["operand_2"], scope)
        if not (isinstance(left, bool) and isinstance(right, bool)):
            return Opaque("bool")
        return (left and right) if kind == "and" else (left or right)
    if kind == "not":
        value = evaluate(operands["bool_value"], scope)
        return (not value) if isinstance(value, bool) else Opaque("bool")
    if kind == "property_accessor":
        target = evaluate(operands["operand_1"], scope)
        if isinstance(target, dict) and operands["operand_2"] in target:
            return target[operands["operand_2"]]
        return Opaque("any")
    raise NotImplementedError(f"operator {kind}")


def _function(function: dict[str, Any], scope: Scope) -> Any:
    kind = function["type"]
    args = {
        key: evaluate(value, scope) for key, value in (function.get("parameters") or {}).items() if key != "expression"
    }
    if kind in ("guid", "unique_string", "subscription_resource_id", "resource_id", "uri_component"):
        return Opaque("string")
    if kind in ("subscription", "tenant", "resource_group", "environment", "deployment"):
        return Opaque("object")
    if kind == "string":
        value = args["value_to_convert"]
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else Opaque("string")
    if kind == "to_lower":
        value = args["string_to_change"]
        return value.lower() if isinstance(value, str) else Opaque("string")
    if kind == "replace":
        original, old, new = args["original_string"], args["old_string"], args["new_string"]
        return original.replace(old, new) if _known(original) else Opaque("string")
    if kind == "split":
        text = args["input_string"]
        return text.split(args["delimiter"]) if _known(text) else Opaque("array")
    if kind == "empty":
        value = args["item_to_test"]
        return (not value) if _known(value) else Opaque("bool")
    if kind == "items":
        value = args["arg_1"]
        if isinstance(value, dict):  # Bicep's items() lists the entries sorted by key
            return [{"key": key, "value": value[key]} for key in sorted(value, key=str.lower)]
        return Opaque("array")
    if kind == "json":
        value = args["arg_1"]
        return json.loads(value) if isinstance(value, str) else Opaque("any")
    if kind == "filter":
        return _filter(function, args["input_array"], scope)
    if kind == "concat":
        parts = list(args.values())
        if all(isinstance(part, list) for part in parts):
            return [item for part in parts for item in part]
        return Opaque("array" if any(isinstance(part, list) for part in parts) else "string")
    if kind == "union":
        parts = list(args.values())
        if all(isinstance(part, dict) for part in parts):
            merged: dict[str, Any] = {}
            for part in parts:
                merged.update(part)
            return merged
        return Opaque("object")
    raise NotImplementedError(f"function {kind}")


def _filter(function: dict[str, Any], items: Any, scope: Scope) -> Any:
    if not isinstance(items, list):
        return Opaque("array")
    detail = function["parameters"]["expression"]["detail"]
    kept = []
    for item in items:
        inner = Scope(scope.tree, scope.params, {**scope.lambdas, detail["var_1"]: item})
        keep = evaluate(detail["expression"], inner)
        if not isinstance(keep, bool):
            return Opaque("array")
        if keep:
            kept.append(item)
    return kept


def resource_bodies(tree: dict[str, Any], file: str, params: dict[str, Any]) -> list[ResourceBody]:
    """The resources of one file that deploy for these parameters, each with the body ARM receives."""
    scope = Scope(tree, params)
    bodies = []
    for symbol, resource in tree.get("resources", {}).items():
        config = resource["config"]
        if "condition" in config:
            deployed = evaluate(config["condition"], scope)
            if deployed is False:
                continue
            config = config["config"]
        body = {key: evaluate(value, scope) for key, value in config.items() if key not in BICEP_ONLY_KEYS}
        name = evaluate(config["name"], scope)
        bodies.append(ResourceBody(file, symbol, name, resource["type"], resource["api_version"], body))
    return bodies


def deployment(main_params: dict[str, Any]) -> list[ResourceBody]:
    """Every resource of one `azd up` for these main.bicep parameters, modules evaluated with what their parent
    passes, modules of modules too."""
    main = parse("main.bicep")
    return _deployed("main.bicep", parameter_values(main, main_params))


def _deployed(file: str, params: dict[str, Any]) -> list[ResourceBody]:
    tree = parse(file)
    scope = Scope(tree, params)
    bodies = resource_bodies(tree, file, params)
    for module in tree.get("modules", {}).values():
        config = module["config"]
        if "condition" in config:
            if evaluate(config["condition"], scope) is False:
                continue
            config = config["config"]
        path = str((INFRA / file).parent.joinpath(module["detail"]["path"]).resolve().relative_to(INFRA))
        given = {name: evaluate(value, scope) for name, value in config["params"].items()}
        bodies += _deployed(path, parameter_values(parse(path), given))
    return bodies


def main_variable(name: str, main_params: dict[str, Any]) -> Any:
    """A main.bicep variable's value for these parameters."""
    main = parse("main.bicep")
    return evaluate(main["variables"][name]["value"], Scope(main, parameter_values(main, main_params)))


def to_json(value: Any) -> Any:
    """The body with each opaque value written as ``{"$opaque": kind}`` for the model checker."""
    if isinstance(value, Opaque):
        return {"$opaque": value.kind}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def main_output(name: str, main_params: dict[str, Any]) -> Any:
    """A main.bicep output's value for these parameters (module outputs stay opaque)."""
    main = parse("main.bicep")
    return evaluate(main["outputs"][name]["value"], Scope(main, parameter_values(main, main_params)))
