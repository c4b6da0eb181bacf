"""What every test shares: the harness that runs the real Application against the
emulator (harness.py), the personas (personas.py), shared steps (steps.py), and data
builders (factories.py, seed.py)."""
