"""Side-by-side benchmarks of intoto-pip against the reference in-toto 3.x and pip.

Run with ``python -m benchmarks`` (or ``tox -e bench``); see ``docs/benchmarks.md``.
Nothing here runs in the test suite except the harness arithmetic.
"""
