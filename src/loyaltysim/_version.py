"""The package version, below everything (manifests and reports record it)."""

__version__ = "0.1.0"
