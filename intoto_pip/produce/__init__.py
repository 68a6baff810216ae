"""Producer side: run and record steps, sign metadata, make keys and layouts.

Every function here takes its options as a frozen dataclass and a ``Signer``; none prints.
Output of a wrapped command reaches the caller through an ``OutputSink`` callback.
"""
