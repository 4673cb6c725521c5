"""Docker-free local stack: scheduler (gRPC, 8080), Functions host (HTTP, 7071) and dashboard (8082).

Development and tests only; never deployed (see ``.funcignore``). In Azure, the managed Durable Task
Scheduler and the Functions host play these parts.
"""

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
"""How every part of the local stack logs (each worker process of the host too)."""
