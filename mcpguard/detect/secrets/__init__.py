"""Credential detectors, one family per module; each module exposes ``RULES``."""
