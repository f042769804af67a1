"""Shim for tools that still run ``setup.py`` (scrapyd-deploy builds its egg with ``setup.py bdist_egg``).

Everything is declared in pyproject.toml, including the ``scrapy`` entry point that tells scrapyd where
the settings are, and the package data a deployed egg needs (sources.toml, templates, engine files).
"""

from setuptools import setup

setup()
