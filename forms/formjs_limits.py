"""The bounds of a form-js document and of the data submitted to it.

A form arrives from a stranger's browser and its data from anyone's; every size is bounded
before anything is walked, so no document or submission can take the server's time.
"""

from __future__ import annotations

MAX_NODES = 20_000
"""The most JSON values (objects, arrays, scalars) one document may hold."""

MAX_DEPTH = 40
"""The deepest nesting of JSON objects and arrays in a document."""

MAX_STRING = 20_000
"""The longest string anywhere in a document (a text component's Markdown included)."""

MAX_COMPONENTS = 500
"""The most components, of any type, in one form."""

MAX_NESTING = 10
"""The deepest nesting of groups."""

MAX_ID = 100
"""The longest form or component id."""

MAX_KEY = 200
"""The longest key or group path (dot-separated)."""

MAX_LABEL = 200
"""The longest label, option label or option value, and custom error message."""

MAX_OPTIONS = 1000
"""The most options of a select, radio, checklist or taglist."""

MAX_MAGNITUDE = 15
"""Numbers (bounds, steps, submitted values) stay below 10 to this power."""

MAX_TEXTFIELD = 1000
"""The longest value of a text field, whatever its own ``maxLength``."""

MAX_TEXTAREA = 20_000
"""The longest value of a text area, whatever its own ``maxLength``."""

MAX_ERRORS = 50
"""The most unknown keys reported for one submission; the rest are summed up in one line."""
