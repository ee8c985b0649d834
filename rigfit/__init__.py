"""rigfit: fit the generative-AI stack to the machine you already own, and make it run there."""

__version__ = "0.1.0"
