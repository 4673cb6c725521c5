"""An orchestrator that breaks replay on purpose, for the determinism check's tests; never hosted."""
