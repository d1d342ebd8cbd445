"""aigc_models: GANs, conditional GANs and VAEs on MNIST and Fashion-MNIST.

Flow: data -> models -> training (yields events) -> sampling / metrics.
Images are float ``(B, 1, 28, 28)`` in [-1, 1] inside the library and uint8 at the edges.
"""

__version__ = "0.1.0"
