"""The code alice wrote: one function, shipped by bob, installed by the consumer."""


def hello() -> str:
    return "Hello from greeting 1.0: alice wrote me, bob built me, and you checked both."
