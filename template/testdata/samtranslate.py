"""Translates SAM templates with the installed aws-sam-translator, for the
differential test of package template. Prints {file: translated template}
as JSON; a template samtranslator rejects maps to {"error": message}."""
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import samtranslator  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class BundledPolicies:
    """SAM's own bundled map of AWS managed policy names (no AWS call)."""

    def load(self):
        path = os.path.join(os.path.dirname(samtranslator.__file__), "internal", "data", "aws_managed_policies.json")
        with open(path) as f:
            return json.load(f)["aws"]


out = {"version": samtranslator.__version__, "templates": {}}
for path in sys.argv[1:]:
    with open(path) as f:
        tpl = yaml_parse(f.read())
    try:
        out["templates"][os.path.basename(path)] = transform(tpl, {}, BundledPolicies())
    except Exception as e:  # reported per template
        out["templates"][os.path.basename(path)] = {"error": str(e)}
print(json.dumps(out, default=str))
