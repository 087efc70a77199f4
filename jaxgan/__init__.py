"""jaxgan: conditional GANs in JAX/Flax on one functional engine."""

__version__ = "0.1.0"
