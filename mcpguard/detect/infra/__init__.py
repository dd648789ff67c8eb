"""Infrastructure identifiers (AWS resource ids, ARNs, endpoints, private addresses); each module exposes ``RULES``."""
