"""A handler module that cannot be imported."""
import tq  # noqa: F401

raise ImportError("no module named 'pillow_simd'")
