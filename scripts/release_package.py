"""Release the Elastic Premium app: build its package, upload it to the blob it runs from, and restart it.

azure.yaml runs this after every `azd deploy` (postdeploy hook). azd itself deploys only the Flex Consumption and
Container Apps plans; on Elastic Premium (DEPLOY_RUN_FROM_PACKAGE=true) the app runs from a zip in blob storage
(WEBSITE_RUN_FROM_PACKAGE = its URL, read with the identity named by WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID),
so every instance, old or new, runs the same code without an Azure Files share. Storage takes no shared key, so
the upload authenticates with Entra ID through the Azure CLI; the deployer holds Storage Blob Data Contributor on
the package container (infra/modules/storage.bicep). The app restarts so running instances load the new package,
then its triggers are synced: Microsoft's "Run from an external package URL" (run-functions-from-deployment-package)
says "Whenever you publish an updated package, you must manually sync triggers. If you update the package in place
without changing its URL, restart the function app before you sync triggers." The sync is ARM's
`POST {site id}/syncfunctiontriggers` (WebApps_SyncFunctionTriggers), sent through `az rest`, which prefixes a
resource id with the cloud's ARM endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.app_package import build

TRUTHY = {"1", "true", "yes"}
# The Microsoft.Web API version the templates use (infra/modules/function-app.bicep).
WEB_API_VERSION = "2025-05-01"


class ReleaseError(Exception):
    """A step failed; the message is the one line the user sees."""


def az(*args: str) -> str:
    """Run the Azure CLI and return its output; its own error text becomes the failure's message."""
    cli = shutil.which("az")
    if cli is None:
        raise ReleaseError("the Azure CLI (az) is needed to upload the package: install it and run `az login`")
    run = subprocess.run([cli, *args, "--only-show-errors"], capture_output=True, text=True)  # noqa: S603 - fixed args
    if run.returncode != 0:
        detail = " ".join(run.stderr.split()) or f"exit code {run.returncode}"
        raise ReleaseError(f"`az {' '.join(args[:3])}` failed: {detail}")
    return run.stdout.strip()


def setting(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ReleaseError(f'{name} is not set: run `azd provision` first (or `eval "$(azd env get-values)"`)')
    return value


def site_python_version(group: str, app: str) -> str:
    """The Python the site runs (`Python|3.11` in linuxFxVersion), so the wheels match the platform's interpreter."""
    fx_version = az("functionapp", "config", "show", "-g", group, "-n", app, "--query", "linuxFxVersion", "-o", "tsv")
    runtime, _, version = fx_version.partition("|")
    if runtime.lower() != "python" or not version:
        raise ReleaseError(f"{app} runs {fx_version or 'no runtime'}, not Python: check linuxFxVersion")
    return version


def ensure_settings(group: str, app: str, package_url: str, identity_id: str) -> None:
    """The two run-from-package settings, written by the template, put back if someone changed them."""
    listed = json.loads(az("functionapp", "config", "appsettings", "list", "-g", group, "-n", app, "-o", "json"))
    current = {entry["name"]: entry["value"] for entry in listed}
    wanted = {"WEBSITE_RUN_FROM_PACKAGE": package_url, "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": identity_id}
    # ARM may spell a resource id in another case than the template did: ids compare case-insensitively.
    missing = [f"{name}={value}" for name, value in wanted.items() if current.get(name, "").lower() != value.lower()]
    if missing:
        az("functionapp", "config", "appsettings", "set", "-g", group, "-n", app, "--settings", *missing, "-o", "none")


def release() -> None:
    group, app = setting("AZURE_RESOURCE_GROUP"), setting("AZURE_FUNCTION_APP_NAME")
    package_url = setting("AZURE_FUNCTION_APP_PACKAGE_URL")
    identity_id = az("functionapp", "identity", "show", "-g", group, "-n", app, "--query",
                     "keys(userAssignedIdentities)[0]", "-o", "tsv")  # fmt: skip
    python_version = site_python_version(group, app)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            package = build(Path(scratch) / "function-app.zip", python_version)
        except ValueError as error:
            raise ReleaseError(str(error)) from error
        except subprocess.CalledProcessError as error:
            raise ReleaseError(
                f"pip found no Linux wheels for Python {python_version} (see its output above)"
            ) from error
        print(f"release: built {package.stat().st_size:,} bytes for Linux x86-64 Python {python_version}")
        az("storage", "blob", "upload", "--auth-mode", "login", "--blob-url", package_url, "--file", str(package),
           "--overwrite", "-o", "none")  # fmt: skip
    print(f"release: uploaded {package_url}")
    ensure_settings(group, app, package_url, identity_id)
    az("functionapp", "restart", "-g", group, "-n", app, "-o", "none")
    print(f"release: restarted {app}; every instance now runs the uploaded package")
    sync_triggers(group, app)
    print(f"release: synced the triggers of {app}, so the platform knows the package's functions")


def sync_triggers(group: str, app: str) -> None:
    """Tell the platform the new package's triggers (a package URL is not watched for changes)."""
    site_id = az("functionapp", "show", "-g", group, "-n", app, "--query", "id", "-o", "tsv")
    if not site_id.startswith("/subscriptions/"):
        raise ReleaseError(f"`az functionapp show` gave no resource id for {app} ({site_id or 'empty answer'})")
    url = f"{site_id}/syncfunctiontriggers?api-version={WEB_API_VERSION}"
    az("rest", "--method", "post", "--url", url, "-o", "none")


def main() -> int:
    if os.environ.get("DEPLOY_RUN_FROM_PACKAGE", "").lower() not in TRUTHY:
        print("release: nothing to do, azd deployed this plan's code itself")
        return 0
    try:
        release()
    except ReleaseError as error:
        print(f"release: FAILED {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
