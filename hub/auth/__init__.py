"""Authentication for the hub: one seam (:mod:`hub.auth.base`), several modes (``dev``, ``entra``, ``facade``)."""
