"""The local Functions host: the app's own HTTP triggers served by uvicorn, routed and converted as Azure does.

``app``     loads ``function_app.py`` and turns its triggers into an ASGI app
``routes``  Azure Functions route templates and their precedence
"""

from local_stack.functions_host.app import (
    create_asgi_app,
    load_function_app,
    load_local_settings,
    registered_functions,
    route_table,
)

__all__ = ["create_asgi_app", "load_function_app", "load_local_settings", "registered_functions", "route_table"]
