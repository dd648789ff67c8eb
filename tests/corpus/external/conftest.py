"""pytest: the stored upstream test files under raw/ are data for extract.py, not tests to collect."""

collect_ignore = ["raw"]
