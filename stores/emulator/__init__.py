"""The embedded Cosmos endpoint: ``@vercel/cosmosdb-server`` (npm) run by Node for tests.

Layout: ``launch.mjs`` (the Node launcher: library API, keep-alive on, loopback port 0, the
read-404 correction), ``_launch`` (``start_emulator`` and ``EmulatorHandle``: find node and the
package, start, wait boundedly, stop).  Install the package with ``npm ci`` at the repository
root.  Known deviations from the real service are listed in ``docs/cosmos.md``.
"""

from ._launch import (
    EMULATOR_KEY,
    PACKAGE,
    PACKAGE_VERSION,
    EmulatorError,
    EmulatorHandle,
    start_emulator,
)

__all__ = [
    "EMULATOR_KEY",
    "PACKAGE",
    "PACKAGE_VERSION",
    "EmulatorError",
    "EmulatorHandle",
    "start_emulator",
]
