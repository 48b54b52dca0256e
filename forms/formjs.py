"""Forms designed by analysts with form-js (bpmn.io, Camunda Modeler), checked on the server.

:func:`check` tells what is wrong with a document received from a stranger,
:func:`json_schema` describes its data, :func:`validate` cleans one submission. The
browser's form-js runs the same rules for the user's comfort; these are the ones that count.

What is accepted: inputs (textfield, textarea, number, checkbox, checklist, radio, select,
taglist, datetime) with the ``validate`` rules form-js offers for their type; groups, whose
``path`` prefixes their children's keys; text, spacer, separator, submit and reset buttons,
and images whose source is a ``data:image/`` URI or a path on this site. A ``disabled``
input is display-only: form-js does not submit it, and neither may anyone else.

What is refused, and why:

- ``html`` and ``iframe``: script and third-party pages inside a government form;
- ``expression``, ``conditional.hide``, FEEL in labels, bounds and lengths (``"=..."``):
  the server does not evaluate FEEL here, and a hidden field's rules cannot be judged
  without it; dynamic options (``valuesKey``, ``valuesExpression``): the server could not
  tell an allowed value from a forged one, so options are listed in the form;
- ``filepicker``, ``dynamiclist``, ``table``, ``documentPreview``: not supported yet;
- a rule that does not apply to its type (``min`` on a text field): the analyst would
  believe it enforced;
- regular expressions of a shape that can run away (see :mod:`forms.regex_guard`);
- anything past the bounds of :mod:`forms.formjs_limits`.

``defaultValue``, ``readonly``, ``layout``, ``appearance`` and ``properties`` are left to the
browser: a read-only field's submitted value is checked like any other, not compared with
what was shown.
"""

from __future__ import annotations

from typing import Any

from .formjs_document import FormError, fields, read
from .formjs_fields import Field
from .formjs_schema import json_schema
from .formjs_values import validate

__all__ = ["Field", "FormError", "check", "fields", "json_schema", "validate"]


def check(document: Any) -> list[str]:
    """The problems of a form-js document received from a stranger, in Chinese, each naming
    the component by its key, id or label; empty when the form may be deployed."""
    return read(document)[1]
