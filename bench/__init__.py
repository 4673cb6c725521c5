"""``make bench``: the app against the bare SDK on the local stack, measured side by side in one run."""
