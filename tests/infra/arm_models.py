"""Checks resource bodies against the Azure management SDKs' models: the same REST specifications ARM validates.

Runs in the infra venv (.venv-infra), where the SDKs from infra/requirements-tools.txt are installed, and never
in the app's. Reads a JSON list of ``{"key", "type", "apiVersion", "body"}`` on stdin and writes
``{key: [problem, ...]}``: an unknown property, a value of the wrong type, a missing required property or a
read-only property sent. ``{"$opaque": kind}`` stands for a value only known at deployment.

Two generations of models are read: msrest models (``_attribute_map``/``_validation``, dotted keys for flattened
``properties``) and TypeSpec models (``rest_field`` descriptors whose Python annotations give the type and whose
visibility marks read-only fields).
"""

from __future__ import annotations

import datetime
import importlib
import json
import sys
import types
import typing
from typing import Any

STORAGE = "azure.mgmt.storage.models"

# Resource type -> (models module, model class of the PUT body, API version that module was generated for).
MODELS: dict[str, tuple[str, str, str]] = {
    "Microsoft.Resources/resourceGroups": ("azure.mgmt.resource.resources.models", "ResourceGroup", "2025-04-01"),
    "Microsoft.ManagedIdentity/userAssignedIdentities": ("azure.mgmt.msi.v2024_11_30.models", "Identity", "2024-11-30"),
    "Microsoft.OperationalInsights/workspaces": ("azure.mgmt.loganalytics.models", "Workspace", "2025-07-01"),
    "Microsoft.Insights/components": (
        "azure.mgmt.applicationinsights.v2020_02_02.models",
        "ApplicationInsightsComponent",
        "2020-02-02",
    ),
    "Microsoft.Storage/storageAccounts": ("azure.mgmt.storage.models", "StorageAccountCreateParameters", "2026-09-01"),
    "Microsoft.Storage/storageAccounts/blobServices": (
        "azure.mgmt.storage.models",
        "BlobServiceProperties",
        "2026-09-01",
    ),
    "Microsoft.Storage/storageAccounts/blobServices/containers": (
        "azure.mgmt.storage.models",
        "BlobContainer",
        "2026-09-01",
    ),
    "Microsoft.DurableTask/schedulers": ("azure.mgmt.durabletask.models", "Scheduler", "2026-02-01"),
    "Microsoft.DurableTask/schedulers/taskHubs": ("azure.mgmt.durabletask.models", "TaskHub", "2026-02-01"),
    "Microsoft.Web/serverfarms": ("azure.mgmt.web.models", "AppServicePlan", "2025-05-01"),
    "Microsoft.Web/sites": ("azure.mgmt.web.models", "Site", "2025-05-01"),
    "Microsoft.Web/sites/config/appsettings": ("azure.mgmt.web.models", "StringDictionary", "2025-05-01"),
    "Microsoft.Web/sites/config/web": ("azure.mgmt.web.models", "SiteConfigResource", "2025-05-01"),
    "Microsoft.Authorization/roleAssignments": (
        "azure.mgmt.authorization.v2022_04_01.models",
        "RoleAssignmentCreateParameters",
        "2022-04-01",
    ),
    "Microsoft.Network/publicIPAddresses": ("azure.mgmt.network.models", "PublicIPAddress", "2026-03-01"),
    "Microsoft.Network/natGateways": ("azure.mgmt.network.models", "NatGateway", "2026-03-01"),
    "Microsoft.Network/networkSecurityGroups": ("azure.mgmt.network.models", "NetworkSecurityGroup", "2026-03-01"),
    "Microsoft.Network/virtualNetworks": ("azure.mgmt.network.models", "VirtualNetwork", "2026-03-01"),
    "Microsoft.App/managedEnvironments": ("azure.mgmt.appcontainers.models", "ManagedEnvironment", "2026-07-01"),
    "Microsoft.App/containerApps": ("azure.mgmt.appcontainers.models", "ContainerApp", "2026-07-01"),
    "Microsoft.ContainerRegistry/registries": ("azure.mgmt.containerregistry.models", "Registry", "2025-11-01"),
    "Microsoft.Insights/diagnosticSettings": (
        "azure.mgmt.monitor.v2021_05_01_preview.models",
        "DiagnosticSettingsResource",
        "2021-05-01-preview",
    ),
}

SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "long": (int,),
    "float": (int, float),
    "bool": (bool,),
    "iso-8601": (str,),
    "duration": (str,),
    "object": (object,),
}
OPAQUE_KINDS = {str: "string", int: "int", float: "int", bool: "bool", list: "array", dict: "object"}


def check(model: type, value: Any, path: str) -> list[str]:
    """Problems of ``value`` as an instance of ``model``."""
    if _opaque(value) in ("object", "any"):
        return []
    if not isinstance(value, dict):
        return [f"{path}: expected an object for {model.__name__}, got {_describe(value)}"]
    if hasattr(model, "_attribute_map"):
        return _check_msrest(model, value, path)
    return _check_typespec(model, value, path)


def _opaque(value: Any) -> str | None:
    return value.get("$opaque") if isinstance(value, dict) and set(value) == {"$opaque"} else None


def _describe(value: Any) -> str:
    return f"opaque {_opaque(value)}" if _opaque(value) else f"{type(value).__name__} {value!r}"


# msrest models ---------------------------------------------------------------------------------------------


def _msrest_tree(model: type) -> dict[str, Any]:
    """The model's attribute map as nested dicts: flattened keys such as ``properties.principalId`` unfolded."""
    tree: dict[str, Any] = {}
    for attribute, spec in model._attribute_map.items():
        parts = [part.replace("\\.", ".") for part in spec["key"].replace("\\.", "\0").split(".")]
        parts = [part.replace("\0", ".") for part in parts]
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = (attribute, spec["type"])
    return tree


def _check_msrest(model: type, value: dict[str, Any], path: str) -> list[str]:
    validation = getattr(model, "_validation", {})
    module = sys.modules[model.__module__]
    package = importlib.import_module(model.__module__.rsplit(".", 1)[0])
    return _check_msrest_node(_msrest_tree(model), validation, (module, package), value, path)


def _check_msrest_node(node: dict[str, Any], validation: dict, modules: tuple, value: dict, path: str) -> list[str]:
    problems = []
    for key, item in value.items():
        where = f"{path}.{key}"
        if key not in node:
            problems.append(f"{where}: unknown property")
        elif isinstance(node[key], dict):
            problems += (
                _check_msrest_node(node[key], validation, modules, item, where)
                if isinstance(item, dict) and not _opaque(item)
                else ([] if _opaque(item) in ("object", "any") else [f"{where}: expected an object"])
            )
        else:
            attribute, type_name = node[key]
            if validation.get(attribute, {}).get("readonly"):
                problems.append(f"{where}: read-only property sent")
            problems += _check_msrest_type(type_name, modules, item, where)
    problems += _missing_msrest(node, validation, value, path)
    return problems


def _missing_msrest(node: dict[str, Any], validation: dict, value: dict, path: str) -> list[str]:
    problems = []
    for key, entry in node.items():
        if isinstance(entry, tuple):
            rules = validation.get(entry[0], {})
            if rules.get("required") and not rules.get("readonly") and key not in value:
                problems.append(f"{path}.{key}: required property missing")
        elif isinstance(value.get(key), dict):
            continue
        elif any(validation.get(a, {}).get("required") for a, _ in _leaves(entry)) and key not in value:
            problems.append(f"{path}.{key}: required property missing")
    return problems


def _leaves(node: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for entry in node.values():
        found += _leaves(entry) if isinstance(entry, dict) else [entry]
    return found


def _check_msrest_type(type_name: str, modules: tuple, value: Any, path: str) -> list[str]:
    kind = _opaque(value)
    if type_name.startswith("[") and type_name.endswith("]"):
        if kind in ("array", "any"):
            return []
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {_describe(value)}"]
        return [
            p
            for i, item in enumerate(value)
            for p in _check_msrest_type(type_name[1:-1], modules, item, f"{path}[{i}]")
        ]
    if type_name.startswith("{") and type_name.endswith("}"):
        if kind in ("object", "any"):
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {_describe(value)}"]
        return [
            p for k, item in value.items() for p in _check_msrest_type(type_name[1:-1], modules, item, f"{path}.{k}")
        ]
    if type_name in SCALARS:
        return _check_scalar(SCALARS[type_name], value, path)
    for module in modules:
        model = getattr(module, type_name, None)
        if isinstance(model, type):
            if issubclass(model, str):  # an enum
                return _check_scalar((str,), value, path)
            return check(model, value, path)
    return [f"{path}: model type {type_name} not found in the SDK"]


def _check_scalar(expected: tuple[type, ...], value: Any, path: str) -> list[str]:
    kind = _opaque(value)
    if kind is not None:
        wanted = {OPAQUE_KINDS.get(t, "any") for t in expected}
        return (
            [] if kind == "any" or object in expected or kind in wanted else [f"{path}: expected {wanted}, got {kind}"]
        )
    if object in expected:
        return []
    if isinstance(value, bool) and bool not in expected:
        return [f"{path}: expected {expected[0].__name__}, got {_describe(value)}"]
    if value is None or isinstance(value, expected):
        return []
    return [f"{path}: expected {expected[0].__name__}, got {_describe(value)}"]


# TypeSpec models -------------------------------------------------------------------------------------------


def _rest_fields(model: type) -> dict[str, tuple[str, Any]]:
    """REST name -> (Python attribute, field descriptor), along the model's class hierarchy."""
    fields: dict[str, tuple[str, Any]] = {}
    for klass in reversed(model.__mro__):
        for attribute, descriptor in vars(klass).items():
            if type(descriptor).__name__ == "_RestField":
                fields[descriptor._rest_name_input or attribute] = (attribute, descriptor)
    return fields


def _hints(model: type) -> dict[str, Any]:
    package = importlib.import_module(model.__module__.rsplit(".", 1)[0])
    return typing.get_type_hints(model, localns={"_models": package, "datetime": datetime})


def _check_typespec(model: type, value: dict[str, Any], path: str) -> list[str]:
    fields, hints = _rest_fields(model), _hints(model)
    problems = []
    for key, item in value.items():
        where = f"{path}.{key}"
        if key not in fields:
            problems.append(f"{where}: unknown property")
            continue
        attribute, descriptor = fields[key]
        if descriptor._visibility == ["read"]:
            problems.append(f"{where}: read-only property sent")
        problems += _check_annotation(hints[attribute], item, where)
    for key, (attribute, descriptor) in fields.items():
        writable = descriptor._visibility is None or "create" in descriptor._visibility
        if writable and not _optional(hints[attribute]) and key not in value:
            problems.append(f"{path}.{key}: required property missing")
    return problems


def _optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        annotation
    )


def _check_annotation(annotation: Any, value: Any, path: str) -> list[str]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        options = [a for a in args if a is not type(None)]
        if any(isinstance(a, type) and issubclass(a, str) for a in options):  # str or a str enum
            return _check_scalar((str,), value, path)
        attempts = [_check_annotation(option, value, path) for option in options]
        return min(attempts, key=len)
    kind = _opaque(value)
    if origin is list:
        if kind in ("array", "any"):
            return []
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {_describe(value)}"]
        return [p for i, item in enumerate(value) for p in _check_annotation(args[0], item, f"{path}[{i}]")]
    if origin is dict:
        if kind in ("object", "any"):
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {_describe(value)}"]
        return [p for k, item in value.items() for p in _check_annotation(args[1], item, f"{path}.{k}")]
    if annotation is Any:
        return []
    if isinstance(annotation, type) and hasattr(annotation, "_is_model"):
        return check(annotation, value, path)
    if annotation in (datetime.datetime, datetime.timedelta):
        return _check_scalar((str,), value, path)
    if isinstance(annotation, type):
        return _check_scalar((annotation,), value, path)
    return [f"{path}: cannot check annotation {annotation!r}"]


# Entry point -----------------------------------------------------------------------------------------------


def model_for(resource_type: str, name: str) -> tuple[type, str] | None:
    """The PUT body model and its API version; a site's config resources differ by name (appsettings, web)."""
    key = f"{resource_type}/{name}" if resource_type == "Microsoft.Web/sites/config" else resource_type
    if key not in MODELS:
        return None
    module, class_name, api_version = MODELS[key]
    return getattr(importlib.import_module(module), class_name), api_version


def main() -> None:
    report: dict[str, Any] = {}
    for resource in json.load(sys.stdin):
        found = model_for(resource["type"], resource["name"])
        if found is None:
            report[resource["key"]] = {"problems": [f"no SDK model mapped for {resource['type']}"]}
            continue
        model, sdk_version = found
        report[resource["key"]] = {
            "model": f"{model.__module__}.{model.__name__}",
            "sdkApiVersion": sdk_version,
            "problems": check(model, resource["body"], resource["key"]),
        }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
