"""gaitrisk: watch data + pain log -> hip/ITB risk flags for runners (decision support, not a diagnosis)."""

__version__ = "0.1.0"
