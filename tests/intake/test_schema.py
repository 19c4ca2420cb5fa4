"""The published schema is the contract: it is valid draft 2020-12, the command prints it, and
the compiled structural check agrees with the reference ``jsonschema`` validator."""

from __future__ import annotations

import json
import string
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_pipeline.cli import cli
from edi_pipeline.intake import schema_text
from edi_pipeline.intake.records import DECODER, dump_json
from edi_pipeline.intake.rules import RULES, RuleContext, check_rules
from edi_pipeline.intake.structure import (
    CodeGen,
    SchemaCompileError,
    check_structure,
    compiled,
    generated_source,
    schema,
)
from edi_pipeline.maps import load_maps
from tests.conftest import ROOT
from tests.intake.helpers import del_path, make_record, set_path
from tests.intake.test_properties import PATHS

VALIDATOR = jsonschema.Draft202012Validator(schema())
CTX = RuleContext(load_maps())


def test_schema_is_valid_draft_2020_12_and_shipped_in_the_package():
    jsonschema.Draft202012Validator.check_schema(schema())
    packaged = ROOT / "edi_pipeline" / "schemas" / "encounter.schema.json"
    assert schema_text() == packaged.read_text(encoding="utf-8")


def test_schema_command_prints_the_schema():
    result = CliRunner().invoke(cli, ["schema", "encounter"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == schema()
    assert CliRunner().invoke(cli, ["schema", "nothing"]).exit_code == 2


def test_the_sample_records_are_valid_against_the_schema():
    for path in (ROOT / "fixtures" / "encounters").glob("encounters*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for record in doc["encounters"] if isinstance(doc, dict) else doc:
            assert VALIDATOR.is_valid(record), list(VALIDATOR.iter_errors(record))[:1]


def test_every_delegated_constraint_names_an_existing_rule():
    _, enforced = compiled()
    assert enforced == {"weight_required"}
    assert enforced <= set(RULES)


def test_the_compiler_refuses_what_it_does_not_implement():
    with pytest.raises(SchemaCompileError, match="unsupported"):
        CodeGen({"type": "string", "format": "date"}).build()
    with pytest.raises(SchemaCompileError, match="additionalProperties"):
        CodeGen({"type": "object", "properties": {}, "additionalProperties": False}).build()
    with pytest.raises(SchemaCompileError, match="oneOf"):
        CodeGen({"oneOf": [{"type": "string"}, {"type": "number"}]}).build()
    assert "def _check_root" in generated_source()


def _structurally_valid(record: Any) -> bool:
    _, issues = check_structure(record)
    if any(i[3] == "error" for i in issues):
        return False
    if type(record) is dict:  # constraints the schema states and a named rule checks
        return not any(i[1] == "weight_required" for i in check_rules(record, CTX))
    return True


# Values without line breaks: Python's jsonschema lets "$" match before a final newline,
# the compiled check follows ECMA-262 (end of input); see the next test.
texts = st.text(alphabet=string.printable.replace("\n", "").replace("\r", ""), max_size=12)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 2000)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10, max_value=2000)
    | texts
    | st.sampled_from(
        [
            "2025-03-04",
            "2025-02-30",
            "09:00",
            "IV",
            "knee",
            "M05.79",
            "W19.XXXA",
            "F6",
            "self",
            "child",
            "0069-0809-01",
            "J1745",
            "1234567893",
            "53704",
            "WI",
            "99214",
            "7",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["size_mg", "count", "drug", "route", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(PATHS), values | st.just(KeyError)), min_size=0, max_size=4)
)
def test_compiled_check_agrees_with_jsonschema(changes):
    record = make_record()
    for path, value in changes:
        try:
            if value is KeyError:
                del_path(record, path)
            else:
                set_path(record, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # a parent was replaced by an earlier change
    record = DECODER.decode(dump_json(record))
    assert _structurally_valid(record) == VALIDATOR.is_valid(record), (
        list(VALIDATOR.iter_errors(record))[:2],
        check_structure(record)[1][:3],
    )


def test_trailing_newline_follows_ecma_262():
    record = set_path(make_record(), "encounter_id", "T-1\n")
    assert VALIDATOR.is_valid(record)  # the Python package's re.search with "$"
    assert not _structurally_valid(record)  # ECMA-262: "$" is the end of the input
