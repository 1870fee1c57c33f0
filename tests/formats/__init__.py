"""Tests of ililab.formats (a package, so that the tests can share tests/formats/_graphs.py)."""
