"""Shared package of the e-commerce AI platform, copied into every function image.

Data contracts, S3 I/O, settings, observability and card-data protection live here once, so that the
pipeline functions and the AI systems agree on every dataset's shape.
"""

__version__ = "0.1.0"
