"""mercato: multimodal user-behaviour modelling and analysis for e-commerce platforms."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mercato")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
