"""Journey analyses: each a typed spec in, a typed result out, computed on the engine.

Only aggregates come back to Python; results are frozen dataclasses with ``to_dict()`` for JSON.
"""
