"""The hub's ``/v1`` admin API: :mod:`.routes` (``admin_routes``), :mod:`.models` (bodies), :mod:`.openapi`."""
