"""Orchestrators and their activities, named exactly as in the public DTS Python samples."""
