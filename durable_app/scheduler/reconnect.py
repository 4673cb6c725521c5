"""How fast the worker and the clients find the scheduler again after it restarts or the network drops.

Left at the SDK's defaults, a worker waits a random 0-30 s between attempts and gRPC's own channel backoff
grows to two minutes, so a scheduler back after a short outage sat idle for half a minute. Both are capped
at ``DTS_RECONNECT_MAX_SECONDS`` (default 5 s): cheap for one worker per process, and work resumes
within seconds of the scheduler's return.
"""

from __future__ import annotations

from durabletask.grpc_options import GrpcChannelOptions, GrpcWorkerResiliencyOptions

INITIAL_BACKOFF_SECONDS = 0.5
"""The first wait after a lost connection; later waits grow up to the cap."""


def channel_options(max_seconds: float) -> GrpcChannelOptions:
    """gRPC channel options bounding the channel's own reconnect backoff."""
    initial = min(INITIAL_BACKOFF_SECONDS, max_seconds)
    return GrpcChannelOptions(
        raw_options=[
            ("grpc.initial_reconnect_backoff_ms", round(initial * 1000)),
            ("grpc.min_reconnect_backoff_ms", round(initial * 1000)),
            ("grpc.max_reconnect_backoff_ms", round(max_seconds * 1000)),
        ]
    )


def worker_resiliency(max_seconds: float) -> GrpcWorkerResiliencyOptions:
    """The worker's stream-reconnect backoff, capped at ``max_seconds``."""
    return GrpcWorkerResiliencyOptions(
        reconnect_backoff_base_seconds=min(INITIAL_BACKOFF_SECONDS, max_seconds),
        reconnect_backoff_cap_seconds=max_seconds,
    )
