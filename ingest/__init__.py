"""wirewatch: poll news sources, match wire articles against rule files, alert on Redis."""

__version__ = "0.1.0"
