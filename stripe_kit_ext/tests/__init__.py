"""Kit tests of the extension, run by Kit's test runner (omni.kit.test), never by pytest."""

from .test_extension import *  # noqa: F401,F403
