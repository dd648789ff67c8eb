"""Personal-data detectors: e-mail (anchored on ``@``) and the numeric families dispatched from one candidate pass."""
