"""Command-line clients mirroring the public DTS samples' ``client.py`` scripts."""
