"""intoto-pip: in-toto supply-chain verification for Python packages."""

__version__ = "0.1.0"
