"""ctlib: performance indicators for counter-trafficking projects."""

__version__ = "0.1.0"
