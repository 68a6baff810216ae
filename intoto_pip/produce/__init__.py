"""Producer side: run and record steps, sign metadata (PEM keys, or GPG through ``gpg``), make
keys and layouts, and embed evidence into built archives (``embed``, ``attach``).

Every function here takes its options as a frozen dataclass and a ``Signer``; none prints.
Output of a wrapped command reaches the caller through an ``OutputSink`` callback.
"""
