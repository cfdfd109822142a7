"""``python -m slopekit``: the same as the ``slopekit`` command."""

from .cli import entrypoint

if __name__ == "__main__":
    entrypoint()
