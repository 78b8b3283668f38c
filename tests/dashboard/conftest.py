"""The served-dashboard fixture for the browser tests of this folder."""

from tests.dashboard.browser import served

__all__ = ["served"]
