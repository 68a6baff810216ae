"""Recording artifacts: walk the named paths, leave out the excluded ones, hash what is left.

- :mod:`~intoto_pip.artifacts.collect`: the walk, ``--lstrip-paths`` and ``--base-path``.
- :mod:`~intoto_pip.artifacts.excludes`: gitignore-style exclude patterns, as the reference.
- :mod:`~intoto_pip.artifacts.digests`: hashing, in parallel, never reusing a stale digest.
"""
