"""The reference maps load, every row has a source, and a broken copy names file, row, field."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from edi_pipeline.errors import MapError
from edi_pipeline.maps import default_root, load_maps

MAPS = Path(__file__).resolve().parents[2] / "maps"


@pytest.fixture(scope="module")
def maps():
    return load_maps(MAPS)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "maps"
    shutil.copytree(MAPS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(root: Path) -> tuple[str, ...]:
    with pytest.raises(MapError) as caught:
        load_maps(root)
    return caught.value.problems


def test_default_root_is_the_checkout_maps_or_the_wheel_data():
    assert (default_root() / "drugs.csv").is_file()


# ------------------------------------------------------------------------------------- drugs


def test_drugs_resolve_brand_generic_biosimilar_and_hcpcs(maps):
    drugs = maps.drugs
    assert drugs.resolve("infliximab-dyyb").hcpcs == "Q5103"
    assert drugs.resolve("INFLECTRA").hcpcs == "Q5103"
    assert drugs.resolve("Remicade").hcpcs == "J1745"
    assert drugs.resolve("infliximab").hcpcs == "J1745"
    assert drugs.resolve("j3262").generic == "tocilizumab"
    assert drugs.resolve("  Synvisc-One ").hcpcs == "J7325"
    assert drugs.resolve("adalimumab-xyz") is None
    assert drugs.by_hcpcs("Q5123").reference_hcpcs == "J9312"
    assert drugs.by_hcpcs("Q5123").kind == "biosimilar"
    assert drugs.by_hcpcs("J9999") is None


def test_units_are_decimal_mass_or_none(maps):
    assert maps.drugs.by_hcpcs("J1745").unit_mg == Decimal("10")
    assert maps.drugs.by_hcpcs("J7328").unit_mg == Decimal("0.1")
    per_dose = maps.drugs.by_hcpcs("J7321")
    assert per_dose.unit_mg is None and per_dose.unit_basis == "dose"
    assert maps.drugs.by_hcpcs("J7050").unit_basis == "unknown"


def test_seed_errata_codes_are_not_what_the_seeds_said(maps):
    # E3/E4/E5: J3357 is ustekinumab, J0135 adalimumab, J2323 natalizumab; tocilizumab is J3262
    assert maps.drugs.by_hcpcs("J3357").generic == "ustekinumab"
    assert maps.drugs.by_hcpcs("J0135").generic == "adalimumab"
    assert maps.drugs.by_hcpcs("J2323").generic == "natalizumab"
    assert {p.hcpcs for p in maps.drugs.candidates("tocilizumab")} == {"J3262"}


def test_codes_are_date_effective(maps):
    before = maps.drugs.candidates("Depo-Medrol", on=date(2024, 3, 1))
    after = maps.drugs.candidates("Depo-Medrol", on=date(2024, 6, 1))
    assert {p.hcpcs for p in before} == {"J1020", "J1030", "J1040"}
    assert {p.hcpcs for p in after} == {"J1010"}
    assert maps.drugs.candidates("Tofidence", on=date(2024, 3, 31)) == ()


def test_candidates_narrow_by_route(maps):
    iv = maps.drugs.candidates("methylprednisolone", route="IV")
    assert {p.generic for p in iv} == {"methylprednisolone sodium succinate"}
    assert {p.hcpcs for p in maps.drugs.candidates("Stelara", route="SC")} == {"J3357"}


def test_container_is_a_property_of_the_package(maps):
    single = maps.drugs.package("0003-0293-05")
    multi5 = maps.drugs.package("00003029320")
    multi10 = maps.drugs.package("0003-0293-28")
    assert (single.container, multi5.container, multi10.container) == ("single", "multi", "multi")
    assert {single.hcpcs, multi5.hcpcs, multi10.hcpcs} == {"J3301"}
    assert maps.drugs.by_hcpcs("J3301").container_by_ndc


def test_package_ndc_forms(maps):
    assert maps.drugs.package("0069-0809-01").hcpcs == "Q5103"  # 4-4-2
    assert maps.drugs.package("55513-326-01").ndc_quantity == Decimal("50")  # 5-3-2
    assert maps.drugs.package("5551332601") is None  # ambiguous 10 digits: never guessed
    assert maps.drugs.package("garbage") is None


def test_every_drug_row_and_package_has_source(maps):
    assert all(p.source.strip() for p in maps.drugs.products)
    assert all(p.source.strip() for p in maps.drugs.packages)


def test_broken_drug_row_names_file_row_field(copy: Path):
    edit(
        copy / "drugs.csv",
        "Q5103,infliximab-dyyb,Inflectra,,10,",
        "Q5103,infliximab-dyyb,Inflectra,,ten,",
    )
    assert any(p.startswith("drugs.csv: row 3: field unit_mg:") for p in problems_of(copy)), (
        problems_of(copy)
    )


def test_biosimilar_needs_a_reference_product(copy: Path):
    edit(
        copy / "drugs.csv",
        "biosimilar,J1745,IV,yes,no,100,2018-04-01",
        "biosimilar,J9999,IV,yes,no,100,2018-04-01",
    )
    found = problems_of(copy)
    assert any("drugs.csv: row 3: field reference_hcpcs: J9999" in p for p in found), found


def test_broken_package_names_file_row_field(copy: Path):
    edit(copy / "drug_packages.csv", "200,multi,ML,5,", "200,multiple,ML,5,")
    found = problems_of(copy)
    assert any(p.startswith("drug_packages.csv: row 18: field container:") for p in found), found


def test_package_of_unknown_product_is_an_error(copy: Path):
    edit(copy / "drug_packages.csv", "55513071001,J0897,", "55513071001,J0898,")
    found = problems_of(copy)
    assert any("drug_packages.csv: row 20: field hcpcs: J0898 is not a product" in p for p in found)


def test_unknown_column_is_an_error(copy: Path):
    edit(copy / "drugs.csv", "hcpcs,generic,", "hcpcs,generik,")
    found = problems_of(copy)
    assert any(p.startswith("drugs.csv: header: field generik: unknown column") for p in found)


def test_missing_source_is_an_error(copy: Path):
    path = copy / "places_of_service.csv"
    lines = path.read_text().splitlines()
    lines[1] = "11,Office,"
    path.write_text("\n".join(lines) + "\n")
    assert "places_of_service.csv: row 2: field source: is required" in problems_of(copy)


# ------------------------------------------------------------------------------------- joints


def test_joints_cover_the_encounter_format_names(maps):
    names = [
        "knee",
        "shoulder",
        "hip",
        "wrist",
        "elbow",
        "ankle",
        "olecranon_bursa",
        "subacromial_bursa",
        "mcp",
        "pip",
        "dip",
        "mtp",
        "finger",
        "toe",
        "tmj",
        "ac_joint",
    ]
    for name in names:
        assert name in maps.joints, name
    assert maps.joints["knee"].size_class == "major"
    assert maps.joints["wrist"].size_class == "intermediate"
    assert maps.joints["mcp"].size_class == "small"
    assert maps.joints["pip"].digit == "finger"
    assert maps.joints["mtp"].digit == "toe"
    assert maps.joints["knee"].digit is None and maps.joints["knee"].lateral
    assert all(j.source for j in maps.joints.values())
    with pytest.raises(KeyError, match=r"not in maps/joints\.csv"):
        maps.joints["spleen"]


def test_broken_joint_names_file_row_field(copy: Path):
    edit(copy / "joints.csv", "knee,major,", "knee,huge,")
    found = problems_of(copy)
    assert any(p.startswith("joints.csv: row 2: field size_class: must be one of") for p in found)


def test_duplicate_joint_is_an_error(copy: Path):
    with (copy / "joints.csv").open("a") as f:
        f.write('knee,major,yes,,"again"\n')
    assert any(
        "joints.csv: row 23: field name: duplicate joint 'knee'" in p for p in problems_of(copy)
    )


# ---------------------------------------------------------------------------- place of service


def test_places_of_service(maps):
    assert maps.places_of_service["11"].name == "Office"
    assert set(maps.places_of_service) >= {"11", "12", "19", "22"}
    assert all(p.source for p in maps.places_of_service.values())


def test_broken_place_of_service(copy: Path):
    edit(copy / "places_of_service.csv", "19,Off", "1X,Off")
    assert any(p.startswith("places_of_service.csv: row 4: field code:") for p in problems_of(copy))


# ---------------------------------------------------------------------------------------- fees


def test_fees_per_unit_times_units(maps):
    assert maps.fees.charge("J1745", (), Decimal(38)) == maps.fees.charge_per_unit("J1745") * 38
    plain = maps.fees.charge_per_unit("20610")
    assert maps.fees.charge_per_unit("20610", ("RT",)) == plain
    assert maps.fees.charge_per_unit("20610", ("50",)) == plain * 2
    assert maps.fees.charge("XXXXX", (), Decimal(1)) is None
    assert all(f.source for f in maps.fees.fees)
    assert all("charge master" in f.source for f in maps.fees.fees)


def test_every_drug_and_coding_code_has_a_fee(maps):
    for product in maps.drugs.products:
        if not product.hydration_fluid:
            assert product.hcpcs in maps.fees, product.hcpcs
    for admin in maps.administration:
        assert admin.code in maps.fees, admin.code
    for proc in maps.joint_procedures.values():
        assert proc.code in maps.fees
        assert proc.guidance_code is None or proc.guidance_code in maps.fees


def test_broken_fee(copy: Path):
    edit(copy / "fee_schedule.csv", "96365,,350.00", "96365,,350.005")
    assert any(
        p.startswith("fee_schedule.csv: row 2: field charge_per_unit:") for p in problems_of(copy)
    )


# -------------------------------------------------------------------------------------- payers


def test_payers(maps):
    assert set(maps.payers) == {"medicare", "aetna", "uhc", "cigna", "bcbs", "medicaid"}
    medicare = maps.payers["medicare"]
    assert medicare.claim_filing_indicator == "MB"
    assert medicare.bilateral == "modifier_50"
    assert medicare.jz_required_on(date(2023, 7, 1))
    assert not medicare.jz_required_on(date(2023, 6, 30))
    assert maps.payers["medicaid"].ndc_required
    assert maps.payers["bcbs"].claim_filing_indicator == "BL"
    for payer in maps.payers.values():
        assert payer.source
        assert set(payer.sources) >= {"require_jz_from", "bilateral", "complex_administration"}
        assert "20610" in payer.laterality_codes


def test_payer_rule_tables_are_accepted_and_ignored(copy: Path):
    with (copy / "payers" / "aetna.toml").open("a") as f:
        f.write('\n[[rule]]\nid = "x"\nkind = "whatever"\n')
    # payers itself must not complain about [[rule]]; other tables may validate it
    found = tuple(
        p for p in _problems_or_none(copy) if p.startswith("payers/aetna.toml: top level")
    )
    assert found == ()


def _problems_or_none(root: Path) -> tuple[str, ...]:
    try:
        load_maps(root)
    except MapError as exc:
        return exc.problems
    return ()


def test_broken_payer_names_file_and_field(copy: Path):
    edit(copy / "payers" / "uhc.toml", 'bilateral = "rt_lt"', 'bilateral = "both"')
    found = problems_of(copy)
    assert any(
        p.startswith("payers/uhc.toml: top level: field bilateral: must be one of") for p in found
    )


def test_unknown_payer_key_is_an_error(copy: Path):
    edit(
        copy / "payers" / "cigna.toml",
        "ndc_required = true",
        "ndc_required = true\nndc_requried = true",
    )
    found = problems_of(copy)
    assert any(
        "payers/cigna.toml: top level: field ndc_requried: unknown field" in p for p in found
    )


def test_payer_flag_without_source_is_an_error(copy: Path):
    path = copy / "payers" / "bcbs.toml"
    text = path.read_text()
    text = "\n".join(
        line for line in text.splitlines() if not line.startswith('bilateral = "procedures')
    )
    path.write_text(text + "\n")
    found = problems_of(copy)
    assert (
        "payers/bcbs.toml: sources: field bilateral: is required: every flag carries its source"
        in found
    )


def test_payer_key_must_match_file_name(copy: Path):
    edit(copy / "payers" / "medicaid.toml", 'key = "medicaid"', 'key = "medicare"')
    assert any(
        p.startswith("payers/medicaid.toml: top level: field key: must equal")
        for p in problems_of(copy)
    )


# ------------------------------------------------------------------------------- coding rules


def test_administration_codes(maps):
    assert maps.administration.get("therapeutic", "initial").code == "96365"
    assert maps.administration.get("therapeutic", "initial").min_minutes == 16
    assert maps.administration.get("complex", "additional_hour").code == "96415"
    assert all(a.source for a in maps.administration)


def test_broken_administration_table(copy: Path):
    edit(
        copy / "administration.csv",
        "therapeutic,sequential,96367,16,",
        "therapeutic,sequential,96367,,",
    )
    found = problems_of(copy)
    assert (
        "administration.csv: row 4: field min_minutes: is required for a sequential service"
        in found
    )
    assert "administration.csv: table: field service: no row for therapeutic sequential" in found


def test_joint_procedures_never_pair_ultrasound_with_a_guidance_code(maps, copy: Path):
    assert maps.joint_procedures["major/ultrasound"].code == "20611"
    assert maps.joint_procedures["major/ultrasound"].guidance_code is None
    assert maps.joint_procedures["small/fluoroscopy"].guidance_code == "77002"
    edit(copy / "joint_procedures.csv", "major,ultrasound,20611,,", "major,ultrasound,20611,76942,")
    found = problems_of(copy)
    assert any(p.startswith("joint_procedures.csv: row 9: field guidance_code:") for p in found)


def test_modifiers(maps, copy: Path):
    assert maps.modifiers.for_role("waste") == "JW"
    assert maps.modifiers.digits["FA"].side == "left"
    assert maps.modifiers.digits["T5"].digit == "toe"
    assert len(maps.modifiers.digits) == 20
    assert all(m.source for m in maps.modifiers.rows)
    edit(copy / "modifiers.csv", "JZ,no_waste", "JZ,no_wastes")
    found = problems_of(copy)
    assert any(p.startswith("modifiers.csv: row 7: field role:") for p in found)
    assert "modifiers.csv: table: field role: no modifier for role no_waste" in found
