"""A handler module that cannot be imported."""

raise ImportError("no module named 'pillow_simd'")
