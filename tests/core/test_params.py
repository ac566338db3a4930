import pytest

from desktop.core.params import GenerationParams, ParamError, check_size, nearest_valid_side, parse_number


def test_defaults_are_valid_and_round_trip_through_dict():
    params = GenerationParams(prompt="a fox", loras=(("ink", 0.8),), extra=(("k", "v"),))
    assert GenerationParams.from_dict(params.to_dict()) == params


@pytest.mark.parametrize("width,height,needle", [
    (500, 512, "nearest valid: 504"),
    (32, 512, "nearest valid: 64"),
    (512, 8192, "nearest valid: 4096"),
    (4096, 4096, "pixels"),
])
def test_bad_sizes_are_refused_with_the_nearest_valid_value(width, height, needle):
    with pytest.raises(ParamError, match=needle):
        check_size(width, height)


def test_nearest_valid_side_snaps_to_multiples_of_eight_in_range():
    assert [nearest_valid_side(v) for v in (1, 63, 65, 68, 100, 10000)] == [64, 64, 64, 72, 104, 4096]


@pytest.mark.parametrize("field,value", [("steps", 0), ("steps", 151), ("guidance", -1), ("seed", -5),
                                         ("seed", 2**32), ("scheduler", "Heun++"), ("mode", "sketch"),
                                         ("strength", 0), ("batch_size", 17)])
def test_out_of_range_fields_are_refused_with_the_field_name(field, value):
    with pytest.raises(ParamError, match=field.split("_")[0]):
        GenerationParams(**{field: value})


def test_empty_prompt_is_allowed():
    assert GenerationParams(prompt="").prompt == ""


def test_parse_number_says_what_was_wrong():
    assert parse_number("steps", " 12 ") == 12
    with pytest.raises(ParamError, match="steps must be a whole number, got 'ten'"):
        parse_number("steps", "ten")
