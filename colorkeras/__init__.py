"""colorkeras: automatic image colorization with Keras 3."""

__version__ = "0.1.0"
