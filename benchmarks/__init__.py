"""Side-by-side benchmarks of django-redis-auth against the usual alternatives.

Run ``python benchmarks/run.py`` (``--quick`` for a tiny run). See ``docs/benchmarks.md``.
"""
