"""Gradescope's ``results.json`` schema, for the tests of the Gradescope zip."""

import jsonschema

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}

# Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/),
# with every field our grader promises made required.
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "number": {"type": "string"},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "visibility": VISIBILITY,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def validate_results(data: dict) -> None:
    """The schema, and the arithmetic Gradescope relies on."""
    jsonschema.validate(data, RESULTS_SCHEMA)
    for test in data["tests"]:
        assert test["score"] <= test["max_score"] + 1e-9, test
    if data["tests"]:  # each test's score is rounded to 4 decimals, the total is not
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) <= 1e-4 * len(data["tests"])
