"""pytest, whole tree: a module that runs compiled (``switchlab.wire.native``)
cannot have its doctests collected from its ``.py`` (pytest imports the
compiled file under that name); ``tests/test_wire_compiled.py`` and
``tests/test_sim_compiled.py`` run them from the source instead."""
from pathlib import Path

import switchlab.sim  # noqa: F401  (selects its compiled modules)
from switchlab.wire import native

collect_ignore = [str(native.source_path(Path(*package.split(".")), name))
                  for package in native.COMPILED_GROUPS
                  for name in native.compiled_modules(package)]
