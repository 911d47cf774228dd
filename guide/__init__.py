"""guide: decide what "interpretable" should mean for a medical-imaging model, and write it down."""

__version__ = "0.1.0"
