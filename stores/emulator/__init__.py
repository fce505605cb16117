"""The embedded Cosmos endpoint: ``@vercel/cosmosdb-server`` (npm) run by Node for tests.

Layout: ``launch.mjs`` (the Node launcher: library API, keep-alive on, loopback port 0, the
read-404 correction), ``_launch`` (``start_emulator`` and ``EmulatorHandle``: find node and the
package, start, wait boundedly, report an exit while in use (``exit_reason``), stop, and remove
the temporary log of a server that ended cleanly).  Install the package with ``npm ci`` at the
repository root.

Known deviations from the real service (details in ``docs/cosmos.md``):

* a point read of a missing document, or with the wrong partition key, answers 500 instead of
  404 -- corrected at runtime by ``launch.mjs``;
* transactional batch is not atomic (a failing batch leaves its earlier operations written);
* patch filter predicates are lower-cased;
* queries ignore the partition-key header (filter on the partition key in the query text);
* etags are unquoted UUIDs (the service quotes them): treat etags as opaque;
* numbers are JavaScript doubles; no auth, no throttling, no consistency levels, in memory;
* its TLS certificate is self-signed and expired (the store pins it by fingerprint).
"""

from ._launch import EMULATOR_KEY
from ._launch import PACKAGE
from ._launch import PACKAGE_VERSION
from ._launch import EmulatorError
from ._launch import EmulatorHandle
from ._launch import start_emulator

__all__ = [
    "EMULATOR_KEY",
    "PACKAGE",
    "PACKAGE_VERSION",
    "EmulatorError",
    "EmulatorHandle",
    "start_emulator",
]
