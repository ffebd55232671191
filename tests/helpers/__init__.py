"""Helpers the test modules share; fixtures stay in conftest.py. No test module imports another."""
