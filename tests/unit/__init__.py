"""Unit tests: pure rules, storage on a real SQLite file, the outbox against a fake sender."""
