"""Atelier: a desktop creative studio that runs generative AI locally."""

__version__ = "0.1.0"
