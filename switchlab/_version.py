"""The package version, in one place (read by ``switchlab.__version__`` and pyproject.toml)."""
__version__ = "0.1.0"
