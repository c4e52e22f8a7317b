"""Hostile and broken inputs (issue 6): a loopback server that misbehaves on purpose, and real crawls of it."""
