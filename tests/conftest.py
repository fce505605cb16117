"""Shared fixtures: store factories for the backends every test runs against."""
