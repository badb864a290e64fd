"""journeylens: customer journey maps as code, kept live from omnichannel data."""

from __future__ import annotations

from journeylens._version import __version__

__all__ = ["__version__"]
