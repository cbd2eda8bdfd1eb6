"""SFUMATO: iterative prompt improvement for image generation."""

__version__ = "0.1.0"
