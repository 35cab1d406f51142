"""xlhedge benchmarks: ``python -m bench`` or ``python bench/run.py`` (not part of the tests)."""
